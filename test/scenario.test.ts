import path from 'node:path';
import { loadScenario } from '../src/scenario/load';
import { problemsOf } from './support/scenario-problems';

const seedScenario = path.resolve(__dirname, '../scenarios/seed.yaml');

describe('scenario files', () => {
  it('loads the seed scenario with the three pairs of the reference run', async () => {
    const scenario = await loadScenario(seedScenario);

    expect(scenario.policy).toMatchObject({ maxRounds: 3, language: 'zh', approval: 'required', onRoundLimit: 'end' });
    expect(scenario.pairs).toEqual([
      { client: 'ShopifyPlus Inc', vendor: 'Nebula AI' },
      { client: 'FastTrack Logistics', vendor: 'SmartThings Dev' },
      { client: 'SecurePay Bank', vendor: 'Chain Reactors' },
    ]);
  });

  it('names the file, the path and the expectation for every problem, one line each', () => {
    const problems = problemsOf(`
name: Bad Name
policy: { maxRounds: 0 }
clients:
  - name: Acme
    project: p
    brief: b
    deadline: { weeks: 10, text: soon }
    needs: [{ topic: astrology, ask: stars }]
vendors:
  - { name: V, profile: p, baseWeeks: 8 }
pairs:
  - { client: Acme, vendor: Nobody }
`);

    expect(problems).toEqual([
      'bad.yaml: name: must be lowercase letters, digits and dashes',
      'bad.yaml: policy.maxRounds: Too small: expected number to be >=1',
      expect.stringMatching(
        /^bad\.yaml: clients\[0\]\.needs\[0\]\.topic: Invalid option: expected one of "performance"/,
      ),
      'bad.yaml: pairs[0].vendor: names no vendor: "Nobody"',
    ]);
  });

  it('reports broken YAML with its line number', () => {
    expect(problemsOf('name: x\nclients: [\n')).toEqual([expect.stringMatching(/^bad\.yaml:\d+: invalid YAML: /)]);
  });

  it('reports a file that is not YAML in a few lines, not one per line of the file', () => {
    const problems = problemsOf(Array.from({ length: 50 }, (_, i) => `{ broken ${i}: [`).join('\n'));

    expect(problems.length).toBeLessThanOrEqual(6);
    expect(problems.at(-1)).toMatch(/^bad\.yaml: \d+ more YAML errors; is this a scenario file\?$/);
    expect(problems.every((p) => !p.endsWith(':'))).toBe(true);
  });

  it('rejects fields it does not know, so a typo is not silently ignored', () => {
    const problems = problemsOf(`
name: x
policy: { maxRound: 3 }
clients: [{ name: A, project: p, brief: b, deadline: { weeks: 1, text: t }, needs: [{ topic: cost, ask: a }] }]
vendors: [{ name: V, profile: p, baseWeeks: 1 }]
pairs: [{ client: A, vendor: V }]
`);
    expect(problems).toEqual([expect.stringMatching(/^bad\.yaml: policy: Unrecognized key: "maxRound"/)]);
  });

  it('says so when the file does not exist', async () => {
    await expect(loadScenario('missing.yaml')).rejects.toThrow('missing.yaml: cannot read the scenario: no such file');
  });
});
