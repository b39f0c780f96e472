import type { RepairState } from './repair';

/**
 * Typed failures of the model layer. Each carries a stable `code` (the Temporal failure type the activities
 * report) and says whether trying again can help, so the activity layer can tell Temporal's retry policy
 * which failures to retry and which to give up on at once.
 */

/** Every code a model error can carry; stable, because retry policies and dashboards match on them. */
export type ModelErrorCode =
  | 'MODEL_CONFIG'
  | 'MODEL_RATE_LIMITED'
  | 'MODEL_SERVER_ERROR'
  | 'MODEL_CONNECTION'
  | 'MODEL_TIMEOUT'
  | 'MODEL_AUTH'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_BAD_REQUEST'
  | 'MODEL_BAD_RESPONSE'
  | 'MODEL_REFUSED'
  | 'MODEL_TRUNCATED'
  | 'MODEL_INVALID_JSON'
  | 'MODEL_SCHEMA_VIOLATION';

/** Base class of the model layer's errors. */
export abstract class ModelError extends Error {
  abstract readonly code: ModelErrorCode;
  /** Whether the same call may succeed later: true for rate limits and outages, false for bad configuration. */
  readonly isRetryable: boolean;
  /**
   * What the next attempt of the same call should do differently (send the bad answer back, ask for more
   * output room, use another response format), set by the model that threw it. The activity carries it to the
   * next attempt in its heartbeat details.
   */
  nextAttempt?: RepairState;

  protected constructor(message: string, options: { isRetryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.isRetryable = options.isRetryable;
  }
}

/** The worker is not set up to use the provider (for example no API key). Retrying cannot fix configuration. */
export class ModelConfigError extends ModelError {
  readonly code = 'MODEL_CONFIG' as const;

  constructor(message: string) {
    super(message, { isRetryable: false });
  }
}

/** Codes of failures the API or the network reports, before any answer is read. */
export type ModelApiErrorCode = Extract<
  ModelErrorCode,
  | 'MODEL_RATE_LIMITED'
  | 'MODEL_SERVER_ERROR'
  | 'MODEL_CONNECTION'
  | 'MODEL_TIMEOUT'
  | 'MODEL_AUTH'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_BAD_REQUEST'
>;

/** The request failed at the API: an HTTP error status, a dropped connection or a timeout. */
export class ModelApiError extends ModelError {
  readonly code: ModelApiErrorCode;
  /** HTTP status, when the server answered at all. */
  readonly status: number | undefined;
  /** How long the server asked us to wait (Retry-After), for a retry policy that can honour it. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: { code: ModelApiErrorCode; isRetryable: boolean; status?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, options);
    this.code = options.code;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The server answered with success but not with a chat completion: an HTML page (a proxy's error or sign-in page)
 * or JSON of another shape. Retryable: what stands in front of a model usually answers like this for a while (a
 * gateway restarting, a portal in the way), and the retry policy bounds the attempts.
 */
export class ModelBadResponseError extends ModelError {
  readonly code = 'MODEL_BAD_RESPONSE' as const;

  constructor(
    message: string,
    readonly status: number,
    /** The answer's `content-type` header, when it had one. */
    readonly contentType: string | undefined,
  ) {
    super(message, { isRetryable: true });
  }
}

/** The model declined to write the document. Asking again with the same prompt is expected to be declined again. */
export class ModelRefusalError extends ModelError {
  readonly code = 'MODEL_REFUSED' as const;

  constructor(
    message: string,
    /** What the model said instead of the document. */
    readonly refusal: string,
  ) {
    super(message, { isRetryable: false });
  }
}

/**
 * The answer was cut off (`finish_reason: length`). Retryable: a sampled answer is often shorter the next time,
 * and a model stuck repeating itself usually is not on a second try; the retry policy bounds the attempts.
 */
export class ModelTruncatedError extends ModelError {
  readonly code = 'MODEL_TRUNCATED' as const;

  constructor(message: string) {
    super(message, { isRetryable: true });
  }
}

/** The answer was not JSON. Retryable: another sample is usually well formed. */
export class ModelInvalidJsonError extends ModelError {
  readonly code = 'MODEL_INVALID_JSON' as const;

  constructor(
    message: string,
    cause?: unknown,
    /** What is wrong with the text, in words for the model to read on the next attempt. */
    readonly reason?: string,
  ) {
    super(message, { isRetryable: true, cause });
  }
}

/** One reason a document broke its schema: where (`feature_list.0`) and what. */
export interface SchemaIssue {
  path: string;
  message: string;
  /** The validator's issue code (`invalid_type`, `too_small`, ...), when known. */
  code?: string;
}

/**
 * The answer was JSON but not a valid document (missing field, empty text, unknown satisfaction level).
 * Retryable: servers without strict structured output, and constraints the wire schema cannot express
 * (non-empty strings), leave room for another sample to comply.
 */
export class ModelSchemaError extends ModelError {
  readonly code = 'MODEL_SCHEMA_VIOLATION' as const;

  constructor(
    message: string,
    readonly issues: SchemaIssue[],
  ) {
    super(message, { isRetryable: true });
  }
}

/** True for any error of the model layer. */
export function isModelError(err: unknown): err is ModelError {
  return err instanceof ModelError;
}
