/**
 * Faults a durable negotiation must survive, on a real Temporal server: a worker process killed with SIGKILL at
 * three moments and restarted, the dev server stopped and restarted on its SQLite file, and a slow model.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { OfflineEngine } from '../src/activities/offline-engine';
import type { LlmChoice, NegotiationModel } from '../src/activities/types';
import { startSimulation } from '../src/cli/simulations';
import { transcriptOf } from '../src/cli/transcripts';
import { loadScenario } from '../src/scenario/load';
import type { Policy, Scenario } from '../src/scenario/schema';
import { startDevServer, type DevServer } from '../src/temporal/dev-server';
import { parseTranscript, type ParsedDocument, type ParsedEvent } from '../src/transcript/parse';
import { createWorker, resolveModelFromEnv } from '../src/worker';
import type { simulationWorkflow, SimulationResult } from '../src/workflows';
import { approve, getStatus } from '../src/workflows/messages';
import { FakeOpenAiServer, faults, type RecordedRequest } from './support/fake-openai-server';
import { testAddress, testClient } from './support/temporal';

const root = path.resolve(__dirname, '..');
const openai: LlmChoice = { provider: 'openai', model: 'test-model' };

/** The quick-agreement tender, cut to `pairs` pairs and with `policy` over its own. */
async function tender(policy: Partial<Policy> = {}, pairs = 1): Promise<Scenario> {
  const scenario = await loadScenario(path.join(root, 'scenarios/quick-agreement.yaml'));
  return { ...scenario, policy: { ...scenario.policy, ...policy }, pairs: scenario.pairs.slice(0, pairs) };
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined as T);
    if (value !== undefined && accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `parley worker` as its own OS process, so it can be killed the way a crash or an OOM killer would. */
class WorkerProcess {
  private constructor(
    readonly child: ChildProcess,
    private readonly exited: Promise<void>,
  ) {}

  static async spawn(taskQueue: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
    const child = spawn(process.execPath, [path.join(root, 'bin/parley.js'), 'worker'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        TEMPORAL_ADDRESS: testAddress(),
        PARLEY_TASK_QUEUE: taskQueue,
        PARLEY_LOG_LEVEL: 'ERROR',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Worker polling')) resolve();
      });
      void exited.then(() => reject(new Error(`the worker exited before it polled:\n${output}`)));
    });
    return new WorkerProcess(child, exited);
  }

  /** SIGKILL: no shutdown, no activity completion, no goodbye to the server. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** The transcript of a settled simulation, checked line by line for one negotiation per pair. */
async function transcriptEntries(client: Client, simulationId: string) {
  const transcript = parseTranscript(await transcriptOf(client, simulationId));
  const events = transcript.entries
    .filter((e): e is ParsedEvent => e.type === 'event' && e.kind !== 'Setup')
    // Outcome lines end with what the model calls cost; the events themselves are what is compared here.
    .map((e) => `${e.actor} | ${e.kind} | ${e.text.replace(/ \(tokens: [^)]*\)$/, '')}`);
  const documents = transcript.entries.filter((e): e is ParsedDocument => e.type === 'document');
  return { events, documents };
}

/** What a negotiation that the client asks to revise every round writes, round after round, until the limit. */
function revisionEvents(client: string, vendor: string, rounds: number): string[] {
  const events: string[] = [];
  for (let v = 1; v <= rounds; v++) {
    events.push(`${vendor} | Action | Drafting Proposal V${v}...`, `${client} | Action | Reviewing Proposal...`);
    events.push(`${client} | Feedback | Requesting Revisions`);
  }
  events.push(`${client} | Outcome | No agreement with ${vendor} after ${rounds} rounds`);
  return events;
}

/** Proposal and review versions, in transcript order, per vendor. */
function versionsOf(documents: ParsedDocument[], label: 'Proposal' | 'Review', actor: string): number[] {
  return documents.filter((d) => d.label === label && d.actor === actor).map((d) => d.version);
}

/** Which document a Chat Completions request asks for: `proposal|<vendor>|V<n>` or `review|<vendor>|V<n>`. */
function documentKey(request: RecordedRequest): string {
  const text = ((request.body?.messages ?? []) as { content?: string }[]).map((m) => m.content ?? '').join('\n');
  const draft = /You are (.+?), a technology vendor[\s\S]*Write proposal version (\d+)/.exec(text);
  if (draft) return `proposal|${draft[1]}|V${draft[2]}`;
  const review = /reviewing a proposal from (.+?)\. This is round (\d+)/.exec(text);
  if (review) return `review|${review[1]}|V${review[2]}`;
  return 'unknown';
}

function countBy(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

/** Model calls (by activity type) and the attempts, failures and timeouts of every activity in a workflow's history. */
async function activityAttempts(handle: WorkflowHandle) {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const types = events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
  return {
    modelCalls: types.filter((t) => t === 'draftProposal' || t === 'reviewProposal').length,
    attempts: [
      ...new Set(events.map((e) => e.activityTaskStartedEventAttributes?.attempt).filter((a) => a !== undefined)),
    ],
    timedOut: events.filter((e) => e.activityTaskTimedOutEventAttributes).length,
    failed: events.filter((e) => e.activityTaskFailedEventAttributes).length,
  };
}

describe('durability: a worker killed with SIGKILL and restarted', () => {
  let client: Client;
  let fake: FakeOpenAiServer;
  let workers: WorkerProcess[] = [];

  beforeAll(async () => {
    // The worker runs the compiled CLI; build it from the sources under test.
    await promisify(execFile)('npm', ['run', '--silent', 'build'], { cwd: root });
    client = await testClient();
    fake = await FakeOpenAiServer.start();
  }, 180_000);
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    workers = [];
    fake.reset();
  });
  afterAll(async () => {
    await fake?.close();
    await client?.connection.close();
  });

  const spawnWorker = async (taskQueue: string, env: Record<string, string> = {}) => {
    const worker = await WorkerProcess.spawn(taskQueue, env);
    workers.push(worker);
    return worker;
  };
  const openAiEnv = () => ({ OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL });

  // Model calls heartbeat every 5 s with a 30 s heartbeat timeout, so the call lost with the killed worker is
  // made again about half a minute later (measured: the test takes about 55 s), not after the 5 min start-to-close.
  it('during a model call: the call is made again on the new worker and the negotiation settles whole', async () => {
    const taskQueue = `durability-${randomUUID()}`;
    fake.setHandler(() => faults.slow(1_500));
    const scenario = await tender({ maxRounds: 2, approval: 'auto' });
    const first = await spawnWorker(taskQueue, openAiEnv());
    const simulation = await startSimulation(client, scenario, openai, { taskQueue });

    await fake.waitForRequests(1);
    await first.kill();
    const killedAt = Date.now();
    await spawnWorker(taskQueue, openAiEnv());
    const result: SimulationResult = await client.workflow
      .getHandle<typeof simulationWorkflow>(simulation.simulationId)
      .result();
    const retriedAfterMs = fake.requests[1].receivedAt - killedAt;
    console.log(`durability: a call lost with its worker was made again ${retriedAfterMs} ms after the kill`);

    expect(result.outcomes.map((o) => [o.status, o.version])).toEqual([['no_agreement', 2]]);
    expect(fake.requests[0].abortedByClient).toBe(true);
    // The killed call is the only one made twice.
    expect(countBy(fake.requests.map(documentKey))).toEqual({
      'proposal|Harbor Apps|V1': 2,
      'review|Harbor Apps|V1': 1,
      'proposal|Harbor Apps|V2': 1,
      'review|Harbor Apps|V2': 1,
    });
    const { events, documents } = await transcriptEntries(client, simulation.simulationId);
    expect(events).toEqual(revisionEvents('Northwind Foods', 'Harbor Apps', 2));
    expect(versionsOf(documents, 'Proposal', 'Harbor Apps')).toEqual([1, 2]);
    expect(versionsOf(documents, 'Review', 'Northwind Foods')).toEqual([1, 2]);
  }, 420_000);

  it('between rounds: the next round is drafted by the new worker, with no version skipped or repeated', async () => {
    const taskQueue = `durability-${randomUUID()}`;
    // The draft of V2 is first turned away with a rate limit, so the negotiation rests between rounds 1 and 2
    // (review V1 done, draft V2 waiting out the Retry-After) with no call in flight when the worker dies.
    fake.setHandler((request) =>
      documentKey(request) === 'proposal|Harbor Apps|V2' &&
      !fake.requests.slice(0, -1).some((r) => documentKey(r) === 'proposal|Harbor Apps|V2')
        ? faults.rateLimited(4)
        : {},
    );
    const scenario = await tender({ maxRounds: 3, approval: 'auto' });
    const first = await spawnWorker(taskQueue, openAiEnv());
    const simulation = await startSimulation(client, scenario, openai, { taskQueue });
    const handle = client.workflow.getHandle(simulation.negotiations[0].negotiationId);

    await eventually(
      () => handle.describe(),
      (d) => d.raw.pendingActivities?.some((a) => (a.attempt ?? 0) >= 2 && a.lastFailure) ?? false,
    );
    await first.kill();
    const killedAt = Date.now();
    await spawnWorker(taskQueue, openAiEnv());
    const result: SimulationResult = await client.workflow.getHandle(simulation.simulationId).result();
    const settledAfterMs = Date.now() - killedAt;
    console.log(`durability: killed between rounds, settled ${settledAfterMs} ms after the kill`);

    expect(result.outcomes.map((o) => [o.status, o.version])).toEqual([['no_agreement', 3]]);
    expect(fake.requests.every((r) => !r.abortedByClient)).toBe(true);
    expect(countBy(fake.requests.map(documentKey))).toEqual({
      'proposal|Harbor Apps|V1': 1,
      'review|Harbor Apps|V1': 1,
      'proposal|Harbor Apps|V2': 2,
      'review|Harbor Apps|V2': 1,
      'proposal|Harbor Apps|V3': 1,
      'review|Harbor Apps|V3': 1,
    });
    const { events, documents } = await transcriptEntries(client, simulation.simulationId);
    expect(events).toEqual(revisionEvents('Northwind Foods', 'Harbor Apps', 3));
    expect(versionsOf(documents, 'Proposal', 'Harbor Apps')).toEqual([1, 2, 3]);
    expect(versionsOf(documents, 'Review', 'Northwind Foods')).toEqual([1, 2, 3]);
  }, 120_000);

  it('while a gate waits: a decision sent while no worker runs is taken by the restarted one', async () => {
    const taskQueue = `durability-${randomUUID()}`;
    const first = await spawnWorker(taskQueue);
    const simulation = await startSimulation(client, await tender(), { provider: 'offline' }, { taskQueue });
    const handle = client.workflow.getHandle(simulation.negotiations[0].negotiationId);
    await eventually(
      () => handle.query(getStatus),
      (s) => s.status === 'awaiting_approval',
    );

    await first.kill();
    const killedAt = Date.now();
    await handle.signal(approve, { by: 'alice', comment: 'signed while the worker was down' });
    await spawnWorker(taskQueue);
    const result: SimulationResult = await client.workflow.getHandle(simulation.simulationId).result();
    console.log(`durability: killed at a gate, settled ${Date.now() - killedAt} ms after the kill`);

    expect(result.outcomes.map((o) => [o.status, o.version, o.decidedBy])).toEqual([['agreed', 2, 'ops:alice']]);
    const { events, documents } = await transcriptEntries(client, simulation.simulationId);
    expect(events).toEqual([
      'Harbor Apps | Action | Drafting Proposal V1...',
      'Northwind Foods | Action | Reviewing Proposal...',
      'Northwind Foods | Feedback | Requesting Revisions',
      'Harbor Apps | Action | Drafting Proposal V2...',
      'Northwind Foods | Action | Reviewing Proposal...',
      'Northwind Foods | Feedback | Accepted Proposal V2',
      'Parley | Gate | Awaiting approval of Proposal V2',
      'ops:alice | Approval | Approved Proposal V2 from Harbor Apps: signed while the worker was down',
    ]);
    expect(versionsOf(documents, 'Proposal', 'Harbor Apps')).toEqual([1, 2]);
    expect(versionsOf(documents, 'Review', 'Northwind Foods')).toEqual([1, 2]);
  }, 120_000);
});

describe('durability: the dev server restarted on its SQLite file mid-simulation', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-durability-'));
  let server: DevServer | undefined;

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes every negotiation and settles it', async () => {
    server = await startDevServer({ dbFile: path.join(dir, 'temporal.db') });
    const { port, uiPort, address } = server;
    // An offline engine that takes its time, so the server goes down with negotiations in every phase.
    const offline = new OfflineEngine();
    let calls = 0;
    const pause = () => new Promise((r) => setTimeout(r, 300));
    const slowOffline: NegotiationModel = {
      provider: 'offline',
      model: 'offline',
      draftProposal: async (input) => (calls++, await pause(), offline.draftProposal(input)),
      reviewProposal: async (input) => (calls++, await pause(), offline.reviewProposal(input)),
    };
    const taskQueue = `durability-${randomUUID()}`;
    const { worker, connection: workerConnection } = await createWorker({
      target: { address, namespace: 'default' },
      taskQueue,
      resolveModel: () => slowOffline,
    });
    const running = worker.run();
    const connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace: 'default' });
    try {
      const scenario = await loadScenario(path.join(root, 'scenarios/seed.yaml'));
      const simulation = await startSimulation(client, scenario, { provider: 'offline' }, { taskQueue });
      await eventually(
        async () => calls,
        (n) => n >= 4,
      );

      await server.stop();
      const stoppedAt = Date.now();
      const callsBeforeStop = calls;
      server = await startDevServer({ dbFile: path.join(dir, 'temporal.db'), port, uiPort });
      const restartedAt = Date.now();
      const result: SimulationResult = await client.workflow.getHandle(simulation.simulationId).result();
      console.log(
        `durability: server down ${restartedAt - stoppedAt} ms after call ${callsBeforeStop} of 18; settled ${Date.now() - restartedAt} ms after the restart`,
      );

      expect(result.outcomes.map((o) => [o.status, o.version])).toEqual([
        ['no_agreement', 3],
        ['no_agreement', 3],
        ['no_agreement', 3],
      ]);
      const { events, documents } = await transcriptEntries(client, simulation.simulationId);
      for (const pair of scenario.pairs) {
        expect(events.filter((e) => e.startsWith(`${pair.vendor} |`) || e.startsWith(`${pair.client} |`))).toEqual(
          revisionEvents(pair.client, pair.vendor, 3),
        );
        expect(versionsOf(documents, 'Proposal', pair.vendor)).toEqual([1, 2, 3]);
        expect(versionsOf(documents, 'Review', pair.client)).toEqual([1, 2, 3]);
      }
    } finally {
      worker.shutdown();
      await running.catch(() => undefined);
      await workerConnection.close();
      await connection.close();
    }
  }, 180_000);
});

describe('durability: a slow model', () => {
  it('makes no activity time out or run twice', async () => {
    const fake = await FakeOpenAiServer.start();
    fake.setHandler(() => faults.slow(2_000));
    const taskQueue = `durability-${randomUUID()}`;
    const { worker, connection: workerConnection } = await createWorker({
      target: { address: testAddress(), namespace: 'default' },
      taskQueue,
      resolveModel: resolveModelFromEnv({ OPENAI_API_KEY: 'test', OPENAI_BASE_URL: fake.baseURL }),
    });
    const running = worker.run();
    const client = await testClient();
    try {
      const simulation = await startSimulation(client, await tender({ maxRounds: 2, approval: 'auto' }, 2), openai, {
        taskQueue,
      });
      const result: SimulationResult = await client.workflow.getHandle(simulation.simulationId).result();

      expect(result.outcomes.map((o) => [o.vendor, o.status, o.version])).toEqual([
        ['Harbor Apps', 'no_agreement', 2],
        ['Quantum Ledger', 'no_agreement', 2],
      ]);
      const counts = countBy(fake.requests.map(documentKey));
      expect(Object.keys(counts)).toHaveLength(8);
      expect(Object.values(counts).every((n) => n === 1)).toBe(true);
      expect(fake.requests.some((r) => r.abortedByClient)).toBe(false);
      for (const n of simulation.negotiations) {
        expect(await activityAttempts(client.workflow.getHandle(n.negotiationId))).toEqual({
          modelCalls: 4,
          attempts: [1],
          timedOut: 0,
          failed: 0,
        });
      }
    } finally {
      worker.shutdown();
      await running.catch(() => undefined);
      await workerConnection.close();
      await client.connection.close();
      await fake.close();
    }
  }, 120_000);
});
