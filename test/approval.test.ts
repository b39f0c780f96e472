import type { Client } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { OfflineEngine } from '../src/activities/offline-engine';
import type { NegotiationModel } from '../src/activities/types';
import { runScenario } from '../src/cli/run-scenario';
import { sendDecision } from '../src/cli/decisions';
import { negotiationStatus, startSimulation } from '../src/cli/simulations';
import { transcriptOf } from '../src/cli/transcripts';
import { loadScenario } from '../src/scenario/load';
import type { Policy, Scenario } from '../src/scenario/schema';
import { findTemporalCli } from '../src/temporal/temporal-cli';
import { approve, decisionUpdates, getStatus, reject } from '../src/workflows/messages';
import { eventually } from './support/eventually';
import { firstPairAwaitingApproval } from './support/negotiations';
import { startTestWorker, testAddress, testClient, type RunningWorker } from './support/temporal';

const runsDir = mkdtempSync(path.join(os.tmpdir(), 'parley-approval-'));

/** The quick-agreement tender where Harbor Apps' bid is accepted by the client's agent in round 2. */
async function tender(policy: Partial<Policy> = {}, pairs = 1): Promise<Scenario> {
  const scenario = await loadScenario(path.resolve(__dirname, '../scenarios/quick-agreement.yaml'));
  return { ...scenario, policy: { ...scenario.policy, ...policy }, pairs: scenario.pairs.slice(0, pairs) };
}

describe('human decisions at a negotiation gate', () => {
  let client: Client;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    client = await testClient();
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });
  afterAll(async () => {
    await client.connection.close();
  });

  async function awaitingApproval(scenario: Scenario): Promise<string> {
    const run = await runScenario(
      client,
      scenario,
      { provider: 'offline' },
      { wait: true, quiet: true, taskQueue: worker!.taskQueue, runsDir },
    );
    const [outcome] = run.outcomes!;
    expect(outcome).toMatchObject({ status: 'awaiting_approval', pendingGate: 'acceptance' });
    return outcome.negotiationId;
  }

  it('waits for approval after the client accepts, and an approval settles it as agreed', async () => {
    worker = await startTestWorker();
    const id = await awaitingApproval(await tender());

    const outcome = await client.workflow
      .getHandle(id)
      .executeUpdate(decisionUpdates.approve, { args: [{ by: 'alice', comment: 'good fit' }] });

    expect(outcome).toMatchObject({ decision: 'approve', by: 'ops:alice', status: 'agreed' });
    expect(await negotiationStatus(client, id)).toMatchObject({ status: 'agreed', decidedBy: 'ops:alice' });
    expect(await transcriptOf(client, id)).toMatch(
      /- \*\*\d\d:\d\d:\d\d\*\* \| \*\*ops:alice\*\* \| Approval \| Approved Proposal V2 from Harbor Apps: good fit\n/,
    );
  });

  it('refuses a rejection without a reason, then takes one with a reason', async () => {
    worker = await startTestWorker();
    const id = await awaitingApproval(await tender());
    const handle = client.workflow.getHandle(id);

    const refused = await handle.executeUpdate(decisionUpdates.reject, { args: [{ by: 'bob' }] }).catch((e) => e);
    const taken = await handle.executeUpdate(decisionUpdates.reject, { args: [{ by: 'bob', reason: 'over budget' }] });

    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(refused.cause.message).toBe('a rejection needs a reason');
    expect(taken.status).toBe('rejected');
  });

  it('records a decision sent before any gate as a notice and carries on', async () => {
    const offline = new OfflineEngine();
    let releaseDraft!: () => void;
    const draftReleased = new Promise<void>((resolve) => (releaseDraft = resolve));
    const slow: NegotiationModel = {
      provider: 'offline',
      model: 'slow',
      draftProposal: async (input) => {
        await draftReleased;
        return offline.draftProposal(input);
      },
      reviewProposal: (input) => offline.reviewProposal(input),
    };
    worker = await startTestWorker(() => slow);
    const simulation = await startSimulation(
      client,
      await tender({ approval: 'auto' }),
      { provider: 'offline' },
      { taskQueue: worker.taskQueue },
    );
    const handle = client.workflow.getHandle(simulation.negotiations[0].negotiationId);
    await eventually(
      () => handle.query(getStatus),
      (s) => s.phase === 'drafting',
    );

    await handle.signal(approve, { by: 'early-bird' });
    const refused = await handle
      .executeUpdate(decisionUpdates.approve, { args: [{ by: 'early-bird' }] })
      .catch((e) => e);
    releaseDraft();
    const outcome = await eventually(
      () => negotiationStatus(client, handle.workflowId),
      (s) => s.phase === 'settled',
    );

    expect(refused.cause.message).toBe('no decision is pending: the negotiation is drafting in round 1');
    expect(outcome.status).toBe('agreed');
    expect(outcome.notices).toEqual([
      'Ignored approve from ops:early-bird: no decision is pending: the negotiation is drafting in round 1',
    ]);
  });

  it('takes a repeated decision with the same request id only once', async () => {
    worker = await startTestWorker();
    const id = await awaitingApproval(await tender());
    const handle = client.workflow.getHandle(id);

    // Sent together, as a retrying tool would: only one is taken, and both get its answer, even the one that
    // reaches the negotiation as the first closes it.
    const [first, second] = await Promise.all([
      sendDecision(client, id, 'approve', { by: 'carol', requestId: 'req-7' }),
      sendDecision(client, id, 'approve', { by: 'carol', requestId: 'req-7' }),
    ]);

    await eventually(
      () => handle.describe(),
      (d) => d.status.name === 'COMPLETED',
    );
    const afterClose = await sendDecision(client, id, 'approve', { by: 'carol', requestId: 'req-7' });
    const otherRequest = await sendDecision(client, id, 'approve', { by: 'carol', requestId: 'req-8' }).catch((e) => e);

    expect([first.decision, second.decision]).toEqual(['approve', 'approve']);
    expect(second.status).toBe(first.status);
    expect((await negotiationStatus(client, id)).status).toBe('agreed');
    expect((await transcriptOf(client, id)).match(/\| Approval \|/g)).toHaveLength(1);
    // Retried after the negotiation closed, the same request still gets its answer; a new one is refused.
    expect(afterClose).toMatchObject({ decision: 'approve', status: 'agreed' });
    expect(otherRequest.message).toBe('approve refused: the negotiation is already decided');
  });

  it('keeps the first of two decisions sent back to back, and records the second as ignored', async () => {
    worker = await startTestWorker();
    const id = await awaitingApproval(await tender());
    const handle = client.workflow.getHandle(id);
    await worker.stop();

    // Sent while no worker runs, both arrive in the same workflow task: the race a busy ops team creates.
    await handle.signal(reject, { by: 'alice', reason: 'too expensive' });
    await handle.signal(approve, { by: 'bob' });
    worker = await startTestWorker(undefined, worker.taskQueue);
    const status = await eventually(
      () => negotiationStatus(client, id),
      (s) => s.phase === 'settled',
    );

    expect(status).toMatchObject({ status: 'rejected', decidedBy: 'ops:alice' });
    expect(status.notices).toEqual([
      'Ignored approve from ops:bob: another decision is being applied: reject by ops:alice',
    ]);
  });

  it('takes a decision sent after the worker was restarted', async () => {
    worker = await startTestWorker();
    const scenario = await tender();
    const run = await runScenario(
      client,
      scenario,
      { provider: 'offline' },
      { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
    );
    const id = run.outcomes![0].negotiationId;
    await worker.stop();
    worker = await startTestWorker(undefined, worker.taskQueue);

    const outcome = await client.workflow
      .getHandle(id)
      .executeUpdate(decisionUpdates.approve, { args: [{ by: 'dave' }] });

    expect(outcome.status).toBe('agreed');
  });

  it('sends a revision request back to the vendor with its comment, and the next round drafts V3', async () => {
    worker = await startTestWorker();
    const id = await awaitingApproval(await tender());

    const outcome = await client.workflow
      .getHandle(id)
      .executeUpdate(decisionUpdates.requestRevision, { args: [{ by: 'erin', comment: 'add a training plan' }] });
    const settled = await eventually(
      () => negotiationStatus(client, id),
      (s) => s.status === 'awaiting_approval' && s.version === 3,
    );

    expect(outcome.decision).toBe('requestRevision');
    expect(settled.round).toBe(3);
    const transcript = await transcriptOf(client, id);
    expect(transcript).toContain('| **ops:erin** | Approval | Requested revision of Proposal V2: add a training plan');
    // The offline vendor answers a person's comment in the next version.
    expect(transcript).toContain(
      'As you asked (\\"add a training plan\\"), this version adds it to the scope and the plan.',
    );
  });

  it('waits at the round limit when asked to, and a grant of more rounds resumes the negotiation', async () => {
    worker = await startTestWorker();
    const scenario = await tender({ maxRounds: 1, onRoundLimit: 'ask' });
    const run = await runScenario(
      client,
      scenario,
      { provider: 'offline' },
      { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
    );
    const id = run.outcomes![0].negotiationId;
    expect(run.outcomes![0]).toMatchObject({ status: 'awaiting_approval', pendingGate: 'round_limit', version: 1 });
    const handle = client.workflow.getHandle(id);

    const refused = await handle
      .executeUpdate(decisionUpdates.extendRounds, { args: [{ by: 'fay', rounds: 0 }] })
      .catch((e) => e);
    await handle.executeUpdate(decisionUpdates.extendRounds, { args: [{ by: 'fay', rounds: 1 }] });

    expect(refused.cause.message).toBe('extendRounds needs "rounds", a whole number from 1 to 50');
    // Round 2 is where Harbor Apps' bid is accepted, so the negotiation now waits at the acceptance gate.
    const status = await eventually(
      () => negotiationStatus(client, id),
      (s) => s.status === 'awaiting_approval' && s.version === 2,
    );
    expect(status).toMatchObject({ pendingGate: 'acceptance', maxRounds: 2 });
  });

  it('expires a gate nobody decides within the approval timeout', async () => {
    worker = await startTestWorker();
    const run = await runScenario(
      client,
      await tender({ approvalTimeout: '2s', onApprovalTimeout: 'expire' }),
      { provider: 'offline' },
      { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
    );
    const id = run.outcomes![0].negotiationId;

    const status = await eventually(
      () => negotiationStatus(client, id),
      (s) => s.phase === 'settled',
    );

    expect(status.status).toBe('no_agreement');
    expect(await transcriptOf(client, id)).toContain(
      '| **Parley** | Outcome | No agreement with Harbor Apps: approval of Proposal V2 expired',
    );
  });

  it('accepts plain JSON from the stock temporal CLI, and survives a malformed payload', async () => {
    worker = await startTestWorker();
    const id = await awaitingApproval(await tender());
    const temporal = await findTemporalCli();
    const cli = (...args: string[]) =>
      promisify(execFile)(temporal, [...args, '--address', testAddress(), '--workflow-id', id]);

    await cli('workflow', 'signal', '--name', 'approve', '--input', '"not an object"');
    const query = await cli('workflow', 'query', '--type', 'getStatus', '--output', 'json');
    await cli('workflow', 'signal', '--name', 'approve', '--input', '{"by":"ops"}');

    expect(JSON.stringify(JSON.parse(query.stdout))).toContain('"status":"awaiting_approval"');
    const status = await eventually(
      () => negotiationStatus(client, id),
      (s) => s.phase === 'settled',
    );
    expect(status).toMatchObject({ status: 'agreed', decidedBy: 'ops:ops' });
    expect(status.notices).toEqual([
      'Ignored approve from ops:unknown: the payload must be a JSON object such as {"by": "alice"}',
    ]);
  });

  it('decides 100 negotiations awaiting approval at once', async () => {
    worker = await startTestWorker();
    const base = await tender();
    const vendors = Array.from({ length: 100 }, (_, i) => ({ ...base.vendors[0], name: `Harbor Apps ${i + 1}` }));
    const scenario: Scenario = {
      ...base,
      vendors,
      pairs: vendors.map((v) => ({ client: base.clients[0].name, vendor: v.name })),
    };
    const run = await runScenario(
      client,
      scenario,
      { provider: 'offline' },
      { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
    );
    expect(run.outcomes!.filter((o) => o.status === 'awaiting_approval')).toHaveLength(100);

    const outcomes = await Promise.all(
      run.outcomes!.map((o) =>
        client.workflow
          .getHandle(o.negotiationId)
          .executeUpdate(decisionUpdates.approve, { args: [{ by: 'batch', requestId: `batch-${o.negotiationId}` }] }),
      ),
    );

    expect(outcomes.every((o) => o.status === 'agreed')).toBe(true);
  });
});

describe('a negotiation that continues as new', () => {
  it('keeps its versions, transcript and a decision sent right after the hand-over', async () => {
    const client = await testClient();
    const worker = await startTestWorker();
    try {
      const scenario = await tender({ continueAsNewAfterRounds: 1 });
      const simulation = await startSimulation(
        client,
        scenario,
        { provider: 'offline' },
        { taskQueue: worker.taskQueue },
      );
      const id = simulation.negotiations[0].negotiationId;
      const handle = client.workflow.getHandle(id);

      const waiting = await eventually(
        () => negotiationStatus(client, id),
        (s) => s.status === 'awaiting_approval',
      );
      const outcome = await handle.executeUpdate(decisionUpdates.approve, {
        args: [{ by: 'gil', requestId: 'after-can' }],
      });
      // Visibility catches up with the closed first run a moment after the fact.
      const runs = await eventually(
        () => client.workflow.count(`WorkflowId = '${id}'`),
        (c) => c.count === 2,
      );

      expect(waiting.version).toBe(2);
      expect(outcome.status).toBe('agreed');
      expect(runs.count).toBe(2);
      const documents = (await transcriptOf(client, id)).match(/^> \*\*.+ \((Proposal|Review) V\d\)\*\*:$/gm);
      expect(documents).toEqual([
        '> **Harbor Apps (Proposal V1)**:',
        '> **Northwind Foods (Review V1)**:',
        '> **Harbor Apps (Proposal V2)**:',
        '> **Northwind Foods (Review V2)**:',
      ]);
    } finally {
      await worker.stop();
      await client.connection.close();
    }
  });
});

describe('webhook notifications', () => {
  it('posts an event when a negotiation starts waiting for a decision and when it ends', async () => {
    const received: { type: string; status: string; pendingGate?: string }[] = [];
    const hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(JSON.parse(body));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const client = await testClient();
    const worker = await startTestWorker(undefined, undefined, {
      webhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
    });
    try {
      const id = await firstPairAwaitingApproval(client, await tender(), worker.taskQueue);
      await eventually(
        async () => received.length,
        (n) => n >= 1,
      );

      await client.workflow.getHandle(id).executeUpdate(decisionUpdates.approve, { args: [{ by: 'hank' }] });
      await eventually(
        async () => received.length,
        (n) => n >= 2,
      );

      expect(received.map((e) => [e.type, e.status, e.pendingGate])).toEqual([
        ['negotiation.awaiting_decision', 'awaiting_approval', 'acceptance'],
        ['negotiation.settled', 'agreed', undefined],
      ]);
    } finally {
      await worker.stop();
      await client.connection.close();
      hook.close();
    }
  });

  it('schedules no delivery while workers without a webhook run the negotiation, and one after a gate', async () => {
    const client = await testClient();
    const worker = await startTestWorker(undefined, undefined, { webhookUrl: '' });
    try {
      const id = await firstPairAwaitingApproval(client, await tender(), worker.taskQueue);
      await client.workflow.getHandle(id).executeUpdate(decisionUpdates.approve, { args: [{ by: 'hank' }] });
      await client.workflow.getHandle(id).result();

      const history = await client.workflow.getHandle(id).fetchHistory();
      const activityTypes = (history.events ?? []).flatMap((e) =>
        e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : [],
      );
      // After a wait for a person the workers may have a webhook by now, so the settled event is attempted.
      expect(activityTypes.slice(0, -1)).not.toContain('notifyWebhook');
      expect(activityTypes.at(-1)).toBe('notifyWebhook');
      expect((await negotiationStatus(client, id)).status).toBe('agreed');
    } finally {
      await worker.stop();
      await client.connection.close();
    }
  });
});
