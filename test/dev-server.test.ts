import { Client, Connection } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DevServerError, isTemporalReachable, startDevServer, type DevServer } from '../src/temporal/dev-server';
import { PARLEY_SEARCH_ATTRIBUTES, type SearchAttributeDefinition } from '../src/temporal/search-attributes';
import { findTemporalCli, TemporalCliNotFoundError } from '../src/temporal/temporal-cli';

const run = promisify(execFile);

let temporal: string;
let scratch: string;
const servers: DevServer[] = [];

beforeAll(async () => {
  temporal = await findTemporalCli();
  scratch = mkdtempSync(path.join(os.tmpdir(), 'parley-dev-server-test-'));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** Starts a dev server that afterEach stops even when the test fails. */
async function started(options: Parameters<typeof startDevServer>[0]): Promise<DevServer> {
  const server = await startDevServer({ executable: temporal, ...options });
  servers.push(server);
  return server;
}

/** The custom search attributes as the CLI itself lists them, as `Name => Type` in the dev server flag's spelling. */
async function searchAttributesListedBy(address: string): Promise<Record<string, string>> {
  const { stdout } = await run(temporal, ['operator', 'search-attribute', 'list', '--address', address, '-o', 'json']);
  const custom = (JSON.parse(stdout) as { customAttributes?: Record<string, string> }).customAttributes ?? {};
  return Object.fromEntries(
    Object.entries(custom).map(([name, type]) => [name, type.replace('INDEXED_VALUE_TYPE_', '')]),
  );
}

function asListed(attributes: readonly SearchAttributeDefinition[]): Record<string, string> {
  return Object.fromEntries(
    attributes.map(({ name, type }) => [name, type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()]),
  );
}

async function withClient<T>(address: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection, namespace: 'default' }));
  } finally {
    await connection.close();
  }
}

/** A TCP listener on a free loopback port that accepts connections and never answers, like a foreign program. */
async function squat(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        // Accepted sockets that nobody reads never see the peer hang up, so they would keep jest alive.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('the dev server launcher', () => {
  it('starts a server that a Temporal client reaches, with every Parley search attribute registered', async () => {
    const server = await started({ dbFile: null });

    const systemInfo = await withClient(server.address, (client) => client.workflowService.getSystemInfo({}));
    const listed = await searchAttributesListedBy(server.address);
    const ui = await fetch(server.uiUrl);

    expect(systemInfo.serverVersion).toMatch(/\d+\.\d+/);
    expect(listed).toEqual(expect.objectContaining(asListed(PARLEY_SEARCH_ATTRIBUTES)));
    expect(ui.status).toBe(200);
  });

  it('stops the server so that nothing answers on its address any more', async () => {
    const server = await started({ dbFile: null });

    await server.stop();

    expect(await isTemporalReachable(server.address)).toBe(false);
    await expect(server.exited).resolves.toBeDefined();
  });

  it('keeps a started workflow across a stop and a restart on the same database file', async () => {
    const dbFile = path.join(scratch, 'persistence', 'nested', 'temporal.db');
    const workflowId = `persistence-probe-${randomUUID()}`;
    const first = await started({ dbFile });
    // No worker polls this task queue, so the workflow just stays Running.
    await withClient(first.address, (client) =>
      client.workflow.start('ParleyPersistenceProbe', { taskQueue: `nobody-${randomUUID()}`, workflowId }),
    );
    await first.stop();

    const second = await started({ dbFile });
    const description = await withClient(second.address, (client) => client.workflow.getHandle(workflowId).describe());

    expect(existsSync(dbFile)).toBe(true);
    expect(description.type).toBe('ParleyPersistenceProbe');
    expect(description.status.name).toBe('RUNNING');
  });

  it('registers search attributes that an existing database file was created without', async () => {
    const dbFile = path.join(scratch, 'older-db', 'temporal.db');
    const older = PARLEY_SEARCH_ATTRIBUTES.slice(0, 2);
    const first = await started({ dbFile, searchAttributes: older });
    await first.stop();

    const second = await started({ dbFile });
    const listed = await searchAttributesListedBy(second.address);

    expect(listed).toEqual(expect.objectContaining(asListed(PARLEY_SEARCH_ATTRIBUTES)));
  });

  it('fails with the server output when the gRPC port is already taken', async () => {
    const squatter = await squat();
    const takenPort = squatter.port;

    try {
      const attempt = started({ dbFile: null, port: takenPort });

      await expect(attempt).rejects.toBeInstanceOf(DevServerError);
      await expect(attempt).rejects.toMatchObject({ code: 'DEV_SERVER_EXITED' });
      await expect(attempt).rejects.toThrow(/address already in use/);
    } finally {
      await squatter.close();
    }
  });

  it('says no Temporal is reachable at a port held by a program that is not Temporal', async () => {
    const squatter = await squat();
    const address = `127.0.0.1:${squatter.port}`;

    try {
      const reachable = await isTemporalReachable(address, 500);

      expect(reachable).toBe(false);
    } finally {
      await squatter.close();
    }
  });

  it('says nothing is reachable at an address where no server listens', async () => {
    const before = Date.now();

    const reachable = await isTemporalReachable('127.0.0.1:1');

    expect(reachable).toBe(false);
    expect(Date.now() - before).toBeLessThan(2_000);
  });
});

describe('finding the Temporal CLI', () => {
  const keys = ['TEMPORAL_CLI_PATH', 'PATH', 'XDG_CACHE_HOME'] as const;
  let saved: Partial<Record<(typeof keys)[number], string>>;
  let dir: string;

  beforeEach(() => {
    saved = Object.fromEntries(keys.map((key) => [key, process.env[key]]));
    dir = mkdtempSync(path.join(scratch, 'find-'));
  });

  afterEach(() => {
    for (const key of keys) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  /** A folder holding `name` as a link to the real CLI, so each candidate has a path of its own. */
  function linkToCli(folder: string, name = 'temporal'): string {
    mkdirSync(path.join(dir, folder), { recursive: true });
    const link = path.join(dir, folder, name);
    symlinkSync(temporal, link);
    return link;
  }

  function emptyFolder(name: string): string {
    const folder = path.join(dir, name);
    mkdirSync(folder, { recursive: true });
    return folder;
  }

  it('prefers TEMPORAL_CLI_PATH over a temporal on PATH and the cached build', async () => {
    const explicit = linkToCli('explicit', 'my-temporal');
    const onPath = linkToCli('on-path');
    linkToCli('cache/parley/bin');
    process.env.TEMPORAL_CLI_PATH = explicit;
    process.env.PATH = `${path.dirname(onPath)}${path.delimiter}${saved.PATH ?? ''}`;
    process.env.XDG_CACHE_HOME = path.join(dir, 'cache');

    const found = await findTemporalCli({ build: false });

    expect(found).toBe(explicit);
  });

  it('uses a temporal on PATH before the cached build', async () => {
    const onPath = linkToCli('on-path');
    linkToCli('cache/parley/bin');
    delete process.env.TEMPORAL_CLI_PATH;
    process.env.PATH = path.dirname(onPath);
    process.env.XDG_CACHE_HOME = path.join(dir, 'cache');

    const found = await findTemporalCli({ build: false });

    expect(found).toBe(onPath);
  });

  it('falls back to the cached build under XDG_CACHE_HOME', async () => {
    const cached = linkToCli('cache/parley/bin');
    delete process.env.TEMPORAL_CLI_PATH;
    process.env.PATH = emptyFolder('empty-path');
    process.env.XDG_CACHE_HOME = path.join(dir, 'cache');

    const found = await findTemporalCli({ build: false });

    expect(found).toBe(cached);
  });

  it('throws a TemporalCliNotFoundError naming the three ways to provide the CLI when TEMPORAL_CLI_PATH is not executable and nothing else is available', async () => {
    const notExecutable = path.join(dir, 'temporal-notes.txt');
    writeFileSync(notExecutable, 'not a program\n');
    chmodSync(notExecutable, 0o644);
    process.env.TEMPORAL_CLI_PATH = notExecutable;
    // No temporal and no go on this PATH, and an empty cache: nothing else can provide the CLI.
    process.env.PATH = emptyFolder('empty-path');
    process.env.XDG_CACHE_HOME = emptyFolder('empty-cache');
    const notices: string[] = [];

    const attempt = findTemporalCli({ log: (line) => notices.push(line) });

    await expect(attempt).rejects.toBeInstanceOf(TemporalCliNotFoundError);
    const error = (await attempt.catch((e: unknown) => e)) as TemporalCliNotFoundError;
    expect(error.code).toBe('TEMPORAL_CLI_NOT_FOUND');
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/set TEMPORAL_CLI_PATH/);
    expect(error.message).toMatch(/put `temporal` on PATH/);
    expect(error.message).toMatch(/install Go/);
    expect(notices.join('\n')).toContain(notExecutable);
  });
});
