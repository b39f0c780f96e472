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
      // A file that is not YAML at all yields an error per line; the first few say enough.
      [
        ...document.errors
          .slice(0, MAX_YAML_ERRORS)
          .map((e) => `${file}:${e.linePos?.[0].line ?? '?'}: invalid YAML: ${firstLine(e.message)}`),
        ...(document.errors.length > MAX_YAML_ERRORS
          ? [`${file}: ${document.errors.length - MAX_YAML_ERRORS} more YAML errors; is this a scenario file?`]
          : []),
      ],
    );
  }
  let raw: unknown;
  try {
    raw = document.toJS();
  } catch (err) {
    // The parser refuses documents it cannot expand safely, such as aliases nested into a resource bomb.
    throw new ScenarioError(file, [`${file}: invalid YAML: ${firstLine((err as Error).message)}`]);
  }
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

const MAX_YAML_ERRORS = 5;

/** The first line of a parser message, without the colon that introduces its code excerpt, and not too long. */
function firstLine(message: string): string {
  const line = message.split('\n')[0].replace(/:\s*$/, '');
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/** `clients[0].needs[1].topic`, the way a person points into a YAML file. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}
