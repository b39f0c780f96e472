import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Proposal, Review } from '../../src/negotiation/documents';

/** One request as the server received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, parsed; `undefined` when it was not JSON. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read the wire format field by field
  body: any;
  rawBody: string;
  /** Set when the client closed the connection before the answer was sent (an aborted or timed-out call). */
  abortedByClient: boolean;
  /** When the request arrived (`Date.now()`). */
  receivedAt: number;
  /** The answer given, once decided. */
  reply?: FakeReply;
}

/** How to answer one request. */
export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as JSON unless it is a string. */
  body?: unknown;
  /** Waits this long before answering, to play a slow model. */
  delayMs?: number;
  /**
   * Sends the status, the headers and this many bytes of the body, then nothing more until the client hangs up or
   * the server closes: a server that stalls in the middle of its answer.
   */
  stallAfterBytes?: number;
}

/** Decides the answer to a request; may look at what was sent. */
export type FakeHandler = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

/**
 * Which document a request asks for: the name of its json_schema response format, or, when the request asks
 * for JSON another way, the prompt (only a client's instructions name `overall_satisfaction`).
 */
export function requestedDocument(request: RecordedRequest): string | undefined {
  const name = request.body?.response_format?.json_schema?.name;
  if (name !== undefined) return name;
  const system: unknown = request.body?.messages?.[0]?.content;
  if (typeof system !== 'string') return undefined;
  if (system.includes('overall_satisfaction')) return 'review';
  if (system.includes('technical_design')) return 'proposal';
  return undefined;
}

/** A valid document of the kind `request` asks for, as JSON text. */
export function documentFor(request: RecordedRequest): string {
  return JSON.stringify(requestedDocument(request) === 'review' ? sampleReview() : sampleProposal());
}

/** What the server answered a request with, when it was a completion: its text and its usage. */
export function answered(request: RecordedRequest): {
  content: string | null;
  usage: { prompt_tokens: number; completion_tokens: number } | undefined;
} {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the reply body is the wire format
  const body = request.reply?.body as any;
  return { content: body?.choices?.[0]?.message?.content ?? null, usage: body?.usage };
}

/** A valid proposal, as a model would write it. */
export function sampleProposal(overrides: Partial<Proposal> = {}): Proposal {
  return {
    version: 1,
    technical_design: 'Cloud-native microservices with a Redis cache in front of an ANN retrieval service.',
    feature_list: ['Real-time recommendations under 50 ms', 'A/B testing dashboard'],
    implementation_plan: 'Phase 1: infrastructure. Phase 2: models. Phase 3: load tests and launch.',
    timeline: '10 weeks in total: 2 + 4 + 4 weeks.',
    risk_analysis: 'Traffic peaks above plan: mitigated by autoscaling and graceful degradation.',
    ...overrides,
  };
}

/** A valid review, as a model would write it. */
export function sampleReview(overrides: Partial<Review> = {}): Review {
  return {
    overall_satisfaction: 'needs_major_revision',
    weaknesses: ['No quantified return on investment.'],
    additional_requirements: ['Add an ROI analysis with expected conversion uplift.'],
    revision_priority: ['ROI analysis first.'],
    expected_improvements: 'A business case alongside the architecture.',
    ...overrides,
  };
}

/** A Chat Completions answer in the real wire format, carrying `content` as the assistant's message. */
export function completion(
  content: string | null,
  options: { finishReason?: string; refusal?: string; model?: string } = {},
): FakeReply {
  return {
    body: {
      id: `chatcmpl-fake${Math.random().toString(36).slice(2, 10)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: options.model ?? 'fake-model',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: options.refusal ?? null, annotations: [] },
          logprobs: null,
          finish_reason: options.finishReason ?? 'stop',
        },
      ],
      usage: { prompt_tokens: 100, completion_tokens: content ? Math.ceil(content.length / 4) : 0, total_tokens: 0 },
      system_fingerprint: 'fp_fake',
    },
  };
}

/** An error in OpenAI's format: `{ error: { message, type, param, code } }`. */
export function apiError(
  status: number,
  message: string,
  options: { type?: string; code?: string | null; headers?: Record<string, string> } = {},
): FakeReply {
  return {
    status,
    headers: options.headers,
    body: {
      error: { message, type: options.type ?? 'invalid_request_error', param: null, code: options.code ?? null },
    },
  };
}

/** The faults real APIs produce, ready to queue. */
export const faults = {
  /** 429 with the Retry-After header OpenAI sends. */
  rateLimited: (retryAfterSeconds = 7): FakeReply =>
    apiError(429, 'Rate limit reached for requests per min (RPM).', {
      type: 'requests',
      code: 'rate_limit_exceeded',
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  serverError: (): FakeReply =>
    apiError(500, 'The server had an error while processing your request.', { type: 'server_error' }),
  /** Echoes the whole key it was given, the worst a server can do, so tests can check it is never repeated. */
  unauthorized: (presentedKey = ''): FakeReply =>
    apiError(401, `Incorrect API key provided: ${presentedKey}.`, { code: 'invalid_api_key' }),
  unknownModel: (model = 'no-such-model'): FakeReply =>
    apiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, {
      code: 'model_not_found',
    }),
  badRequest: (): FakeReply =>
    apiError(400, "Invalid value for 'temperature': expected a number.", { code: 'invalid_request_error' }),
  /** What a server without structured output answers to a json_schema response format. */
  responseFormatUnsupported: (): FakeReply =>
    apiError(400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.", {
      code: 'invalid_request_error',
    }),
  /** Answers `reply` (by default a valid document) only after `ms`. */
  slow: (ms: number, reply: FakeReply = {}): FakeReply => ({ ...reply, delayMs: ms }),
  truncated: (): FakeReply => completion('{"version": 1, "technical_design": "Cloud-nat', { finishReason: 'length' }),
  codeFenced: (document: unknown): FakeReply => completion('```json\n' + JSON.stringify(document, null, 2) + '\n```'),
  notJson: (): FakeReply => completion('Here is my proposal: we will build a great system.'),
  /** A valid document of the kind asked for, with the chatter models put around it. */
  chatter: (request: RecordedRequest, marker = ''): FakeReply =>
    completion(`Sure! Here is the document${marker}:\n${documentFor(request)}\nLet me know if you need changes.`),
  /** A proposal whose `feature_list` is a string, not a list (`marker` makes each one tell apart). */
  schemaViolating: (marker = ''): FakeReply =>
    completion(JSON.stringify({ ...sampleProposal(), feature_list: `caching, dashboards${marker}` })),
  refusal: (text = "I'm sorry, I can't help with that."): FakeReply => completion(null, { refusal: text }),
  /** A 200 HTML page, as a proxy or sign-in portal in front of the model answers; `text` goes into its body. */
  htmlPage: (text = 'Please sign in to continue.'): FakeReply => ({
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: `<!DOCTYPE html>\n<html>\n<head><title>Sign in</title></head>\n<body><p>${text}</p></body>\n</html>\n`,
  }),
  /** A 200 JSON answer without choices: another API's (here the Responses API's), as a misrouting proxy gives. */
  noChoices: (): FakeReply => ({ body: { id: 'resp_fake', object: 'response', status: 'completed', output: [] } }),
  /** A 200 JSON answer cut off mid-way, as a proxy that drops the connection's end gives. */
  brokenJson: (): FakeReply => ({ body: '{"id":"chatcmpl-fake","object":"chat.completion","choices":[{"index":0,' }),
  /** Sends the headers and the first bytes of a valid document, then stalls; see {@link FakeReply.stallAfterBytes}. */
  stalledBody: (bytesSent = 16): FakeReply => ({ stallAfterBytes: bytesSent }),
};

/**
 * A small OpenAI-compatible Chat Completions server for tests, on 127.0.0.1 and a free port. Each request takes
 * the next queued reply, else the handler's, else a valid document of the kind it asks for. Every request is
 * recorded so tests can check what was sent.
 */
export class FakeOpenAiServer {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  readonly #queue: (FakeReply | FakeHandler)[] = [];
  #handler: FakeHandler | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #waiters: { count: number; resolve: () => void }[] = [];

  readonly #server: Server;
  #baseURL = '';

  private constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.answer(req.method ?? 'GET', req.url ?? '/', req.headers, chunks, res).catch((err: unknown) => {
          // A handler that throws is a bug in the test; answer 500 with its message so the test shows it.
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: String(err), type: 'fake_server_error' } }));
        });
      });
    });
  }

  /** Starts a server and resolves once it listens. */
  static async start(): Promise<FakeOpenAiServer> {
    const fake = new FakeOpenAiServer();
    await new Promise<void>((resolve, reject) => {
      fake.#server.once('error', reject);
      fake.#server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = fake.#server.address() as AddressInfo;
    fake.#baseURL = `http://127.0.0.1:${port}/v1`;
    return fake;
  }

  /** Where a client should point its `baseURL`, e.g. `http://127.0.0.1:40123/v1`. */
  get baseURL(): string {
    return this.#baseURL;
  }

  /** Queues answers for the next requests, in order; after them the handler or the default answers. */
  enqueue(...replies: (FakeReply | FakeHandler)[]): this {
    this.#queue.push(...replies);
    return this;
  }

  /** Answers every request the queue does not. */
  setHandler(handler: FakeHandler | undefined): this {
    this.#handler = handler;
    return this;
  }

  /** Resolves once `count` requests in all have arrived. */
  waitForRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Forgets the requests, the queued replies and the handler, for the next test. */
  reset(): this {
    this.requests.length = 0;
    this.#queue.length = 0;
    this.#handler = undefined;
    return this;
  }

  /** Stops listening, drops open connections and pending answers. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await new Promise<void>((resolve, reject) => {
      this.#server.close((err) => (err ? reject(err) : resolve()));
      // Clients keep connections alive; without this, close() would wait for them to time out.
      this.#server.closeAllConnections();
    });
  }

  private async answer(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    chunks: Buffer[],
    res: ServerResponse,
  ): Promise<void> {
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const request: RecordedRequest = {
      method,
      path,
      headers,
      body: parseOrUndefined(rawBody),
      rawBody,
      abortedByClient: false,
      receivedAt: Date.now(),
    };
    this.requests.push(request);
    res.on('close', () => {
      if (!res.writableFinished) request.abortedByClient = true;
    });
    for (const waiter of this.#waiters.filter((w) => this.requests.length >= w.count)) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve();
    }

    let reply: FakeReply;
    if (method !== 'POST' || path !== '/v1/chat/completions') {
      reply = apiError(404, `Unknown route: ${method} ${path}`);
    } else {
      const next = this.#queue.shift() ?? this.#handler ?? defaultReply;
      reply = typeof next === 'function' ? await next(request) : next;
      // A queued fault without a body (e.g. slow()) still answers with a valid document.
      if (reply.body === undefined) reply = { ...reply, body: defaultReply(request).body };
    }
    request.reply = reply;

    if (reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          resolve();
        }, reply.delayMs);
        this.#timers.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          this.#timers.delete(timer);
          resolve();
        });
      });
    }
    if (res.destroyed) return;
    const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    res.writeHead(reply.status ?? 200, {
      'content-type': 'application/json',
      'x-request-id': `req_fake${this.requests.length}`,
      ...reply.headers,
    });
    if (reply.stallAfterBytes === undefined) {
      res.end(text);
      return;
    }
    // Left open on purpose; close() drops this connection with all the others.
    res.flushHeaders();
    res.write(text.slice(0, reply.stallAfterBytes));
  }
}

/** A valid proposal or review, whichever the request's response format asks for; a 400 for anything else. */
function defaultReply(request: RecordedRequest): FakeReply {
  const kind = requestedDocument(request);
  if (kind === 'proposal') return completion(JSON.stringify(sampleProposal()), { model: request.body?.model });
  if (kind === 'review') return completion(JSON.stringify(sampleReview()), { model: request.body?.model });
  return apiError(400, `The fake server cannot tell which document is asked for (json_schema name: ${kind})`);
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
