/**
 * Finding (or building) the Temporal CLI, whose `server start-dev` is the Temporal server Parley runs locally.
 *
 * Prebuilt binaries cannot be downloaded everywhere Parley runs, but the Go module proxy can be reached, so the last
 * resort is `go install` into a per-user cache, which later runs reuse.
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** The CLI version Parley builds; its dev server is the one the project is tested against. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** The Go package that `go install` builds into the `temporal` binary. */
export const TEMPORAL_CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';

/** Why no Temporal CLI could be used; `attempts` says what was tried and how each failed. */
export class TemporalCliNotFoundError extends Error {
  /** Stable, for callers and tests that branch on the failure. */
  readonly code = 'TEMPORAL_CLI_NOT_FOUND';

  constructor(
    message: string,
    readonly attempts: readonly string[],
  ) {
    super(message);
    this.name = 'TemporalCliNotFoundError';
  }
}

export interface FindTemporalCliOptions {
  /** Environment to read TEMPORAL_CLI_PATH, PATH, XDG_CACHE_HOME and HOME from; `process.env` by default. */
  env?: NodeJS.ProcessEnv;
  /** Whether to build the CLI with Go as the last resort; true by default. */
  build?: boolean;
  /** Where progress notices go; one line each, stderr by default. */
  log?: (line: string) => void;
}

/** The folder of the cached build: `${XDG_CACHE_HOME:-~/.cache}/parley/bin`. */
export function temporalCliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME?.trim() || path.join(env.HOME?.trim() || os.homedir(), '.cache');
  return path.join(cacheHome, 'parley', 'bin');
}

/**
 * The path of a working Temporal CLI, looking in this order: `$TEMPORAL_CLI_PATH`, a `temporal` on PATH, the cached
 * build, and finally a fresh `go install` into the cache. Each candidate must answer `--version` to be chosen.
 *
 * @throws TemporalCliNotFoundError when none of them works.
 */
export async function findTemporalCli(options: FindTemporalCliOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const attempts: string[] = [];

  const fromEnv = env.TEMPORAL_CLI_PATH?.trim();
  if (fromEnv) {
    const problem = await whyNotTemporalCli(fromEnv, env);
    if (!problem) return fromEnv;
    attempts.push(`TEMPORAL_CLI_PATH=${fromEnv}: ${problem}`);
    // A broken explicit setting should not silently lose to another binary: say so, then keep looking.
    log(`parley: TEMPORAL_CLI_PATH=${fromEnv} is not a working Temporal CLI (${problem}); looking elsewhere`);
  }

  const onPath = await findOnPath('temporal', env);
  if (onPath) {
    const problem = await whyNotTemporalCli(onPath, env);
    if (!problem) return onPath;
    attempts.push(`${onPath} (on PATH): ${problem}`);
  } else {
    attempts.push('no `temporal` on PATH');
  }

  const cacheDir = temporalCliCacheDir(env);
  const cached = path.join(cacheDir, 'temporal');
  const cachedProblem = await whyNotTemporalCli(cached, env);
  if (!cachedProblem) return cached;
  attempts.push(`${cached}: ${cachedProblem}`);

  if (options.build !== false) {
    const go = await findOnPath('go', env);
    if (go) {
      const built = await buildWithGo(go, cacheDir, env, log);
      if (built.ok) {
        const problem = await whyNotTemporalCli(cached, env);
        if (!problem) return cached;
        attempts.push(`${cached} after go install: ${problem}`);
      } else {
        attempts.push(`go install failed: ${built.reason}`);
      }
    } else {
      attempts.push('no `go` on PATH to build it with');
    }
  }

  throw new TemporalCliNotFoundError(
    'No Temporal CLI found: set TEMPORAL_CLI_PATH to a `temporal` binary, put `temporal` on PATH, ' +
      `or install Go so Parley can build it (tried: ${attempts.join('; ')})`,
    attempts,
  );
}

/** Undefined when `bin --version` answers like the Temporal CLI, else a short reason why it does not. */
async function whyNotTemporalCli(bin: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const info = await stat(bin);
    if (!info.isFile()) return 'not a file';
  } catch {
    return 'does not exist';
  }
  return new Promise((resolve) => {
    // The binary is ~250 MB; a cold page cache makes its first start slow, hence the generous timeout.
    execFile(bin, ['--version'], { env, timeout: 30_000, windowsHide: true }, (error, stdout) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        resolve(typeof code === 'string' ? `cannot run it (${code})` : `\`--version\` failed (${firstLine(error)})`);
      } else if (!/temporal version/i.test(stdout)) {
        resolve(`\`--version\` did not print a Temporal CLI version (${JSON.stringify(stdout.trim().slice(0, 80))})`);
      } else {
        resolve(undefined);
      }
    });
  });
}

/** The first executable file called `name` in the PATH of `env`, like a shell would find it. */
async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // Not here; keep walking PATH.
    }
  }
  return undefined;
}

type BuildResult = { ok: true } | { ok: false; reason: string };

/** `go install` the CLI into `cacheDir`; go's output is kept quiet unless the build fails. */
async function buildWithGo(
  go: string,
  cacheDir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<BuildResult> {
  await mkdir(cacheDir, { recursive: true });
  const started = Date.now();
  log(
    `parley: building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${cacheDir} ` +
      '(the first build takes several minutes; later runs reuse it)...',
  );
  const output: string[] = [];
  const result = await new Promise<BuildResult>((resolve) => {
    // The temp dir as cwd keeps a go.mod or go.work in the user's folder from influencing the build.
    const child = spawn(go, ['install', `${TEMPORAL_CLI_PACKAGE}@${TEMPORAL_CLI_VERSION}`], {
      cwd: os.tmpdir(),
      env: { ...env, GOBIN: cacheDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => resolve({ ok: false, reason: firstLine(error) }));
    child.on('close', (code, signal) =>
      resolve(code === 0 ? { ok: true } : { ok: false, reason: signal ? `killed by ${signal}` : `exit code ${code}` }),
    );
  });
  if (result.ok) {
    log(`parley: built the Temporal CLI in ${Math.round((Date.now() - started) / 1000)}s`);
  } else {
    process.stderr.write(output.join(''));
  }
  return result;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() ?? message;
}
