import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { z } from 'zod';
import { proposalSchema, reviewSchema, type Proposal, type Review } from '../negotiation/documents';
import {
  ModelApiError,
  ModelBadResponseError,
  ModelConfigError,
  ModelError,
  ModelInvalidJsonError,
  ModelRefusalError,
  ModelSchemaError,
  ModelTruncatedError,
  type ModelApiErrorCode,
  type SchemaIssue,
} from './errors';
import { clientMessages, repairTurn, vendorMessages, withSchemaInPrompt, type PromptMessage } from './prompts';
import {
  addUsage,
  boundRepair,
  type AttemptAwareModel,
  type AttemptOptions,
  type ModelAnswer,
  type RepairState,
  type ResponseFormatMode,
} from './repair';
import type { DraftProposalInput, LlmChoice, ReviewProposalInput, TokenUsage } from './types';

/** The model used when neither the simulation nor `PARLEY_MODEL` names one. */
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';

/** The API's own address, passed explicitly so that only the options we are given decide where requests go. */
export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * Output room asked for after an answer was cut off, doubled on each further cut, up to
 * {@link MAX_OUTPUT_TOKENS}. The first attempt leaves the limit to the server.
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4_096;
/** The most output room ever asked for: what current OpenAI models allow for a completion. */
export const MAX_OUTPUT_TOKENS = 16_384;

/** How long one request may take; a long Chinese proposal takes well under a minute on current models. */
export const DEFAULT_OPENAI_TIMEOUT_MS = 120_000;

/** How to reach an OpenAI-compatible Chat Completions API. */
export interface OpenAiModelOptions {
  apiKey: string;
  /** An OpenAI-compatible server, e.g. `http://localhost:11434/v1`; the OpenAI API when absent. */
  baseURL?: string;
  model: string;
  /**
   * How long one request may take, from sending it until its answer is read to the end.
   * @default DEFAULT_OPENAI_TIMEOUT_MS
   */
  timeoutMs?: number;
  /**
   * Runs each HTTP request when the worker's shared rate limit allows it; every negotiation on a worker goes
   * through the same one. Requests run at once when absent.
   */
  schedule?: <T>(request: () => Promise<T>) => Promise<T>;
}

/** The simulation's choice when it asked for OpenAI. */
export type OpenAiChoice = Extract<LlmChoice, { provider: 'openai' }>;

/** Which document a call asks for; also the name of the JSON schema sent, which servers and tests can read. */
type DocumentKind = 'proposal' | 'review';

/**
 * The strict structured-output schemas sent with each request, derived from the domain schemas. OpenAI's strict
 * mode rejects some JSON Schema keywords zod emits (`minLength`, `maxLength`), so those are dropped from what is
 * sent; the full zod schemas still validate every answer.
 */
const responseFormats = {
  proposal: wireFormat(zodResponseFormat(proposalSchema, 'proposal')),
  review: wireFormat(zodResponseFormat(reviewSchema, 'review')),
} satisfies Record<DocumentKind, unknown>;

/**
 * Plays both sides of a negotiation with a model behind the Chat Completions API: one request per document,
 * with structured output, validated here against the domain schemas.
 */
export class OpenAiModel implements AttemptAwareModel {
  readonly provider = 'openai' as const;
  readonly model: string;
  readonly #client: OpenAI;
  readonly #timeoutMs: number;
  /** See {@link maxTokensParam}. */
  readonly #maxTokensParam: 'max_completion_tokens' | 'max_tokens';
  /** Kept only to scrub it out of error messages that a server might echo it into. */
  readonly #apiKey: string;
  readonly #schedule: <T>(request: () => Promise<T>) => Promise<T>;

  constructor(options: OpenAiModelOptions) {
    this.model = options.model;
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS;
    this.#schedule = options.schedule ?? ((request) => request());
    const baseURL = options.baseURL ?? DEFAULT_OPENAI_BASE_URL;
    this.#maxTokensParam = maxTokensParam(baseURL);
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      baseURL,
      // Retries belong to Temporal's retry policy, which backs off durably, survives worker restarts and shows
      // every attempt in the history. Retries inside the client would multiply with those and hide in one attempt.
      maxRetries: 0,
      timeout: this.#timeoutMs,
    });
  }

  /** Asks the vendor's model for proposal `input.version`; the version written is always the one asked for. */
  async draftProposal(input: DraftProposalInput, signal?: AbortSignal): Promise<Proposal> {
    return (await this.draftAttempt(input, { signal })).document;
  }

  /** Asks the client's model to review `input.proposal` in round `input.round`. */
  async reviewProposal(input: ReviewProposalInput, signal?: AbortSignal): Promise<Review> {
    return (await this.reviewAttempt(input, { signal })).document;
  }

  /**
   * One attempt at proposal `input.version`, starting from what the previous attempt left (`options.repair`).
   * A failure carries, as `nextAttempt`, what the attempt after it should do differently.
   */
  async draftAttempt(input: DraftProposalInput, options: AttemptOptions = {}): Promise<ModelAnswer<Proposal>> {
    return this.#attempt('proposal', vendorMessages(input), options, (value) =>
      // The workflow owns the version number, so a model's slip there is no reason to fail the call.
      validate('proposal', proposalSchema, isObject(value) ? { ...value, version: input.version } : value),
    );
  }

  /** One attempt at the review of `input.proposal`; see {@link draftAttempt}. */
  async reviewAttempt(input: ReviewProposalInput, options: AttemptOptions = {}): Promise<ModelAnswer<Review>> {
    return this.#attempt('review', clientMessages(input), options, (value) => validate('review', reviewSchema, value));
  }

  async #attempt<T>(
    kind: DocumentKind,
    prompt: PromptMessage[],
    { signal, repair = {} }: AttemptOptions,
    accept: (value: unknown) => T,
  ): Promise<ModelAnswer<T>> {
    const format = repair.format ?? 'json_schema';
    const messages = [
      ...(format === 'json_schema' ? prompt : withSchemaInPrompt(prompt, responseFormats[kind].json_schema.schema)),
      ...(repair.answer !== undefined ? repairTurn(repair.answer, repair.problems ?? []) : []),
    ];
    const body: ChatCompletionCreateParamsNonStreaming = { model: this.model, messages };
    if (format === 'json_schema') body.response_format = responseFormats[kind];
    if (format === 'json_object') body.response_format = { type: 'json_object' };
    if (repair.maxTokens !== undefined) body[this.#maxTokensParam] = repair.maxTokens;

    let completion: ChatCompletion;
    const started = performance.now();
    try {
      completion = await this.#schedule(() => this.#complete(body, signal));
    } catch (err) {
      // A cancelled activity must end with the reason Temporal aborted it with, so the worker reports the
      // activity as cancelled rather than failed.
      if (signal?.aborted) throw signal.reason ?? err;
      const failure = this.#apiError(err, performance.now() - started, format);
      if (failure instanceof ModelError) failure.nextAttempt = boundRepair({ ...repair, ...failure.nextAttempt });
      throw failure;
    }

    const spent = addUsage(repair.spent, usageOf(completion));
    let content: string | undefined;
    try {
      content = this.#content(kind, completion);
      return { document: accept(parseJson(kind, content, this.#apiKey)), usage: spent };
    } catch (err) {
      if (err instanceof ModelError) {
        err.nextAttempt = boundRepair(this.#nextAfterAnswer(repair, err, content, spent, completion));
      }
      throw err;
    }
  }

  /**
   * Sends one request and reads its answer to the end within the timeout. Throws a timeout when the time runs out,
   * and a {@link ModelBadResponseError} when what came back is not a chat completion.
   */
  async #complete(body: ChatCompletionCreateParamsNonStreaming, signal?: AbortSignal): Promise<ChatCompletion> {
    // The client's own timeout stops once the headers arrive, so a server that sends them and then stalls the body
    // would hold the call until the activity's start-to-close timeout. This deadline lasts until the body is read.
    // It starts here, when the worker's rate limit lets the request go: waiting for a turn is not the server's delay.
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    let answer: { data: unknown; response: Response };
    try {
      answer = await this.#client.chat.completions
        .create(body, { signal: signal ? AbortSignal.any([signal, deadline]) : deadline })
        .withResponse();
    } catch (err) {
      // Only the activity's own signal means the call was cancelled; the deadline running out is a timeout.
      if (deadline.aborted && !signal?.aborted) throw this.#timeoutError(err);
      // The client parses only successful answers as JSON, so a body that does not parse is a 2xx cut short or
      // garbled on the way (by a proxy, say): the server did answer, badly, and asking again may go better. Told by
      // name, since the parser's error may come from another realm (as under jest). Its message quotes a few
      // characters of the body, which can cut a secret echoed there short of what scrubbing recognises: the quote
      // is left out.
      if ((err as Error | undefined)?.name === 'SyntaxError') {
        const reason = scrub(String((err as Error).message).replace(/".*"(\.\.\.)?/s, '…'), this.#apiKey);
        throw new ModelBadResponseError(
          `The server answered 200 with JSON that does not parse: ${excerpt(reason)}`,
          200,
          undefined,
        );
      }
      throw err;
    }
    return chatCompletionOf(answer.data, answer.response, this.#apiKey);
  }

  /** Reads the answer's text out of a completion, or throws a typed error saying why there is none. */
  #content(kind: DocumentKind, completion: ChatCompletion): string {
    const choice = completion.choices[0];
    if (!choice) throw new ModelInvalidJsonError(`The model returned no ${kind}: the answer has no choices`);
    const { message, finish_reason: finishReason } = choice;
    if (message.refusal) {
      const refusal = scrub(message.refusal, this.#apiKey);
      throw new ModelRefusalError(`The model refused to write the ${kind}: ${excerpt(refusal)}`, refusal);
    }
    if (finishReason === 'content_filter') {
      throw new ModelRefusalError(`The ${kind} was withheld by the server's content filter`, 'content_filter');
    }
    if (finishReason === 'length') {
      throw new ModelTruncatedError(`The model's ${kind} was cut off (finish_reason: length) and is incomplete`);
    }
    if (!message.content?.trim()) throw new ModelInvalidJsonError(`The model returned an empty ${kind}`);
    return message.content;
  }

  /** What the attempt after an unusable answer should do differently. */
  #nextAfterAnswer(
    repair: RepairState,
    err: ModelError,
    content: string | undefined,
    spent: TokenUsage | undefined,
    completion: ChatCompletion,
  ): RepairState {
    const next: RepairState = { ...repair, spent };
    if (err instanceof ModelTruncatedError) {
      // More room, not a repair turn: the cut-off text is no answer to correct.
      const room = repair.maxTokens ?? completion.usage?.completion_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS / 2;
      next.maxTokens = Math.min(MAX_OUTPUT_TOKENS, Math.max(DEFAULT_MAX_OUTPUT_TOKENS, 2 * room));
      return next;
    }
    if (content === undefined) return next;
    if (err instanceof ModelInvalidJsonError || err instanceof ModelSchemaError) {
      next.answer = scrub(content, this.#apiKey);
      next.problems = problemsOf(err, this.#apiKey);
      // Strict structured output cannot produce text that is not JSON, or a wrong type, a missing field or an
      // unknown value; a server that did has ignored it. JSON mode with the schema in the prompt is then the
      // better request. Only lengths (left out of the wire schema) can break the schema under strict mode.
      const ignored =
        err instanceof ModelInvalidJsonError ||
        (err as ModelSchemaError).issues.some((issue) => issue.code !== 'too_small' && issue.code !== 'too_big');
      if ((repair.format ?? 'json_schema') === 'json_schema' && ignored) next.format = 'json_object';
    }
    return next;
  }

  /** Classifies what the client threw: transient failures are retryable, requests the API refuses are not. */
  #apiError(err: unknown, elapsedMs: number, format: ResponseFormatMode): unknown {
    if (err instanceof ModelError) return err;
    const key = this.#apiKey;
    // The client recognises its own timeout by the abort error's name, which it loses when fetch runs in another
    // realm (as under jest) and then reports a plain connection error; the time spent tells them apart anyway.
    const timedOut =
      err instanceof OpenAI.APIConnectionTimeoutError ||
      (err instanceof OpenAI.APIConnectionError && elapsedMs >= this.#timeoutMs);
    if (timedOut) return this.#timeoutError(err);
    if (err instanceof OpenAI.APIConnectionError) {
      return new ModelApiError(`Could not reach the model's API: ${scrub(err.message, key)}`, {
        code: 'MODEL_CONNECTION',
        isRetryable: true,
        cause: scrubError(err, key),
      });
    }
    if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
      const { code, isRetryable } = classifyStatus(err.status);
      // A server that lacks structured output (or JSON mode) says so with a 400 about response_format; the
      // next attempt asks in a way it understands instead, so this one is worth retrying.
      const fallback = err.status === 400 && rejectsResponseFormat(err.message) ? fallbackFormat(format) : undefined;
      const failure = new ModelApiError(`The model's API failed (model ${this.model}): ${scrub(err.message, key)}`, {
        code,
        isRetryable: isRetryable || fallback !== undefined,
        status: err.status,
        retryAfterMs: retryAfterMs(err.headers),
        cause: scrubError(err, key),
      });
      if (fallback) failure.nextAttempt = { format: fallback };
      return failure;
    }
    return scrubError(err, key);
  }

  #timeoutError(cause: unknown): ModelApiError {
    return new ModelApiError(`The request to the model timed out after ${this.#timeoutMs} ms (model ${this.model})`, {
      code: 'MODEL_TIMEOUT',
      isRetryable: true,
      cause: scrubError(cause, this.#apiKey),
    });
  }
}

/**
 * The OpenAI model this worker's environment configures: `OPENAI_API_KEY` (required), `OPENAI_BASE_URL`
 * (optional, for OpenAI-compatible servers) and `PARLEY_MODEL` (default {@link DEFAULT_OPENAI_MODEL}); a model
 * named by the simulation wins over `PARLEY_MODEL`.
 */
export function openAiModelFromEnv(
  env: NodeJS.ProcessEnv,
  choice: OpenAiChoice,
  schedule?: OpenAiModelOptions['schedule'],
): OpenAiModel {
  const apiKey = env.OPENAI_API_KEY?.trim();
  if (!apiKey) {
    throw new ModelConfigError(
      "OPENAI_API_KEY is not set in the worker's environment: set it there to use the openai provider, or choose the offline provider.",
    );
  }
  return new OpenAiModel({
    apiKey,
    baseURL: env.OPENAI_BASE_URL?.trim() || undefined,
    model: choice.model?.trim() || env.PARLEY_MODEL?.trim() || DEFAULT_OPENAI_MODEL,
    schedule,
  });
}

/** 408, 409, 429 and 5xx are worth another try (the statuses OpenAI's own client retries); other 4xx are not. */
function classifyStatus(status: number): { code: ModelApiErrorCode; isRetryable: boolean } {
  if (status === 429) return { code: 'MODEL_RATE_LIMITED', isRetryable: true };
  if (status >= 500) return { code: 'MODEL_SERVER_ERROR', isRetryable: true };
  if (status === 408) return { code: 'MODEL_TIMEOUT', isRetryable: true };
  if (status === 409) return { code: 'MODEL_SERVER_ERROR', isRetryable: true };
  if (status === 401 || status === 403) return { code: 'MODEL_AUTH', isRetryable: false };
  if (status === 404) return { code: 'MODEL_NOT_FOUND', isRetryable: false };
  return { code: 'MODEL_BAD_REQUEST', isRetryable: false };
}

/**
 * The request field that limits the answer's length: OpenAI's API wants `max_completion_tokens` (reasoning
 * models reject `max_tokens`), while OpenAI-compatible servers know `max_tokens` far more widely.
 */
export function maxTokensParam(baseURL: string): 'max_completion_tokens' | 'max_tokens' {
  return /^https:\/\/api\.openai\.com(\/|$)/.test(baseURL) ? 'max_completion_tokens' : 'max_tokens';
}

/** Whether a 400's message is about the response format we asked for. */
function rejectsResponseFormat(message: string): boolean {
  return /response_format|json_schema|json_object|structured output/i.test(message);
}

/** The next, plainer way to ask for JSON, or none when the plainest was rejected too. */
function fallbackFormat(format: ResponseFormatMode): ResponseFormatMode | undefined {
  if (format === 'json_schema') return 'json_object';
  if (format === 'json_object') return 'none';
  return undefined;
}

/**
 * The answer as a chat completion, or a {@link ModelBadResponseError} naming what came back instead: the client
 * hands over an HTML page as a string and JSON of any shape as it is, and both would break reading the answer.
 */
function chatCompletionOf(data: unknown, response: Response, apiKey: string): ChatCompletion {
  if (isChatCompletion(data)) return data;
  const contentType = response.headers.get('content-type') ?? undefined;
  const text = typeof data === 'string' ? data : (JSON.stringify(data) ?? '');
  const shown = excerpt(scrub(text, apiKey), 120) || '(an empty body)';
  throw new ModelBadResponseError(
    `The server answered ${response.status} with ${whatCameBack(data, contentType)}: ${shown}`,
    response.status,
    contentType,
  );
}

/** Names an answer that is not a chat completion: its media type, or why its JSON is not one. */
function whatCameBack(data: unknown, contentType: string | undefined): string {
  if (!isObject(data)) return `${contentType?.split(';')[0].trim() || 'no content type'} instead of a chat completion`;
  const missing = Array.isArray(data.choices) ? 'its choices hold no message' : 'it has no choices';
  return `JSON that is not a chat completion (${missing})`;
}

/** Whether an answer has the shape the rest of this file reads: a list of choices, each with a message. */
function isChatCompletion(data: unknown): data is ChatCompletion {
  return (
    isObject(data) &&
    Array.isArray(data.choices) &&
    data.choices.every((choice) => isObject(choice) && isObject(choice.message))
  );
}

/** The API's token counts, when it reported them. */
function usageOf(completion: ChatCompletion): TokenUsage | undefined {
  const usage = completion.usage;
  if (!usage || typeof usage.prompt_tokens !== 'number' || typeof usage.completion_tokens !== 'number')
    return undefined;
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
}

/** What to tell the model about its invalid answer, one `path: message` each, without the API key. */
function problemsOf(err: ModelError, apiKey: string): string[] {
  if (err instanceof ModelSchemaError)
    return err.issues.map((issue) => scrub(`${issue.path}: ${issue.message}`, apiKey));
  return [scrub(`(root): ${(err as ModelInvalidJsonError).reason ?? err.message}`, apiKey)];
}

/** Reads `retry-after-ms` (OpenAI's) or `retry-after` (seconds or an HTTP date). */
function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Parses the answer's text, accepting the ```json fence that servers without structured output often add. Text
 * around the JSON is not accepted: the model is asked again, with its answer and what was wrong with it.
 */
function parseJson(kind: DocumentKind, content: string, apiKey: string): unknown {
  const text = stripCodeFence(content);
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = hasJsonInside(text)
      ? 'there is text around the JSON object; send the JSON object alone'
      : `not valid JSON (${err instanceof Error ? err.message : String(err)})`;
    throw new ModelInvalidJsonError(
      `The model's ${kind} is not valid JSON (${reason}): ${excerpt(scrub(text, apiKey))}`,
      scrubError(err, apiKey),
      scrub(reason, apiKey),
    );
  }
}

/** Whether the text holds a JSON object between other words: a model's chatter around its answer. */
function hasJsonInside(text: string): boolean {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return false;
  try {
    JSON.parse(text.slice(start, end + 1));
    return true;
  } catch {
    return false;
  }
}

function stripCodeFence(content: string): string {
  const fenced = /^\s*```[a-zA-Z]*[ \t]*\r?\n([\s\S]*?)\r?\n?[ \t]*```\s*$/.exec(content);
  return fenced ? fenced[1] : content.trim();
}

function validate<T>(kind: DocumentKind, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: SchemaIssue[] = result.error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)',
    message: issue.message,
    code: issue.code,
  }));
  throw new ModelSchemaError(
    `The model's ${kind} does not match its schema: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    issues,
  );
}

/**
 * A copy of a response format with the keywords strict mode rejects removed. The copy is plain data: the
 * helper's attached parser is not needed, since answers are parsed here so that servers which only return JSON
 * text work too.
 */
function wireFormat<T extends { type: 'json_schema'; json_schema: { name: string; schema?: unknown } }>(format: T) {
  return {
    type: 'json_schema' as const,
    json_schema: {
      name: format.json_schema.name,
      strict: true,
      schema: withoutKeys(format.json_schema.schema, new Set(['minLength', 'maxLength'])) as Record<string, unknown>,
    },
  };
}

function withoutKeys(value: unknown, keys: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutKeys(item, keys));
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !keys.has(key))
      .map(([key, child]) => [key, withoutKeys(child, keys)]),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Replaces the API key wherever it appears: some servers echo the key they rejected. */
function scrub(text: string, apiKey: string): string {
  return apiKey ? text.split(apiKey).join('[redacted]') : text;
}

/**
 * The error itself when it does not mention the key, else a copy that does not. Causes travel with failures
 * into Temporal's history, messages and stacks included, so they must be as clean as the messages.
 */
function scrubError(err: unknown, apiKey: string): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? scrub(err, apiKey) : err;
  const leaks = apiKey !== '' && (err.message.includes(apiKey) || (err.stack ?? '').includes(apiKey));
  if (!leaks) return err;
  const clean = new Error(scrub(err.message, apiKey));
  clean.name = err.name;
  clean.stack = err.stack === undefined ? undefined : scrub(err.stack, apiKey);
  return clean;
}

function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
