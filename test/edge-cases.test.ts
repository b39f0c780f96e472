/**
 * Edge cases an adversarial pass found around worker tuning, model answers that are not completions, webhook
 * deliveries around a gate and repeated decisions; each names the behaviour that now holds.
 */
import type { Client } from '@temporalio/client';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { OpenAiModel } from '../src/activities/openai-model';
import type { DraftProposalInput } from '../src/activities/types';
import { workerCommand } from '../src/cli/commands/worker';
import { negotiationStatus } from '../src/cli/simulations';
import { loadScenario } from '../src/scenario/load';
import { createWorker } from '../src/worker';
import { sendDecision } from '../src/cli/decisions';
import { approve, decisionUpdates } from '../src/workflows/messages';
import { eventually } from './support/eventually';
import { failureOf } from './support/failures';
import { firstPairAwaitingApproval } from './support/negotiations';
import { startTestWorker, testAddress, testClient } from './support/temporal';

const API_KEY = 'sk-test-parley-0123456789abcdefSECRET';

/** A loopback server answering every request with `answer`. */
async function answering(answer: (res: import('node:http').ServerResponse) => void): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function modelAt(server: Server): OpenAiModel {
  return new OpenAiModel({
    apiKey: API_KEY,
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    model: 'gpt-test',
    timeoutMs: 2_000,
  });
}

const draftInput: DraftProposalInput = {
  negotiationId: 'n-1',
  language: 'en',
  llm: { provider: 'openai' },
  client: {
    name: 'Northwind Foods',
    project: 'Ordering app',
    brief: 'An app to order groceries.',
    needs: [{ topic: 'performance', ask: 'Fast', weight: 3 }],
    deadline: { weeks: 8, text: 'Soon' },
  },
  vendor: { name: 'Harbor Apps', profile: 'Mobile apps.', strengths: ['mobile'], baseWeeks: 8, diligence: 0.5 },
  version: 1,
} as unknown as DraftProposalInput;

describe('worker tuning as the SDK applies it', () => {
  it('polls as many times at once as --workflow-pollers and --activity-pollers say', async () => {
    const { worker, connection } = await createWorker({
      target: { address: testAddress(), namespace: 'default' },
      taskQueue: 'adversarial-2-pollers',
      tuning: { maxConcurrentWorkflowTaskPolls: 3, maxConcurrentActivityTaskPolls: 4 },
    });
    const running = worker.run();
    try {
      expect(worker.options.workflowTaskPollerBehavior).toMatchObject({ type: 'simple-maximum', maximum: 3 });
      expect(worker.options.activityTaskPollerBehavior).toMatchObject({ type: 'simple-maximum', maximum: 4 });
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });

  it.each([
    ['--max-cached-workflows', '1'],
    ['--workflow-pollers', '1'],
  ])('refuses %s %s, which the SDK would change or refuse with a misleading error', async (flag, value) => {
    const errors: string[] = [];
    const command = workerCommand()
      .exitOverride()
      .configureOutput({ writeErr: (text) => errors.push(text) })
      .action(() => {});

    await expect(command.parseAsync([flag, value], { from: 'user' })).rejects.toMatchObject({
      code: 'commander.invalidArgument',
    });
    expect(errors.join('')).toContain(`'${value}' is invalid`);
  });
});

describe('model answers that are not chat completions', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it.each([
    ['an empty body', ''],
    ['null', 'null'],
    ['a bare string', '"ok"'],
  ])('fails a 200 with %s as a retryable MODEL_BAD_RESPONSE', async (_, body) => {
    server = await answering((res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    const err = await failureOf(modelAt(server).draftProposal(draftInput));
    expect(err).toMatchObject({ code: 'MODEL_BAD_RESPONSE', isRetryable: true });
  });

  it('never quotes any part of the API key from a 200 whose JSON does not parse', async () => {
    server = await answering((res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(`{"error": ${API_KEY} is not a valid key}`),
    );
    const err = await failureOf(modelAt(server).draftProposal(draftInput));
    expect(err).toMatchObject({ code: 'MODEL_BAD_RESPONSE' });
    expect(JSON.stringify({ message: err.message, cause: String(err.cause) })).not.toMatch(/sk-test|SECRET|0123456789/);
  });
});

describe('webhook deliveries around a gate', () => {
  let client: Client;
  beforeAll(async () => {
    client = await testClient();
  });
  afterAll(async () => {
    await client.connection.close();
  });

  it('posts the settled event when a webhook was added while the negotiation waited at its gate', async () => {
    const received: string[] = [];
    const hook = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(JSON.parse(body).type);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const scenario = await loadScenario(path.resolve(__dirname, '../scenarios/quick-agreement.yaml'));
    const before = await startTestWorker(undefined, undefined, { webhookUrl: '' });
    let after: Awaited<ReturnType<typeof startTestWorker>> | undefined;
    try {
      const id = await firstPairAwaitingApproval(client, scenario, before.taskQueue);
      // The operator restarts the workers with a webhook while the negotiation waits for a person.
      await before.stop();
      after = await startTestWorker(undefined, before.taskQueue, {
        webhookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`,
      });

      await client.workflow.getHandle(id).executeUpdate(decisionUpdates.approve, { args: [{ by: 'hank' }] });
      await client.workflow.getHandle(id).result();

      await eventually(
        async () => received,
        (types) => types.includes('negotiation.settled'),
      );
      expect(received).toEqual(['negotiation.settled']);
    } finally {
      await after?.stop();
      hook.close();
    }
  });
});

describe('a repeated decision with the same request id', () => {
  it('answers a repeat of a signalled approval that closed the negotiation with its settled outcome', async () => {
    const client = await testClient();
    const worker = await startTestWorker();
    try {
      const scenario = await loadScenario(path.resolve(__dirname, '../scenarios/quick-agreement.yaml'));
      const id = await firstPairAwaitingApproval(client, scenario, worker.taskQueue);
      const handle = client.workflow.getHandle(id);
      await handle.signal(approve, { by: 'ivy', requestId: 'req-7' });
      await handle.signal(approve, { by: 'ivy', requestId: 'req-7' });
      await handle.result();

      const repeat = await sendDecision(client, id, 'approve', { by: 'ivy', requestId: 'req-7' });

      expect(repeat).toMatchObject({ decision: 'approve', by: 'ops:ivy', status: 'agreed' });
      expect((await negotiationStatus(client, id)).notices ?? []).toEqual([]);
    } finally {
      await worker.stop();
      await client.connection.close();
    }
  });
});
