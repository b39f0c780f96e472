/**
 * Running `temporal server start-dev` as a child process: the local Temporal server for `parley server`, `parley demo`
 * and the test suite, with Parley's search attributes registered.
 */
import { Connection } from '@temporalio/client';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { PARLEY_SEARCH_ATTRIBUTES, type SearchAttributeDefinition } from './search-attributes';
import { indexedValueType, typeName } from './search-attribute-types';
import { findTemporalCli } from './temporal-cli';

/** Where `parley server` and `parley demo` keep the dev server's state unless told otherwise. */
export const DEFAULT_DB_FILE = path.join('.parley', 'temporal.db');

/** The namespace the dev server creates, and in which Parley registers its search attributes. */
const NAMESPACE = 'default';

export type DevServerErrorCode =
  /** The executable could not be started at all (missing, not executable). */
  | 'DEV_SERVER_SPAWN_FAILED'
  /** The server process ended before its frontend answered, e.g. because a port was taken. */
  | 'DEV_SERVER_EXITED'
  /** The server kept running but its frontend did not answer in time. */
  | 'DEV_SERVER_TIMEOUT'
  /** A Parley search attribute exists on the server with another type, so upserts would fail. */
  | 'DEV_SERVER_SEARCH_ATTRIBUTE_CONFLICT';

/** A dev server that could not be started; `output` holds the last lines the server printed. */
export class DevServerError extends Error {
  constructor(
    readonly code: DevServerErrorCode,
    message: string,
    readonly output: readonly string[] = [],
  ) {
    super(output.length > 0 ? `${message}\n${output.map((line) => `  | ${line}`).join('\n')}` : message);
    this.name = 'DevServerError';
  }
}

export interface DevServerOptions {
  /** Frontend gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted. */
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts (its folder is created); null keeps everything in memory. */
  dbFile?: string | null;
  /** Address the frontend and the UI bind to; 127.0.0.1 by default, so nothing is exposed beyond this machine. */
  ip?: string;
  /** File that receives everything the server prints (appended); by default only the last lines are kept. */
  logFile?: string;
  /** The Temporal CLI to run; found (or built) with `findTemporalCli` when omitted. */
  executable?: string;
  /** How long to wait for the frontend to answer; 60 s by default (a cold 250 MB binary can be slow to start). */
  readyTimeoutMs?: number;
  /** Search attributes to register; Parley's by default. */
  searchAttributes?: readonly SearchAttributeDefinition[];
  /** Codec server the Web UI sends payloads to for decoding (`--ui-codec-endpoint`), e.g. `http://localhost:8888`. */
  uiCodecEndpoint?: string;
}

/** How the server process ended. */
export interface DevServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running dev server. */
export interface DevServer {
  /** `host:port` of the frontend, for `Connection.connect` and `TEMPORAL_ADDRESS`. */
  address: string;
  /** Base URL of the Web UI. */
  uiUrl: string;
  port: number;
  uiPort: number;
  /** Absolute path of the SQLite file, or null when in memory. */
  dbFile: string | null;
  /** The server's process id. */
  pid: number;
  /** Settles when the server process ends, whether through `stop()` or not. */
  exited: Promise<DevServerExit>;
  /** The last lines the server printed, for diagnosing an unexpected exit. */
  recentOutput(): string[];
  /** SIGTERM, then SIGKILL if it is still running a few seconds later; resolves once the process has exited. */
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;
const OUTPUT_LINES_KEPT = 200;
const OUTPUT_LINES_REPORTED = 20;
const PORT_ATTEMPTS = 3;

/**
 * Start `temporal server start-dev` and resolve once its frontend answers and Parley's search attributes exist.
 *
 * @throws DevServerError when the server exits early, does not answer in time, or has conflicting search attributes.
 * @throws TemporalCliNotFoundError when no executable is given and none can be found or built.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const executable = options.executable ?? (await findTemporalCli());
  const dbFile = options.dbFile === null ? null : path.resolve(options.dbFile ?? DEFAULT_DB_FILE);
  if (dbFile) await mkdir(path.dirname(dbFile), { recursive: true });
  if (options.logFile) await mkdir(path.dirname(path.resolve(options.logFile)), { recursive: true });

  // Ports we pick ourselves can be taken by someone else before the server binds them; picking again is then the
  // fix. A port the caller chose is theirs to change, so a clash on it fails at once.
  const chosenPorts = [options.port, options.uiPort].filter((port): port is number => port !== undefined);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(executable, dbFile, options);
    } catch (error) {
      const clash =
        error instanceof DevServerError && error.code === 'DEV_SERVER_EXITED' ? portClash(error.output) : [];
      const retry =
        attempt < PORT_ATTEMPTS &&
        clash.length > 0 &&
        !clash.some((line) => chosenPorts.some((port) => new RegExp(`:${port}(?!\\d)`).test(line)));
      if (!retry) throw error;
    }
  }
}

/** The lines of server output that report a port already in use. */
function portClash(output: readonly string[]): string[] {
  return output.filter((line) => /address already in use/i.test(line));
}

async function startOnce(executable: string, dbFile: string | null, options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort(ip));
  const uiPort = options.uiPort ?? (await freePort(ip, port));
  const connectHost = hostForClients(ip);
  const address = `${connectHost}:${port}`;
  const uiUrl = `http://${connectHost}:${uiPort}`;
  const searchAttributes = options.searchAttributes ?? PARLEY_SEARCH_ATTRIBUTES;

  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    ...(dbFile ? ['--db-filename', dbFile] : []),
    ...searchAttributes.flatMap((attribute) => ['--search-attribute', `${attribute.name}=${attribute.type}`]),
    ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
    // A worker that completes a workflow task can take the activity it schedules at once, saving a round trip
    // through the server per model call (measured by the benchmark: a no-op activity from 102 to 52 ms).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    '--log-level',
    'warn',
  ];

  const logStream = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const output = new RecentLines(OUTPUT_LINES_KEPT);
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(executable, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      output.push(chunk);
      logStream?.write(chunk);
    });
  }

  let spawnError: Error | undefined;
  const exited = new Promise<DevServerExit>((resolve) => {
    child.on('error', (error) => {
      // 'error' without 'close' means the process never started.
      spawnError = error;
      if (child.pid === undefined) resolve({ code: null, signal: null });
    });
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  let running = true;
  liveServers.add(child);
  void exited.then(() => {
    running = false;
    liveServers.delete(child);
    logStream?.end();
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!running) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      try {
        await exited;
      } finally {
        clearTimeout(killer);
      }
    })();
    return stopping;
  };

  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const outcome = await Promise.race([
    waitUntilReady(address, searchAttributes, readyTimeoutMs, () => running).then((result) => ({
      kind: 'ready' as const,
      result,
    })),
    exited.then((exit) => ({ kind: 'exited' as const, exit })),
  ]);
  if (outcome.kind === 'exited') {
    if (spawnError) {
      throw new DevServerError('DEV_SERVER_SPAWN_FAILED', `Could not run ${executable}: ${spawnError.message}`);
    }
    throw new DevServerError(
      'DEV_SERVER_EXITED',
      `Temporal dev server exited (${describeExit(outcome.exit)}) before it answered on ${address}; its last output:`,
      output.lines().slice(-OUTPUT_LINES_REPORTED),
    );
  }
  if (outcome.result !== 'ready') {
    await stop();
    const error =
      outcome.result === 'timeout'
        ? new DevServerError(
            'DEV_SERVER_TIMEOUT',
            `Temporal dev server did not answer on ${address} within ${Math.round(readyTimeoutMs / 1000)}s; its last output:`,
            output.lines().slice(-OUTPUT_LINES_REPORTED),
          )
        : outcome.result;
    throw error;
  }

  return {
    address,
    uiUrl,
    port,
    uiPort,
    dbFile,
    pid: child.pid as number,
    exited,
    recentOutput: () => output.lines(),
    stop,
  };
}

/**
 * Whether a Temporal frontend answers plaintext gRPC (as a local dev server does) at `address` within `timeoutMs`
 * (2 s by default). Never throws.
 */
export async function isTemporalReachable(address: string, timeoutMs = 2_000): Promise<boolean> {
  if (!(await answersHttp2(address, timeoutMs))) return false;
  const connection = Connection.lazy({ address, connectTimeout: timeoutMs });
  try {
    await connection.ensureConnected();
    return true;
  } catch {
    return false;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/**
 * Poll until the frontend serves the namespace, then make sure every search attribute exists. An existing SQLite
 * file only gets the attributes it was created with (the dev server registers `--search-attribute` only when it
 * creates the namespace), so attributes added to Parley later are registered here.
 */
async function waitUntilReady(
  address: string,
  searchAttributes: readonly SearchAttributeDefinition[],
  timeoutMs: number,
  serverRunning: () => boolean,
): Promise<'ready' | 'timeout' | DevServerError> {
  const deadline = Date.now() + timeoutMs;
  // Once the process is gone the caller reports its exit; polling on would only hold a connection open.
  while (Date.now() < deadline && serverRunning()) {
    // A gRPC channel that was refused backs off for a second before it retries, so wait for an HTTP/2 handshake
    // first, then use a fresh channel per attempt.
    if (!(await answersHttp2(address))) {
      await sleep(50);
      continue;
    }
    const connection = Connection.lazy({
      address,
      connectTimeout: Math.min(2_000, Math.max(deadline - Date.now(), 1)),
    });
    try {
      await connection.ensureConnected();
      await connection.withDeadline(deadline, () =>
        connection.workflowService.describeNamespace({ namespace: NAMESPACE }),
      );
      return await registerMissingSearchAttributes(connection, searchAttributes, deadline);
    } catch (error) {
      if (error instanceof DevServerError) return error;
      await sleep(100);
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
  return 'timeout';
}

async function registerMissingSearchAttributes(
  connection: Connection,
  searchAttributes: readonly SearchAttributeDefinition[],
  deadline: number,
): Promise<'ready'> {
  const existing = await connection.withDeadline(deadline, () =>
    connection.operatorService.listSearchAttributes({ namespace: NAMESPACE }),
  );
  const custom = existing.customAttributes ?? {};
  const missing: Record<string, number> = {};
  for (const attribute of searchAttributes) {
    const wanted = indexedValueType(attribute.type);
    const actual = custom[attribute.name] as number | undefined;
    if (actual === undefined) {
      missing[attribute.name] = wanted;
    } else if (actual !== wanted) {
      throw new DevServerError(
        'DEV_SERVER_SEARCH_ATTRIBUTE_CONFLICT',
        `Search attribute ${attribute.name} is a ${typeName(actual)} on this server but Parley needs a ${attribute.type}; ` +
          'start the server on a new database file',
      );
    }
  }
  if (Object.keys(missing).length > 0) {
    await connection.withDeadline(deadline, () =>
      connection.operatorService.addSearchAttributes({ namespace: NAMESPACE, searchAttributes: missing }),
    );
  }
  return 'ready';
}

/** Dev servers still running, killed if this process exits without stopping them so no orphan keeps its ports. */
const liveServers = new Set<ChildProcessByStdio<null, Readable, Readable>>();
process.on('exit', () => {
  for (const child of liveServers) child.kill('SIGKILL');
});

/** Keeps the last `limit` lines of a byte stream. */
class RecentLines {
  private readonly kept: string[] = [];
  private partial = '';

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString()).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line.trim()) this.kept.push(line.trimEnd());
    }
    this.kept.splice(0, Math.max(0, this.kept.length - this.limit));
  }

  lines(): string[] {
    return this.partial.trim() ? [...this.kept, this.partial.trimEnd()] : [...this.kept];
  }
}

/** A port nobody listens on right now, found by letting the OS pick one. */
function freePort(ip: string, avoid?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ host: ip, port: 0, exclusive: true }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => (port === avoid ? freePort(ip, avoid).then(resolve, reject) : resolve(port)));
    });
  });
}

/** The host clients should dial: a wildcard bind is reached through loopback; IPv6 literals need brackets. */
function hostForClients(ip: string): string {
  if (ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::' || ip === '[::]') return '[::1]';
  return net.isIPv6(ip) ? `[${ip}]` : ip;
}

function describeExit(exit: DevServerExit): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/**
 * Whether an HTTP/2 server (as gRPC is) completes a plaintext handshake at `host:port`. Probing with grpc-js instead
 * would be wrong twice: a refused channel waits out its whole timeout, and a channel closed while a listener that is
 * not HTTP/2 holds its handshake open leaks the socket, which then keeps the process alive.
 */
function answersHttp2(address: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    let session: http2.ClientHttp2Session | undefined;
    const done = (ok: boolean) => {
      clearTimeout(timer);
      session?.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    try {
      session = http2.connect(`http://${address}`);
    } catch {
      done(false);
      return;
    }
    session.once('connect', () => done(true));
    session.once('error', () => done(false));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
