import {
  ModelApiError,
  ModelBadResponseError,
  ModelConfigError,
  ModelError,
  ModelInvalidJsonError,
  ModelRefusalError,
  ModelSchemaError,
  ModelTruncatedError,
} from '../src/activities/errors';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../src/activities';
import { DEFAULT_OPENAI_MODEL, OpenAiModel, maxTokensParam, openAiModelFromEnv } from '../src/activities/openai-model';
import { MAX_REPAIR_ANSWER_CHARS, type RepairState } from '../src/activities/repair';
import type { DraftProposalInput, DraftProposalResult, ReviewProposalInput } from '../src/activities/types';
import type { Client, Vendor } from '../src/scenario/schema';
import { failureOf } from './support/failures';
import {
  FakeOpenAiServer,
  answered,
  completion,
  faults,
  sampleProposal,
  sampleReview,
  type RecordedRequest,
} from './support/fake-openai-server';

const API_KEY = 'sk-test-parley-0123456789abcdefSECRET';

const client: Client = {
  name: 'ShopifyPlus Inc',
  project: 'Real-time product recommendations for the Double 11 peak',
  brief: 'Our storefront needs personalised recommendations that hold up at peak traffic.',
  needs: [
    { topic: 'performance', ask: 'Answer within 50 ms at 500k QPS', weight: 5 },
    { topic: 'business_value', ask: 'Lift conversion by 20%', weight: 3 },
  ],
  deadline: { weeks: 12, text: 'Live before Double 11' },
  reveals: [
    { round: 3, needs: [{ topic: 'security', ask: 'Encrypt all user profiles at rest', weight: 4 }] },
    {
      round: 4,
      needs: [{ topic: 'compliance', ask: 'Pass a PIPL audit', weight: 4 }],
      deadline: { weeks: 8, text: 'Live two weeks before Double 11' },
    },
  ],
  acceptAt: 0.85,
  rejectBelow: 0.25,
};

const vendor: Vendor = {
  name: 'Nebula AI',
  profile: 'A machine-learning boutique that builds recommendation systems for retailers.',
  strengths: ['machine_learning', 'performance'],
  baseWeeks: 10,
  diligence: 0.5,
};

function draftInput(overrides: Partial<DraftProposalInput> = {}): DraftProposalInput {
  return {
    negotiationId: 'n-1',
    language: 'en',
    llm: { provider: 'openai' },
    client: {
      name: client.name,
      project: client.project,
      brief: client.brief,
      needs: client.needs,
      deadline: client.deadline,
    },
    vendor,
    version: 1,
    ...overrides,
  };
}

function reviewInput(overrides: Partial<ReviewProposalInput> = {}): ReviewProposalInput {
  return {
    negotiationId: 'n-1',
    language: 'en',
    llm: { provider: 'openai' },
    client,
    vendorName: vendor.name,
    round: 1,
    maxRounds: 9,
    proposal: sampleProposal(),
    ...overrides,
  };
}

function promptOf(request: RecordedRequest): { role: string; content: string }[] {
  return request.body.messages;
}

function promptChars(request: RecordedRequest): number {
  return promptOf(request).reduce((sum, message) => sum + message.content.length, 0);
}

describe('OpenAiModel', () => {
  let server: FakeOpenAiServer;
  let model: OpenAiModel;

  beforeEach(async () => {
    server = await FakeOpenAiServer.start();
    model = new OpenAiModel({ apiKey: API_KEY, baseURL: server.baseURL, model: 'gpt-test', timeoutMs: 5_000 });
  });

  afterEach(async () => {
    await server.close();
  });

  describe('drafting and reviewing', () => {
    it('drafts a valid proposal, sending a strict json_schema response format and the bearer key', async () => {
      const proposal = await model.draftProposal(draftInput());

      expect(proposal).toEqual(sampleProposal({ version: 1 }));
      expect(server.requests).toHaveLength(1);
      const [request] = server.requests;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/v1/chat/completions');
      expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request.body.model).toBe('gpt-test');
      expect(request.body.response_format).toMatchObject({
        type: 'json_schema',
        json_schema: {
          name: 'proposal',
          strict: true,
          schema: {
            type: 'object',
            additionalProperties: false,
            required: expect.arrayContaining(['version', 'technical_design', 'feature_list', 'timeline']),
          },
        },
      });
      expect(promptOf(request).map((m) => m.role)).toEqual(['system', 'user']);
      expect(promptOf(request)[0].content).toContain('Nebula AI');
      expect(promptOf(request)[1].content).toContain('Answer within 50 ms at 500k QPS');
    });

    it('leaves out the schema keywords strict mode rejects, while still validating them locally', async () => {
      await model.draftProposal(draftInput());

      const schema = JSON.stringify(server.requests[0].body.response_format.json_schema.schema);
      expect(schema).not.toContain('minLength');
      expect(schema).not.toContain('maxLength');
    });

    it('returns the version the workflow asked for, whatever number the model wrote', async () => {
      server.enqueue(completion(JSON.stringify(sampleProposal({ version: 1 }))));

      const proposal = await model.draftProposal(draftInput({ version: 4 }));

      expect(proposal.version).toBe(4);
    });

    it('sends the latest proposal and review when revising, and asks for the next version', async () => {
      const previousProposal = sampleProposal({ version: 2, technical_design: 'A design without any cache.' });
      const lastReview = sampleReview({ weaknesses: ['The cache layer is missing.'] });

      await model.draftProposal(draftInput({ version: 3, previousProposal, lastReview }));

      const user = promptOf(server.requests[0])[1].content;
      expect(user).toContain('A design without any cache.');
      expect(user).toContain('The cache layer is missing.');
      expect(user).toContain('Add an ROI analysis with expected conversion uplift.');
      expect(user).toContain('Write proposal version 3');
    });

    it('reviews a proposal: the client sees the proposal and answers with a valid review', async () => {
      const proposal = sampleProposal({ technical_design: 'Redis cache plus ANN retrieval.' });

      const review = await model.reviewProposal(reviewInput({ proposal }));

      expect(review).toEqual(sampleReview());
      const [request] = server.requests;
      expect(request.body.response_format.json_schema.name).toBe('review');
      expect(request.body.response_format.json_schema.strict).toBe(true);
      const [system, user] = promptOf(request);
      expect(system.content).toContain('ShopifyPlus Inc');
      for (const level of ['accepted', 'needs_minor_revision', 'needs_major_revision', 'rejected']) {
        expect(system.content).toContain(level);
      }
      expect(user.content).toContain('Redis cache plus ANN retrieval.');
    });

    it('tells the client only the needs and deadline it has revealed by the round under review', async () => {
      await model.reviewProposal(reviewInput({ round: 3 }));
      await model.reviewProposal(reviewInput({ round: 4 }));

      const round3 = promptOf(server.requests[0])[0].content;
      const round4 = promptOf(server.requests[1])[0].content;
      expect(round3).toContain('Encrypt all user profiles at rest');
      expect(round3).not.toContain('Pass a PIPL audit');
      expect(round3).toContain('Live before Double 11');
      expect(round4).toContain('Pass a PIPL audit');
      expect(round4).toContain('Live two weeks before Double 11 (8 weeks)');
    });

    it('includes the previous review when the client reviews a revision', async () => {
      const previousReview = sampleReview({ weaknesses: ['Latency budget not broken down.'] });

      await model.reviewProposal(reviewInput({ round: 2, previousReview }));

      expect(promptOf(server.requests[0])[1].content).toContain('Latency budget not broken down.');
    });

    it('asks for the text in Simplified Chinese when the scenario is in Chinese', async () => {
      await model.draftProposal(draftInput({ language: 'zh' }));
      await model.reviewProposal(reviewInput({ language: 'zh' }));

      expect(promptOf(server.requests[0])[0].content).toContain('Simplified Chinese');
      expect(promptOf(server.requests[1])[0].content).toContain('Simplified Chinese');
    });

    it('accepts JSON wrapped in a ```json code fence', async () => {
      server.enqueue(faults.codeFenced(sampleReview({ overall_satisfaction: 'accepted' })));

      const review = await model.reviewProposal(reviewInput());

      expect(review.overall_satisfaction).toBe('accepted');
    });
  });

  describe('prompt size', () => {
    it('does not grow with the version number for the vendor', async () => {
      const previousProposal = sampleProposal({ version: 1 });
      const lastReview = sampleReview();

      await model.draftProposal(draftInput({ version: 2, previousProposal, lastReview }));
      await model.draftProposal(
        draftInput({ version: 6, previousProposal: { ...previousProposal, version: 5 }, lastReview }),
      );

      const [round2, round6] = server.requests.map(promptChars);
      expect(round6).toBe(round2);
    });

    it('does not grow with the round number for the client', async () => {
      const noReveals: Client = { ...client, reveals: [] };
      const previousReview = sampleReview();

      await model.reviewProposal(
        reviewInput({ client: noReveals, round: 2, proposal: sampleProposal({ version: 2 }), previousReview }),
      );
      await model.reviewProposal(
        reviewInput({ client: noReveals, round: 6, proposal: sampleProposal({ version: 6 }), previousReview }),
      );

      const [round2, round6] = server.requests.map(promptChars);
      expect(round6).toBe(round2);
    });
  });

  describe('failures', () => {
    it('maps a 429 to a retryable rate-limit error carrying Retry-After, without retrying inside the client', async () => {
      server.enqueue(faults.rateLimited(7));

      const err = await failureOf(model.draftProposal(draftInput()));

      expect(err).toBeInstanceOf(ModelApiError);
      expect(err).toMatchObject({ code: 'MODEL_RATE_LIMITED', isRetryable: true, status: 429, retryAfterMs: 7_000 });
      expect(server.requests).toHaveLength(1);
    });

    it('maps a 500 to a retryable server error, without retrying inside the client', async () => {
      server.enqueue(faults.serverError());

      const err = await failureOf(model.reviewProposal(reviewInput()));

      expect(err).toMatchObject({ code: 'MODEL_SERVER_ERROR', isRetryable: true, status: 500 });
      expect(server.requests).toHaveLength(1);
    });

    it.each([
      ['401', faults.unauthorized(API_KEY), 'MODEL_AUTH', 401],
      ['404 unknown model', faults.unknownModel('gpt-test'), 'MODEL_NOT_FOUND', 404],
      ['400', faults.badRequest(), 'MODEL_BAD_REQUEST', 400],
    ])('maps a %s to a non-retryable error', async (_label, reply, code, status) => {
      server.enqueue(reply);

      const err = await failureOf(model.draftProposal(draftInput()));

      expect(err).toBeInstanceOf(ModelApiError);
      expect(err).toMatchObject({ code, isRetryable: false, status });
    });

    it('maps a refusal to a non-retryable refusal error that quotes the model', async () => {
      server.enqueue(faults.refusal('I cannot help with that request.'));

      const err = await failureOf(model.draftProposal(draftInput()));

      expect(err).toBeInstanceOf(ModelRefusalError);
      expect(err).toMatchObject({ code: 'MODEL_REFUSED', isRetryable: false });
      expect(err.message).toContain('I cannot help with that request.');
    });

    it('maps a truncated answer to a truncation error', async () => {
      server.enqueue(faults.truncated());

      const err = await failureOf(model.draftProposal(draftInput()));

      expect(err).toBeInstanceOf(ModelTruncatedError);
      expect(err.code).toBe('MODEL_TRUNCATED');
    });

    it('maps a schema-violating answer to a validation error naming the field', async () => {
      server.enqueue(faults.schemaViolating());

      const err = await failureOf(model.draftProposal(draftInput()));

      expect(err).toBeInstanceOf(ModelSchemaError);
      expect(err.code).toBe('MODEL_SCHEMA_VIOLATION');
      expect(err.message).toMatch(/feature_list: /);
      expect((err as ModelSchemaError).issues.map((issue) => issue.path)).toEqual(['feature_list']);
    });

    it('rejects a review whose satisfaction level is not one of the four allowed', async () => {
      server.enqueue(completion(JSON.stringify({ ...sampleReview(), overall_satisfaction: 'delighted' })));

      const err = await failureOf(model.reviewProposal(reviewInput()));

      expect(err).toBeInstanceOf(ModelSchemaError);
      expect(err.message).toContain('overall_satisfaction');
    });

    it('maps an answer that is not JSON to a retryable invalid-JSON error', async () => {
      server.enqueue(faults.notJson());

      const err = await failureOf(model.draftProposal(draftInput()));

      expect(err).toBeInstanceOf(ModelInvalidJsonError);
      expect(err).toMatchObject({ code: 'MODEL_INVALID_JSON', isRetryable: true });
    });

    it('maps a server slower than the timeout to a retryable timeout error', async () => {
      const impatient = new OpenAiModel({
        apiKey: API_KEY,
        baseURL: server.baseURL,
        model: 'gpt-test',
        timeoutMs: 200,
      });
      server.enqueue(faults.slow(5_000));

      const err = await failureOf(impatient.draftProposal(draftInput()));

      expect(err).toMatchObject({ code: 'MODEL_TIMEOUT', isRetryable: true });
      expect(server.requests).toHaveLength(1);
    });

    it('maps a 200 HTML page to a retryable bad-response error that names what came back', async () => {
      server.enqueue(faults.htmlPage());

      const err = await failureOf(model.draftProposal(draftInput()));

      expect(err).toBeInstanceOf(ModelBadResponseError);
      expect(err).toMatchObject({ code: 'MODEL_BAD_RESPONSE', isRetryable: true, status: 200 });
      expect(err.message).toMatch(
        /^The server answered 200 with text\/html instead of a chat completion: <!DOCTYPE html> <html> <head>/,
      );
      expect(err.message).not.toContain('\n');
      expect(err.message.length).toBeLessThan(250);
    });

    it('maps 200 JSON without choices to a retryable bad-response error quoting the JSON', async () => {
      server.enqueue(faults.noChoices());

      const err = await failureOf(model.reviewProposal(reviewInput()));

      expect(err).toBeInstanceOf(ModelBadResponseError);
      expect(err).toMatchObject({ code: 'MODEL_BAD_RESPONSE', isRetryable: true });
      expect(err.message).toBe(
        'The server answered 200 with JSON that is not a chat completion (it has no choices): ' +
          '{"id":"resp_fake","object":"response","status":"completed","output":[]}',
      );
    });

    it('maps a 200 whose JSON does not parse to a retryable bad-response error', async () => {
      server.enqueue(faults.brokenJson());

      const err = await failureOf(model.draftProposal(draftInput()));

      expect(err).toBeInstanceOf(ModelBadResponseError);
      expect(err).toMatchObject({ code: 'MODEL_BAD_RESPONSE', isRetryable: true, status: 200 });
      expect(err.message).toMatch(/^The server answered 200 with JSON that does not parse: /);
      expect(err.message).not.toContain('\n');
    });

    it('times out a server that sends the headers and then stalls the body, long before the stall ends', async () => {
      const impatient = new OpenAiModel({
        apiKey: API_KEY,
        baseURL: server.baseURL,
        model: 'gpt-test',
        timeoutMs: 500,
      });
      server.enqueue(faults.stalledBody());
      const started = Date.now();

      const err = await failureOf(impatient.draftAttempt(draftInput()));
      const elapsedMs = Date.now() - started;
      const answer = await impatient.draftAttempt(draftInput(), { repair: err.nextAttempt });

      expect(err).toBeInstanceOf(ModelApiError);
      expect(err).toMatchObject({ code: 'MODEL_TIMEOUT', isRetryable: true });
      expect(err.message).toContain('timed out after 500 ms');
      expect(elapsedMs).toBeLessThan(3_000);
      await waitUntil(() => server.requests[0].abortedByClient);
      expect(server.requests[0].abortedByClient).toBe(true);
      expect(answer.document).toEqual(sampleProposal());
    }, 10_000);

    it('maps a refused connection to a retryable connection error', async () => {
      const gone = await FakeOpenAiServer.start();
      await gone.close();
      const unreachable = new OpenAiModel({ apiKey: API_KEY, baseURL: gone.baseURL, model: 'gpt-test' });

      const err = await failureOf(unreachable.draftProposal(draftInput()));

      expect(err).toMatchObject({ code: 'MODEL_CONNECTION', isRetryable: true });
    });

    it('aborts the request in flight when the signal is aborted, failing with the abort reason', async () => {
      server.enqueue(faults.slow(10_000));
      const controller = new AbortController();
      const reason = new Error('activity cancelled');
      const call = failureOf(model.draftProposal(draftInput(), controller.signal));
      await server.waitForRequests(1);
      const started = Date.now();

      controller.abort(reason);
      const err = await call;

      expect(err).toBe(reason);
      expect(Date.now() - started).toBeLessThan(2_000);
      await waitUntil(() => server.requests[0].abortedByClient);
      expect(server.requests[0].abortedByClient).toBe(true);
    });

    it('fails with the abort reason, not a timeout, when the signal is aborted while the body stalls', async () => {
      server.enqueue(faults.stalledBody());
      const controller = new AbortController();
      const reason = new Error('activity cancelled');
      const call = failureOf(model.draftProposal(draftInput(), controller.signal));
      await server.waitForRequests(1);
      // Lets the headers reach the client, so the abort lands while the body is being read.
      await new Promise((resolve) => setTimeout(resolve, 200));

      controller.abort(reason);
      const err = await call;

      expect(err).toBe(reason);
      await waitUntil(() => server.requests[0].abortedByClient);
      expect(server.requests[0].abortedByClient).toBe(true);
    });

    it('never puts the API key in an error message, stack or cause, even when the server echoes it', async () => {
      const replies = [
        faults.unauthorized(API_KEY),
        faults.rateLimited(),
        faults.serverError(),
        faults.unknownModel(),
        faults.badRequest(),
        faults.refusal(`Refusing key ${API_KEY}`),
        completion(`not json ${API_KEY}`),
        faults.truncated(),
        faults.schemaViolating(),
        faults.htmlPage(`Your key ${API_KEY} may not use this proxy.`),
      ];
      server.enqueue(...replies);

      const errors: unknown[] = [];
      for (let i = 0; i < replies.length; i++) errors.push(await failureOf(model.draftProposal(draftInput())));

      expect(errors).toHaveLength(replies.length);
      for (const err of errors) {
        for (let e: unknown = err; e instanceof Error; e = e.cause) {
          expect(e.message).not.toContain(API_KEY);
          expect(e.stack ?? '').not.toContain(API_KEY);
        }
        expect(JSON.stringify((err as ModelError).nextAttempt ?? {})).not.toContain(API_KEY);
      }
    });
  });

  describe('attempts', () => {
    it('reports the tokens the API says the call used', async () => {
      const answer = await model.draftAttempt(draftInput());

      const { usage } = server.requests[0].reply!.body as {
        usage: { prompt_tokens: number; completion_tokens: number };
      };
      expect(answer.usage).toEqual({ promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens });
    });

    it.each([
      ['not JSON', () => faults.notJson(), /^\(root\): not valid JSON/],
      ['JSON wrapped in chatter', (r: RecordedRequest) => faults.chatter(r), /text around the JSON object/],
      ['JSON breaking the schema', () => faults.schemaViolating(), /^feature_list: /],
    ])('sends an answer that is %s back on the next attempt with what was wrong', async (_label, fault, problem) => {
      server.enqueue(fault);
      const err = await failureOf(model.draftAttempt(draftInput()));
      const badAnswer = answered(server.requests[0]).content;

      await model.draftAttempt(draftInput(), { repair: err.nextAttempt });

      expect(err.nextAttempt?.answer).toBe(badAnswer);
      expect(err.nextAttempt?.problems?.[0]).toMatch(problem);
      const [first, second] = server.requests.map(promptOf);
      expect(second.slice(0, 2).map((m) => m.role)).toEqual(['system', 'user']);
      expect(second[1]).toEqual(first[1]);
      expect(second.slice(2)).toEqual([
        { role: 'assistant', content: badAnswer },
        {
          role: 'user',
          content: expect.stringMatching(/^Your answer was invalid: .*answer again with valid JSON only/is),
        },
      ]);
      expect(second[3].content).toContain(err.nextAttempt!.problems![0]);
    });

    it('keeps the repair text bounded however long the bad answer was', async () => {
      server.enqueue(completion(`Sure. ${'blah '.repeat(50_000)}`));

      const err = await failureOf(model.draftAttempt(draftInput()));

      expect(err.nextAttempt!.answer!.length).toBeLessThanOrEqual(MAX_REPAIR_ANSWER_CHARS + 10);
      expect(JSON.stringify(err.nextAttempt).length).toBeLessThan(8_000);
    });

    it('switches to JSON mode with the schema in the prompt when the server ignored structured output', async () => {
      server.enqueue(faults.schemaViolating());
      const err = await failureOf(model.draftAttempt(draftInput()));

      const answer = await model.draftAttempt(draftInput(), { repair: err.nextAttempt });

      expect(answer.document).toEqual(sampleProposal());
      expect(err.nextAttempt?.format).toBe('json_object');
      const retry = server.requests[1];
      expect(retry.body.response_format).toEqual({ type: 'json_object' });
      expect(promptOf(retry)[0].content).toContain('"technical_design"');
      expect(promptOf(retry)[0].content).toContain('JSON schema');
    });

    it('keeps structured output when only a length constraint broke the schema', async () => {
      server.enqueue(completion(JSON.stringify(sampleProposal({ technical_design: '' }))));

      const err = await failureOf(model.draftAttempt(draftInput()));

      expect(err).toBeInstanceOf(ModelSchemaError);
      expect(err.nextAttempt?.format).toBeUndefined();
      expect(err.nextAttempt?.problems).toEqual([expect.stringMatching(/^technical_design: /)]);
    });

    it('falls back to JSON mode, then to the prompt alone, when the server rejects response_format', async () => {
      server.enqueue(faults.responseFormatUnsupported(), {
        ...faults.responseFormatUnsupported(),
        body: { error: { message: "'response_format' is not supported", type: 'invalid_request_error' } },
      });

      const first = await failureOf(model.reviewAttempt(reviewInput()));
      const second = await failureOf(model.reviewAttempt(reviewInput(), { repair: first.nextAttempt }));
      const answer = await model.reviewAttempt(reviewInput(), { repair: second.nextAttempt });

      expect(first).toMatchObject({
        code: 'MODEL_BAD_REQUEST',
        isRetryable: true,
        nextAttempt: { format: 'json_object' },
      });
      expect(second).toMatchObject({ code: 'MODEL_BAD_REQUEST', isRetryable: true, nextAttempt: { format: 'none' } });
      expect(answer.document).toEqual(sampleReview());
      expect(server.requests.map((r) => r.body.response_format?.type)).toEqual([
        'json_schema',
        'json_object',
        undefined,
      ]);
      expect(promptOf(server.requests[2])[0].content).toContain('"overall_satisfaction"');
    });

    it('gives up at once when the server rejects even a request without response_format', async () => {
      server.enqueue(faults.responseFormatUnsupported());

      const err = await failureOf(model.reviewAttempt(reviewInput(), { repair: { format: 'none' } }));

      expect(err).toMatchObject({ code: 'MODEL_BAD_REQUEST', isRetryable: false });
    });

    it('asks for more output room after a cut-off answer, doubling it each time up to a cap', async () => {
      server.enqueue(faults.truncated(), faults.truncated(), faults.truncated(), faults.truncated());

      const limits: (number | undefined)[] = [];
      let repair: RepairState | undefined;
      for (let i = 0; i < 4; i++) {
        const err = await failureOf(model.draftAttempt(draftInput(), { repair }));
        expect(err).toBeInstanceOf(ModelTruncatedError);
        repair = err.nextAttempt;
        limits.push(repair?.maxTokens);
      }
      await model.draftAttempt(draftInput(), { repair });

      expect(limits).toEqual([4_096, 8_192, 16_384, 16_384]);
      expect(server.requests.map((r) => r.body.max_tokens)).toEqual([undefined, 4_096, 8_192, 16_384, 16_384]);
      expect(repair?.answer).toBeUndefined();
    });

    it('limits the answer with max_completion_tokens on OpenAI and max_tokens on compatible servers', () => {
      expect(maxTokensParam('https://api.openai.com/v1')).toBe('max_completion_tokens');
      expect(maxTokensParam('http://localhost:11434/v1')).toBe('max_tokens');
      expect(maxTokensParam(server.baseURL)).toBe('max_tokens');
    });

    it('carries what earlier attempts learnt through an answer that is not a chat completion', async () => {
      server.enqueue(faults.schemaViolating(), faults.htmlPage());

      const first = await failureOf(model.draftAttempt(draftInput()));
      const second = await failureOf(model.draftAttempt(draftInput(), { repair: first.nextAttempt }));
      const answer = await model.draftAttempt(draftInput(), { repair: second.nextAttempt });

      expect(second).toBeInstanceOf(ModelBadResponseError);
      expect(second.nextAttempt).toEqual(first.nextAttempt);
      expect(promptOf(server.requests[2]).map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
      expect(answer.document).toEqual(sampleProposal());
    });

    it('carries what earlier attempts learnt through a rate limit, and adds up the tokens of every attempt', async () => {
      server.enqueue(faults.schemaViolating(), faults.rateLimited(1));

      const first = await failureOf(model.draftAttempt(draftInput()));
      const second = await failureOf(model.draftAttempt(draftInput(), { repair: first.nextAttempt }));
      const answer = await model.draftAttempt(draftInput(), { repair: second.nextAttempt });

      expect(second.nextAttempt).toEqual(first.nextAttempt);
      expect(promptOf(server.requests[2]).map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
      const usages = [server.requests[0], server.requests[2]].map((r) => answered(r).usage!);
      expect(answer.usage).toEqual({
        promptTokens: usages[0].prompt_tokens + usages[1].prompt_tokens,
        completionTokens: usages[0].completion_tokens + usages[1].completion_tokens,
      });
    });
  });
});

describe('the model activities', () => {
  let server: FakeOpenAiServer;
  let activities: ReturnType<typeof createActivities>;

  beforeAll(async () => {
    server = await FakeOpenAiServer.start();
    const model = new OpenAiModel({ apiKey: API_KEY, baseURL: server.baseURL, model: 'gpt-test', timeoutMs: 5_000 });
    activities = createActivities(() => model);
  });
  beforeEach(() => server.reset());
  afterAll(async () => {
    await server.close();
  });

  /** Runs one attempt of draftProposal as Temporal would, with the heartbeat details the last attempt left. */
  async function runAttempt(
    heartbeatDetails?: unknown,
  ): Promise<{ result?: DraftProposalResult; failure?: ApplicationFailure; heartbeats: unknown[] }> {
    const env = new MockActivityEnvironment({ heartbeatDetails });
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    try {
      return { result: await env.run(activities.draftProposal, draftInput()), heartbeats };
    } catch (err) {
      return { failure: err as ApplicationFailure, heartbeats };
    }
  }

  it('asks Temporal to wait at least as long as a 429 Retry-After says', async () => {
    server.enqueue(faults.rateLimited(3));

    const { failure } = await runAttempt();

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'MODEL_RATE_LIMITED', nonRetryable: false });
    expect(msToNumber(failure!.nextRetryDelay!)).toBeGreaterThanOrEqual(3_000);
  });

  it('leaves the retry delay to the policy when the server names none', async () => {
    server.enqueue(faults.serverError());

    const { failure } = await runAttempt();

    expect(failure).toMatchObject({ type: 'MODEL_SERVER_ERROR', nonRetryable: false });
    expect(failure!.nextRetryDelay).toBeUndefined();
  });

  it('carries the repair turn to the next attempt in its heartbeat details', async () => {
    server.enqueue(faults.notJson());
    const first = await runAttempt();

    const second = await runAttempt(first.heartbeats.at(-1));

    expect(first.failure).toMatchObject({ type: 'MODEL_INVALID_JSON', nonRetryable: false });
    expect(first.heartbeats).toEqual([{ repair: expect.objectContaining({ answer: expect.any(String) }) }]);
    expect(second.result?.proposal).toEqual(sampleProposal());
    expect(promptOf(server.requests[1]).map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
  });

  it('returns the usage of the successful attempt and of the failed ones before it', async () => {
    server.enqueue(faults.truncated());
    const first = await runAttempt();

    const second = await runAttempt(first.heartbeats.at(-1));

    const usages = server.requests.map((r) => answered(r).usage!);
    expect(second.result?.usage).toEqual({
      promptTokens: usages[0].prompt_tokens + usages[1].prompt_tokens,
      completionTokens: usages[0].completion_tokens + usages[1].completion_tokens,
    });
  });

  it('ignores heartbeat details it does not understand', async () => {
    const { result } = await runAttempt({ repair: { answer: 42, maxTokens: 'lots', format: 'xml' } });

    expect(result?.proposal).toEqual(sampleProposal());
    expect(promptOf(server.requests[0])).toHaveLength(2);
    expect(server.requests[0].body.max_tokens).toBeUndefined();
  });

  it('reports a body stalled past the request timeout as a retryable MODEL_TIMEOUT, not a cancellation', async () => {
    const impatient = new OpenAiModel({ apiKey: API_KEY, baseURL: server.baseURL, model: 'gpt-test', timeoutMs: 500 });
    server.enqueue(faults.stalledBody());

    const err = await new MockActivityEnvironment()
      .run(createActivities(() => impatient).draftProposal, draftInput())
      .catch((e: unknown) => e);

    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'MODEL_TIMEOUT', nonRetryable: false });
  }, 10_000);

  it('reports a cancelled call as cancelled, never as a failure of the model', async () => {
    server.enqueue(faults.slow(10_000));
    const env = new MockActivityEnvironment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const call = env.run(activities.draftProposal, draftInput()).catch((err: unknown) => err);
    await server.waitForRequests(1);

    env.cancel();
    const err = await call;

    expect(err).toBeInstanceOf(CancelledFailure);
    expect(heartbeats).toEqual([]);
    await waitUntil(() => server.requests[0].abortedByClient);
    expect(server.requests[0].abortedByClient).toBe(true);
  });
});

describe('openAiModelFromEnv', () => {
  it('fails with a non-retryable one-line configuration error when OPENAI_API_KEY is missing', () => {
    const err = (() => {
      try {
        openAiModelFromEnv({ OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' }, { provider: 'openai' });
      } catch (e) {
        return e as ModelError;
      }
      throw new Error('expected a configuration error');
    })();

    expect(err).toBeInstanceOf(ModelConfigError);
    expect(err).toMatchObject({ code: 'MODEL_CONFIG', isRetryable: false });
    expect(err.message).toContain('OPENAI_API_KEY');
    expect(err.message).not.toContain('\n');
  });

  it('uses PARLEY_MODEL, else gpt-4o-mini, and lets the simulation choose another model', () => {
    expect(openAiModelFromEnv({ OPENAI_API_KEY: API_KEY }, { provider: 'openai' }).model).toBe(DEFAULT_OPENAI_MODEL);
    expect(DEFAULT_OPENAI_MODEL).toBe('gpt-4o-mini');
    expect(openAiModelFromEnv({ OPENAI_API_KEY: API_KEY, PARLEY_MODEL: 'gpt-5' }, { provider: 'openai' }).model).toBe(
      'gpt-5',
    );
    expect(
      openAiModelFromEnv({ OPENAI_API_KEY: API_KEY, PARLEY_MODEL: 'gpt-5' }, { provider: 'openai', model: 'o9' }).model,
    ).toBe('o9');
  });

  it('sends requests to OPENAI_BASE_URL with OPENAI_API_KEY', async () => {
    const server = await FakeOpenAiServer.start();
    try {
      const model = openAiModelFromEnv(
        { OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: server.baseURL },
        { provider: 'openai' },
      );

      await model.reviewProposal(reviewInput());

      expect(server.requests).toHaveLength(1);
      expect(server.requests[0].headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(server.requests[0].body.model).toBe(DEFAULT_OPENAI_MODEL);
    } finally {
      await server.close();
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}
