import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import { scenarioSchema, type Scenario } from './schema';

/** A scenario file that cannot be used: one line per problem, each naming the file and the path inside it. */
export class ScenarioError extends Error {
  readonly code = 'SCENARIO_INVALID';

  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(problems.join('\n'));
    this.name = 'ScenarioError';
  }
}

/** Reads, parses and validates a scenario file; throws a `ScenarioError` listing every problem found. */
export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ScenarioError(file, [`${file}: cannot read the scenario: ${reason}`]);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file = '<scenario>'): Scenario {
  const document = parseDocument(text, { prettyErrors: false });
  if (document.errors.length > 0) {
    throw new ScenarioError(
      file,
      document.errors.map((e) => `${file}:${e.linePos?.[0].line ?? '?'}: invalid YAML: ${e.message.split('\n')[0]}`),
    );
  }
  const result = scenarioSchema.safeParse(document.toJS());
  if (!result.success) throw new ScenarioError(file, describeIssues(file, result.error));
  return result.data;
}

function describeIssues(file: string, error: ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(top level)';
    return `${file}: ${path}: ${issue.message}`;
  });
}
