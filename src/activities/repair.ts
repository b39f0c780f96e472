import type { Proposal, Review } from '../negotiation/documents';
import type { DraftProposalInput, NegotiationModel, ReviewProposalInput, TokenUsage } from './types';

/**
 * What one attempt of a model call leaves the next attempt of the same activity. Temporal's retry policy owns
 * the retries, so this travels in the activity's heartbeat details: an attempt that fails records it before it
 * throws, and the next attempt reads it back from `Context.current().info.heartbeatDetails`.
 *
 * Everything here is plain JSON and bounded in size (see {@link boundRepair}), since heartbeat details are
 * stored by the Temporal server.
 */
export interface RepairState {
  /** The previous answer, which was not a valid document; sent back to the model as its own turn. */
  answer?: string;
  /** What was wrong with it, one `path: message` line each; sent back with the answer. */
  problems?: string[];
  /** Output room to ask for, raised after an answer was cut off (`finish_reason: length`). */
  maxTokens?: number;
  /**
   * How to ask for JSON: `json_schema` (structured output, the default), `json_object` (JSON mode, the schema
   * in the prompt) for servers that lack or ignore structured output, `none` (only the prompt) for servers
   * that reject both.
   */
  format?: ResponseFormatMode;
  /** Tokens earlier attempts of this call already used: they are paid for even though they failed. */
  spent?: TokenUsage;
}

export type ResponseFormatMode = 'json_schema' | 'json_object' | 'none';

const formatModes: readonly ResponseFormatMode[] = ['json_schema', 'json_object', 'none'];

/** How much of a bad answer is sent back, and kept in the heartbeat details. */
export const MAX_REPAIR_ANSWER_CHARS = 6_000;
/** How many problems are sent back, and how long each may be. */
export const MAX_REPAIR_PROBLEMS = 10;
export const MAX_REPAIR_PROBLEM_CHARS = 300;

/** A document with what it cost to get it. */
export interface ModelAnswer<T> {
  document: T;
  /** Tokens of this attempt and of the failed attempts before it, when the API reported them. */
  usage?: TokenUsage;
}

/** What an attempt of a model call is given besides its input. */
export interface AttemptOptions {
  signal?: AbortSignal;
  /** What the previous attempt of the same call left; absent on the first attempt. */
  repair?: RepairState;
}

/**
 * A model that can carry state from one attempt of a call to the next and reports token usage. It throws
 * errors with a `nextAttempt` ({@link RepairState}) saying what the next attempt should do differently.
 */
export interface AttemptAwareModel extends NegotiationModel {
  draftAttempt(input: DraftProposalInput, options: AttemptOptions): Promise<ModelAnswer<Proposal>>;
  reviewAttempt(input: ReviewProposalInput, options: AttemptOptions): Promise<ModelAnswer<Review>>;
}

export function isAttemptAware(model: NegotiationModel): model is AttemptAwareModel {
  const candidate = model as Partial<AttemptAwareModel>;
  return typeof candidate.draftAttempt === 'function' && typeof candidate.reviewAttempt === 'function';
}

/** The state an error asks the next attempt to start from, if it carries one. */
export function nextAttemptOf(err: unknown): RepairState | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const next = (err as { nextAttempt?: unknown }).nextAttempt;
  return next === undefined ? undefined : readRepair(next);
}

/** Reads the repair state out of heartbeat details written by {@link repairDetails}; anything else gives none. */
export function repairFromHeartbeat(details: unknown): RepairState | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  return readRepair((details as { repair?: unknown }).repair);
}

/** The heartbeat details that carry `state` to the next attempt. */
export function repairDetails(state: RepairState): { repair: RepairState } {
  return { repair: boundRepair(state) };
}

/** A copy of `state` within the size limits, dropping anything of the wrong type. */
export function boundRepair(state: RepairState): RepairState {
  return readRepair(state) ?? {};
}

/** Reads a repair state defensively: heartbeat details are whatever an earlier attempt (or version) stored. */
function readRepair(value: unknown): RepairState | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const raw = value as Record<string, unknown>;
  const state: RepairState = {};
  if (typeof raw.answer === 'string') state.answer = cap(raw.answer, MAX_REPAIR_ANSWER_CHARS);
  if (Array.isArray(raw.problems)) {
    state.problems = raw.problems
      .filter((p): p is string => typeof p === 'string')
      .slice(0, MAX_REPAIR_PROBLEMS)
      .map((p) => cap(p, MAX_REPAIR_PROBLEM_CHARS));
  }
  if (typeof raw.maxTokens === 'number' && Number.isInteger(raw.maxTokens) && raw.maxTokens > 0) {
    state.maxTokens = raw.maxTokens;
  }
  if (formatModes.includes(raw.format as ResponseFormatMode)) state.format = raw.format as ResponseFormatMode;
  const spent = raw.spent as Partial<TokenUsage> | undefined;
  if (spent && typeof spent.promptTokens === 'number' && typeof spent.completionTokens === 'number') {
    state.spent = { promptTokens: spent.promptTokens, completionTokens: spent.completionTokens };
  }
  return state;
}

/** Adds two usages; either may be missing. */
export function addUsage(a: TokenUsage | undefined, b: TokenUsage | undefined): TokenUsage | undefined {
  if (!a) return b;
  if (!b) return a;
  return { promptTokens: a.promptTokens + b.promptTokens, completionTokens: a.completionTokens + b.completionTokens };
}

function cap(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…[cut]` : text;
}
