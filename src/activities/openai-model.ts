import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import type { z } from 'zod';
import { proposalSchema, reviewSchema, type Proposal, type Review } from '../negotiation/documents';
import {
  ModelApiError,
  ModelConfigError,
  ModelInvalidJsonError,
  ModelRefusalError,
  ModelSchemaError,
  ModelTruncatedError,
  type ModelApiErrorCode,
  type SchemaIssue,
} from './errors';
import { clientMessages, vendorMessages, type PromptMessage } from './prompts';
import type { DraftProposalInput, LlmChoice, NegotiationModel, ReviewProposalInput } from './types';

/** The model used when neither the simulation nor `PARLEY_MODEL` names one. */
export const DEFAULT_OPENAI_MODEL = 'gpt-4o-mini';

/** The API's own address, passed explicitly so that only the options we are given decide where requests go. */
export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** How long one request may take; a long Chinese proposal takes well under a minute on current models. */
export const DEFAULT_OPENAI_TIMEOUT_MS = 120_000;

/** How to reach an OpenAI-compatible Chat Completions API. */
export interface OpenAiModelOptions {
  apiKey: string;
  /** An OpenAI-compatible server, e.g. `http://localhost:11434/v1`; the OpenAI API when absent. */
  baseURL?: string;
  model: string;
  /** Per request; defaults to {@link DEFAULT_OPENAI_TIMEOUT_MS}. */
  timeoutMs?: number;
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
export class OpenAiModel implements NegotiationModel {
  readonly provider = 'openai' as const;
  readonly model: string;
  readonly #client: OpenAI;
  readonly #timeoutMs: number;
  /** Kept only to scrub it out of error messages that a server might echo it into. */
  readonly #apiKey: string;

  constructor(options: OpenAiModelOptions) {
    this.model = options.model;
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_OPENAI_TIMEOUT_MS;
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL ?? DEFAULT_OPENAI_BASE_URL,
      // Retries belong to Temporal's retry policy, which backs off durably, survives worker restarts and shows
      // every attempt in the history. Retries inside the client would multiply with those and hide in one attempt.
      maxRetries: 0,
      timeout: this.#timeoutMs,
    });
  }

  /** Asks the vendor's model for proposal `input.version`; the version written is always the one asked for. */
  async draftProposal(input: DraftProposalInput, signal?: AbortSignal): Promise<Proposal> {
    const content = await this.#complete('proposal', vendorMessages(input), signal);
    const value = parseJson('proposal', content, this.#apiKey);
    // The workflow owns the version number, so a model's slip there is no reason to fail the call.
    const withVersion = isObject(value) ? { ...value, version: input.version } : value;
    return validate('proposal', proposalSchema, withVersion);
  }

  /** Asks the client's model to review `input.proposal` in round `input.round`. */
  async reviewProposal(input: ReviewProposalInput, signal?: AbortSignal): Promise<Review> {
    const content = await this.#complete('review', clientMessages(input), signal);
    return validate('review', reviewSchema, parseJson('review', content, this.#apiKey));
  }

  /** Sends one request and returns the answer's text, or throws a typed error saying why there is none. */
  async #complete(kind: DocumentKind, messages: PromptMessage[], signal?: AbortSignal): Promise<string> {
    const body: ChatCompletionCreateParamsNonStreaming = {
      model: this.model,
      messages,
      response_format: responseFormats[kind],
    };
    let completion: ChatCompletion;
    const started = performance.now();
    try {
      completion = await this.#client.chat.completions.create(body, { signal });
    } catch (err) {
      // A cancelled activity must end with the reason Temporal aborted it with, so the worker reports the
      // activity as cancelled rather than failed.
      if (signal?.aborted) throw signal.reason ?? err;
      throw this.#apiError(err, performance.now() - started);
    }

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

  /** Classifies what the client threw: transient failures are retryable, requests the API refuses are not. */
  #apiError(err: unknown, elapsedMs: number): unknown {
    const key = this.#apiKey;
    // The client recognises its own timeout by the abort error's name, which it loses when fetch runs in another
    // realm (as under jest) and then reports a plain connection error; the time spent tells them apart anyway.
    const timedOut =
      err instanceof OpenAI.APIConnectionTimeoutError ||
      (err instanceof OpenAI.APIConnectionError && elapsedMs >= this.#timeoutMs);
    if (timedOut) {
      return new ModelApiError(`The request to the model timed out after ${this.#timeoutMs} ms (model ${this.model})`, {
        code: 'MODEL_TIMEOUT',
        isRetryable: true,
        cause: scrubError(err, key),
      });
    }
    if (err instanceof OpenAI.APIConnectionError) {
      return new ModelApiError(`Could not reach the model's API: ${scrub(err.message, key)}`, {
        code: 'MODEL_CONNECTION',
        isRetryable: true,
        cause: scrubError(err, key),
      });
    }
    if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
      const { code, isRetryable } = classifyStatus(err.status);
      return new ModelApiError(`The model's API failed (model ${this.model}): ${scrub(err.message, key)}`, {
        code,
        isRetryable,
        status: err.status,
        retryAfterMs: retryAfterMs(err.headers),
        cause: scrubError(err, key),
      });
    }
    return scrubError(err, key);
  }
}

/**
 * The OpenAI model this worker's environment configures: `OPENAI_API_KEY` (required), `OPENAI_BASE_URL`
 * (optional, for OpenAI-compatible servers) and `PARLEY_MODEL` (default {@link DEFAULT_OPENAI_MODEL}); a model
 * named by the simulation wins over `PARLEY_MODEL`.
 */
export function openAiModelFromEnv(env: NodeJS.ProcessEnv, choice: OpenAiChoice): OpenAiModel {
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

/** Parses the answer's text, accepting the ```json fence that servers without structured output often add. */
function parseJson(kind: DocumentKind, content: string, apiKey: string): unknown {
  const text = stripCodeFence(content);
  try {
    return JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ModelInvalidJsonError(
      `The model's ${kind} is not valid JSON (${reason}): ${excerpt(scrub(text, apiKey))}`,
      scrubError(err, apiKey),
    );
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
