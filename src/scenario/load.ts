import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { crossReferenceIssues, scenarioSchema, type Scenario } from './schema';

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
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new ScenarioError(
      file,
      document.errors.map((e) => `${file}:${e.linePos?.[0].line ?? '?'}: invalid YAML: ${e.message.split('\n')[0]}`),
    );
  }
  const raw: unknown = document.toJS();
  const result = scenarioSchema.safeParse(raw);
  const issues = [...(result.error?.issues ?? []), ...crossReferenceIssues(raw)];
  if (issues.length > 0 || !result.success) {
    throw new ScenarioError(
      file,
      issues.map((issue) => `${file}: ${formatPath(issue.path)}: ${issue.message}`),
    );
  }
  return result.data;
}

/** `clients[0].needs[1].topic`, the way a person points into a YAML file. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}
