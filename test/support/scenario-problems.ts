import { parseScenario, ScenarioError } from '../../src/scenario/load';

/** Every problem Parley finds in a scenario's YAML text, one line each; fails the test if the scenario is accepted. */
export function problemsOf(text: string): string[] {
  try {
    parseScenario(text, 'bad.yaml');
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems;
    throw err;
  }
  throw new Error('the scenario was accepted');
}
