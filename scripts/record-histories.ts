/**
 * Records the workflow histories `test/replay.test.ts` replays: real simulations of several scenarios, with gates,
 * decisions, a retried model call, a failed negotiation and webhook deliveries, on a dev server of their own (in memory) and a worker
 * running the workflow code of this tree. Run it with `npm run fixtures:histories` after a deliberate, patched
 * workflow change; it replaces the files at the top of test/fixtures/histories/ and leaves its folders (older
 * recordings kept for the old branches of `patched()`) alone.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { OfflineEngine } from '../src/activities/offline-engine';
import type { NegotiationModel } from '../src/activities/types';
import { startSimulation } from '../src/cli/simulations';
import { loadScenario } from '../src/scenario/load';
import type { Policy, Scenario } from '../src/scenario/schema';
import { startDevServer } from '../src/temporal/dev-server';
import { createWorker, installRuntime } from '../src/worker';
import type { SimulationResult } from '../src/workflows';
import { approve, decisionUpdates, getStatus } from '../src/workflows/messages';

const root = process.cwd();
const outDir = path.join(root, 'test/fixtures/histories');
const taskQueue = 'record-histories';
const webhookTaskQueue = 'record-histories-webhook';

/** The offline engine, except that the client refuses to review for good (a failed negotiation) or fails once. */
function models() {
  const offline = new OfflineEngine();
  const flaky = new Set<string>();
  const byModel: Record<string, NegotiationModel> = {
    refusing: {
      provider: 'offline',
      model: 'refusing',
      draftProposal: (input) => offline.draftProposal(input),
      reviewProposal: async () => {
        throw Object.assign(new Error('the model refused to review'), { code: 'MODEL_REFUSED', isRetryable: false });
      },
    },
    flaky: {
      provider: 'offline',
      model: 'flaky',
      draftProposal: async (input) => {
        const key = `${input.negotiationId}:${input.version}`;
        if (!flaky.has(key)) {
          flaky.add(key);
          throw Object.assign(new Error('the model is overloaded'), { code: 'MODEL_SERVER_ERROR', isRetryable: true });
        }
        return offline.draftProposal(input);
      },
      reviewProposal: (input) => offline.reviewProposal(input),
    },
  };
  /** Which engine the worker serves; the recordings run one after another, so switching it between them is safe. */
  let current = 'offline';
  return { use: (name: string) => void (current = name), resolve: () => byModel[current] ?? offline };
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

async function main(): Promise<void> {
  installRuntime('ERROR');
  const engines = models();
  const server = await startDevServer({ dbFile: null });
  const { worker, connection: workerConnection } = await createWorker({
    target: { address: server.address, namespace: 'default' },
    taskQueue,
    resolveModel: engines.resolve,
  });
  const running = worker.run();
  // A second worker posts webhook events to a local endpoint, so the delivery steps are recorded too.
  const hook = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const posting = await createWorker({
    target: { address: server.address, namespace: 'default' },
    taskQueue: webhookTaskQueue,
    resolveModel: engines.resolve,
    webhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/events`,
  });
  const runningPosting = posting.worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: 'default' });
  const handles: WorkflowHandle[] = [];

  const seed = await loadScenario(path.join(root, 'scenarios/seed.yaml'));
  const quick = await loadScenario(path.join(root, 'scenarios/quick-agreement.yaml'));
  const tender = (name: string, policy: Partial<Policy>, pairs = quick.pairs.length): Scenario => ({
    ...quick,
    name,
    policy: { ...quick.policy, ...policy },
    pairs: quick.pairs.slice(0, pairs),
  });

  /** Starts a simulation, lets `drive` take decisions, waits for it to finish and keeps its histories. */
  const record = async (
    label: string,
    scenario: Scenario,
    model: string | undefined,
    drive: (negotiations: WorkflowHandle[]) => Promise<void> = async () => undefined,
    queue = taskQueue,
  ) => {
    engines.use(model ?? 'offline');
    const simulation = await startSimulation(
      client,
      scenario,
      { provider: 'offline' },
      { taskQueue: queue, simulationId: `${label}-fixture` },
    );
    const negotiations = simulation.negotiations.map((n) => client.workflow.getHandle(n.negotiationId));
    await drive(negotiations);
    const result: SimulationResult = await client.workflow.getHandle(simulation.simulationId).result();
    console.error(`${label}: ${result.outcomes.map((o) => `${o.vendor} ${o.status} at V${o.version}`).join(', ')}`);
    // Each file is named by its workflow id, which the replay needs: a simulation derives its children's ids from it.
    handles.push(client.workflow.getHandle(simulation.simulationId), ...negotiations);
  };
  const atGate = (handle: WorkflowHandle, version: number, gate: string) =>
    eventually(
      () => handle.query(getStatus),
      (s) => s.status === 'awaiting_approval' && s.version === version && s.pendingGate === gate,
    );

  try {
    // Three negotiations, three rounds each, every review asking for a major revision.
    await record('seed', seed, undefined);

    // Harbor Apps is accepted at V2, sent back for a revision by a person, accepted again at V3 and approved;
    // Quantum Ledger is rejected by the client's agent.
    await record('gates', tender('gates', {}), undefined, async ([harbor]) => {
      await atGate(harbor, 2, 'acceptance');
      await harbor.executeUpdate(decisionUpdates.requestRevision, {
        args: [{ by: 'erin', requestId: 'rev-1', comment: 'add a training plan' }],
      });
      await atGate(harbor, 3, 'acceptance');
      await harbor.executeUpdate(decisionUpdates.approve, { args: [{ by: 'alice', comment: 'good fit' }] });
    });

    // One round, then a person grants another at the round limit; the acceptance that follows is approved by a
    // signal.
    await record(
      'round-limit',
      tender('round-limit', { maxRounds: 1, onRoundLimit: 'ask' }, 1),
      undefined,
      async ([harbor]) => {
        await atGate(harbor, 1, 'round_limit');
        await harbor.executeUpdate(decisionUpdates.extendRounds, { args: [{ by: 'fay', rounds: 1 }] });
        await atGate(harbor, 2, 'acceptance');
        await harbor.signal(approve, { by: 'gus' });
      },
    );

    // A gate that nobody decides within its timeout.
    await record('expired', tender('expired', { approvalTimeout: '1s', onApprovalTimeout: 'expire' }, 1), undefined);

    // Every first draft attempt fails and is retried; the negotiations settle as the offline engine decides.
    await record('retried', tender('retried', { approval: 'auto', maxRounds: 2 }), 'flaky');

    // The client's model refuses for good: the negotiation ends as failed.
    await record('failed', tender('failed', {}, 1), 'refusing');

    // A worker with a webhook: events are delivered at the gate and at the end, and a person approves.
    await record(
      'webhook',
      tender('webhook', {}, 1),
      undefined,
      async ([harbor]) => {
        await atGate(harbor, 2, 'acceptance');
        await harbor.executeUpdate(decisionUpdates.approve, { args: [{ by: 'hank' }] });
      },
      webhookTaskQueue,
    );

    await mkdir(outDir, { recursive: true });
    for (const file of await readdir(outDir)) if (file.endsWith('.json')) await rm(path.join(outDir, file));
    for (const handle of handles) {
      const history = await handle.fetchHistory();
      // The protobuf object's own JSON (enums by name, 64-bit numbers and bytes as strings), which
      // `History.fromObject` reads back whole. The SDK's `historyToJSON`/`historyFromJSON` would write the Temporal
      // CLI's JSON instead, but throw "type must be a Type" with this install's two protobufjs copies.
      const json = temporal.api.history.v1.History.fromObject(history).toJSON();
      await writeFile(path.join(outDir, `${handle.workflowId}.json`), JSON.stringify(json, null, 2) + '\n', 'utf8');
    }
    console.error(`wrote ${handles.length} histories to ${path.relative(root, outDir)}`);
  } finally {
    worker.shutdown();
    posting.worker.shutdown();
    await running.catch(() => undefined);
    await runningPosting.catch(() => undefined);
    await workerConnection.close();
    await posting.connection.close();
    hook.close();
    await connection.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
