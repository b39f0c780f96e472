import type { Client } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OpenAiModel } from '../src/activities/openai-model';
import { runScenario } from '../src/cli/run-scenario';
import { negotiationStatus } from '../src/cli/simulations';
import { proposalSchema, reviewSchema } from '../src/negotiation/documents';
import { loadScenario } from '../src/scenario/load';
import type { Scenario } from '../src/scenario/schema';
import { parseTranscript, type ParsedDocument } from '../src/transcript/parse';
import {
  FakeOpenAiServer,
  answered,
  completion,
  documentFor,
  faults,
  sampleProposal,
  sampleReview,
  requestedDocument,
  type FakeHandler,
  type FakeReply,
  type RecordedRequest,
} from './support/fake-openai-server';
import { startTestWorker, testClient, type RunningWorker } from './support/temporal';

/** The activities' retry policy in src/workflows/negotiation.ts. */
const MAXIMUM_ATTEMPTS = 5;
const API_KEY = 'sk-test-parley-faults-0123456789SECRETKEY';
const llm = { provider: 'openai', model: 'test-model' } as const;
const runsDir = mkdtempSync(path.join(os.tmpdir(), 'parley-faults-'));

/** Which fault a request got; invalid answers are the ones the next attempt must repair. */
type FaultKind = 'rateLimited' | 'serverError' | 'codeFenced' | 'schemaViolating' | 'truncated' | 'chatter';
const rotation: FaultKind[] = ['rateLimited', 'serverError', 'codeFenced', 'schemaViolating', 'truncated', 'chatter'];

/** A fault on every third call, in turn from `rotation`; `given` records which request got which. */
function everyThirdCallFaulty(given: Map<RecordedRequest, FaultKind>): FakeHandler {
  let calls = 0;
  return (request) => {
    calls++;
    if (calls % 3 !== 0) return valid(request);
    const kind = rotation[(calls / 3 - 1) % rotation.length];
    given.set(request, kind);
    const marker = ` #${calls}`;
    const replies: Record<FaultKind, () => FakeReply> = {
      rateLimited: () => faults.rateLimited(1),
      serverError: () => faults.serverError(),
      codeFenced: () => faults.codeFenced(requestedDocument(request) === 'review' ? sampleReview() : sampleProposal()),
      schemaViolating: () => faults.schemaViolating(marker),
      truncated: () => faults.truncated(),
      chatter: () => faults.chatter(request, marker),
    };
    return replies[kind]();
  };
}

/** A valid document of the kind asked for, whichever way the request asks for JSON. */
function valid(request: RecordedRequest): FakeReply {
  return completion(documentFor(request));
}

/** The messages of a request. */
function messagesOf(request: RecordedRequest): { role: string; content: string }[] {
  return request.body.messages;
}

/** Which document a request is for: its user prompt names the parties, the round and what came before. */
function documentKey(request: RecordedRequest): string {
  return messagesOf(request)[1].content;
}

/** The requests after `request` for the same document. */
function laterAttempts(requests: RecordedRequest[], request: RecordedRequest): RecordedRequest[] {
  const key = documentKey(request);
  return requests.slice(requests.indexOf(request) + 1).filter((r) => documentKey(r) === key);
}

/** The history as `temporal workflow show` would print it, payloads decoded as text. */
async function historyText(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return JSON.stringify(history, (_key, value: unknown) =>
    value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : value,
  );
}

function sumUsage(requests: RecordedRequest[]): { prompt: number; completion: number } {
  return requests.reduce(
    (sum, request) => {
      const usage = answered(request).usage;
      return usage
        ? { prompt: sum.prompt + usage.prompt_tokens, completion: sum.completion + usage.completion_tokens }
        : sum;
    },
    { prompt: 0, completion: 0 },
  );
}

describe('model faults, end to end on a real Temporal server', () => {
  let server: FakeOpenAiServer;
  let worker: RunningWorker;
  let client: Client;
  let seed: Scenario;
  /** The seed scenario with its first pair only, for the cases that need one negotiation. */
  let onePair: Scenario;
  /** How long each model request may take: the model's default unless a test about a stalling server cuts it. */
  let requestTimeoutMs: number | undefined;

  beforeAll(async () => {
    server = await FakeOpenAiServer.start();
    worker = await startTestWorker((choice) => {
      if (choice.provider !== 'openai') throw new Error(`this worker serves the openai provider only`);
      return new OpenAiModel({
        apiKey: API_KEY,
        baseURL: server.baseURL,
        model: choice.model ?? 'test-model',
        timeoutMs: requestTimeoutMs,
      });
    });
    client = await testClient();
    seed = await loadScenario(path.resolve(__dirname, '../scenarios/seed.yaml'));
    onePair = { ...seed, pairs: seed.pairs.slice(0, 1) };
  });
  beforeEach(() => {
    server.reset();
    requestTimeoutMs = undefined;
  });
  afterAll(async () => {
    await worker?.stop();
    await client?.connection.close();
    await server?.close();
  });

  const run = (scenario: Scenario) =>
    runScenario(client, scenario, llm, { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir });

  it('settles every seed negotiation with only valid documents when every third model call fails', async () => {
    const given = new Map<RecordedRequest, FaultKind>();
    server.setHandler(everyThirdCallFaulty(given));

    const result = await run(seed);

    expect(result.outcomes!.map((o) => o.status)).toEqual(['no_agreement', 'no_agreement', 'no_agreement']);
    const transcript = parseTranscript(await readFile(result.transcriptFile!, 'utf8'));
    const documents = transcript.entries.filter((e): e is ParsedDocument => e.type === 'document');
    for (const pair of seed.pairs) {
      const proposals = documents.filter((d) => d.label === 'Proposal' && d.actor === pair.vendor);
      const reviews = documents.filter((d) => d.label === 'Review' && d.actor === pair.client);
      expect(proposals.map((p) => p.version)).toEqual([1, 2, 3]);
      expect(reviews.map((r) => r.version)).toEqual([1, 2, 3]);
      proposals.forEach((p) => expect(proposalSchema.parse(p.body).version).toBe(p.version));
      reviews.forEach((r) => expect(reviewSchema.safeParse(r.body).success).toBe(true));
    }

    const requests = server.requests;
    // Every kind of fault happened, so every recovery below was exercised.
    expect(new Set(given.values())).toEqual(new Set(rotation));
    for (const [request, kind] of given) {
      const next = laterAttempts(requests, request)[0];
      // A ```json fence around a valid document is accepted as it is: the document needs no second attempt.
      if (kind === 'codeFenced') {
        expect(next).toBeUndefined();
        continue;
      }
      expect(next).toBeDefined();
      if (kind === 'schemaViolating' || kind === 'chatter') {
        const badAnswer = answered(request).content;
        const turn = messagesOf(next).slice(-2);
        expect(turn[0]).toEqual({ role: 'assistant', content: badAnswer });
        expect(turn[1]).toMatchObject({ role: 'user', content: expect.stringMatching(/^Your answer was invalid: /) });
      }
      if (kind === 'truncated') expect(next.body.max_tokens).toBeGreaterThan(0);
      if (kind === 'rateLimited') expect(next.receivedAt - request.receivedAt).toBeGreaterThanOrEqual(1_000);
    }
    const attempts = new Map<string, number>();
    for (const request of requests) attempts.set(documentKey(request), (attempts.get(documentKey(request)) ?? 0) + 1);
    expect(attempts.size).toBe(18);
    expect(Math.max(...attempts.values())).toBeLessThanOrEqual(MAXIMUM_ATTEMPTS);
    // Failed attempts that got an answer cost tokens too, and are counted.
    const tokens = { prompt: 0, completion: 0 };
    for (const outcome of result.outcomes!) {
      tokens.prompt += outcome.tokens!.prompt;
      tokens.completion += outcome.tokens!.completion;
    }
    expect(tokens).toEqual(sumUsage(requests));
  });

  it('fails a negotiation on a rejected API key, naming the step, the party and MODEL_AUTH, and never shows the key', async () => {
    server.setHandler(() => faults.unauthorized(API_KEY));

    const result = await run(onePair);

    const [outcome] = result.outcomes!;
    expect(outcome.status).toBe('failed');
    expect(outcome.failure).toMatch(/^Nebula AI failed drafting proposal V1: MODEL_AUTH: /);
    expect(server.requests).toHaveLength(1);
    const transcript = await readFile(result.transcriptFile!, 'utf8');
    expect(transcript).toContain('MODEL_AUTH');
    expect(transcript).not.toContain(API_KEY);
    for (const id of [result.simulation.simulationId, outcome.negotiationId]) {
      const history = await historyText(client, id);
      expect(history).not.toContain(API_KEY);
    }
    // The server echoed the key; what reached the history is the scrubbed message.
    expect(await historyText(client, outcome.negotiationId)).toContain('Incorrect API key provided: [redacted]');
  });

  it('fails a negotiation at once on an unknown model, with MODEL_NOT_FOUND', async () => {
    server.setHandler((request) => faults.unknownModel(request.body.model));

    const [outcome] = (await run(onePair)).outcomes!;

    expect(outcome.status).toBe('failed');
    expect(outcome.failure).toMatch(/^Nebula AI failed drafting proposal V1: MODEL_NOT_FOUND: .*test-model/);
    expect(server.requests).toHaveLength(1);
  });

  it('fails a negotiation at once when the model refuses, quoting the refusal', async () => {
    server.enqueue(valid, faults.refusal('I will not review this proposal.'));

    const [outcome] = (await run(onePair)).outcomes!;

    expect(outcome.status).toBe('failed');
    expect(outcome.failure).toMatch(
      /^ShopifyPlus Inc failed reviewing proposal V1: MODEL_REFUSED: .*I will not review this proposal\./,
    );
    expect(server.requests).toHaveLength(2);
  });

  it('fails a negotiation with MODEL_BAD_RESPONSE, quoting the page, when every attempt gets HTML', async () => {
    server.setHandler(() => faults.htmlPage());

    const result = await run(onePair);

    const [outcome] = result.outcomes!;
    expect(outcome.status).toBe('failed');
    expect(outcome.failure).toMatch(/^Nebula AI failed drafting proposal V1: MODEL_BAD_RESPONSE: /);
    expect(outcome.failure).toContain(
      'The server answered 200 with text/html instead of a chat completion: <!DOCTYPE html>',
    );
    expect(server.requests).toHaveLength(MAXIMUM_ATTEMPTS);
    expect(await readFile(result.transcriptFile!, 'utf8')).toContain('MODEL_BAD_RESPONSE: The server answered 200');
  }, 90_000);

  it('settles a negotiation whose first answer was an HTML page, asking again for the same document', async () => {
    server.enqueue(faults.htmlPage());

    const result = await run(onePair);

    const status = await negotiationStatus(client, result.outcomes![0].negotiationId);
    expect(status.status).toBe('no_agreement');
    expect(server.requests).toHaveLength(7);
    expect(laterAttempts(server.requests, server.requests[0])[0]).toBe(server.requests[1]);
    expect(status.tokens).toEqual(sumUsage(server.requests));
  });

  it('retries a call whose answer stalls after the headers once the request times out, and settles', async () => {
    requestTimeoutMs = 500;
    server.enqueue(faults.stalledBody());

    const result = await run(onePair);

    const { negotiationId } = result.outcomes![0];
    expect((await negotiationStatus(client, negotiationId)).status).toBe('no_agreement');
    expect(server.requests).toHaveLength(7);
    expect(server.requests[0].abortedByClient).toBe(true);
    const { events } = await client.workflow.getHandle(negotiationId).fetchHistory();
    const retried = events!.find((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    expect(retried?.activityTaskStartedEventAttributes).toMatchObject({
      attempt: 2,
      lastFailure: { applicationFailureInfo: { type: 'MODEL_TIMEOUT' } },
    });
  });

  it('counts the tokens the API reported for every document of a negotiation', async () => {
    const result = await run(onePair);

    const status = await negotiationStatus(client, result.outcomes![0].negotiationId);
    expect(status.status).toBe('no_agreement');
    expect(server.requests).toHaveLength(6);
    expect(status.tokens).toEqual(sumUsage(server.requests));
    expect(status.tokens!.prompt).toBeGreaterThan(0);
  });
});

describe('a runaway model answer', () => {
  it('ends the negotiation as failed with the size named, instead of breaking the workflow history', async () => {
    const client = await testClient();
    const server = await FakeOpenAiServer.start();
    const huge = 'x'.repeat(300 * 1024);
    server.setHandler((request) =>
      completion(
        JSON.stringify(
          requestedDocument(request) === 'review' ? sampleReview() : sampleProposal({ technical_design: huge }),
        ),
      ),
    );
    const model = new OpenAiModel({ apiKey: API_KEY, baseURL: server.baseURL, model: 'test-model' });
    const worker = await startTestWorker(() => model);
    try {
      const seed = await loadScenario(path.resolve(__dirname, '../scenarios/seed.yaml'));

      const run = await runScenario(client, { ...seed, pairs: seed.pairs.slice(0, 1) }, llm, {
        wait: true,
        quiet: true,
        taskQueue: worker.taskQueue,
        runsDir,
      });

      expect(run.outcomes![0].status).toBe('failed');
      expect(run.outcomes![0].failure).toMatch(
        /^Nebula AI failed drafting proposal V1: DOCUMENT_TOO_LARGE: the proposal is \d+ bytes of JSON, over the 262144-byte limit/,
      );
    } finally {
      await worker.stop();
      await server.close();
      await client.connection.close();
    }
  });
});
