import { ApplicationFailure, Context } from '@temporalio/activity';
import { proposalSchema, reviewSchema } from '../negotiation/documents';
import {
  isAttemptAware,
  nextAttemptOf,
  repairDetails,
  repairFromHeartbeat,
  type ModelAnswer,
  type RepairState,
} from './repair';
import type {
  DraftProposalInput,
  DraftProposalResult,
  CallLlm,
  NegotiationModel,
  ReviewProposalInput,
  ReviewProposalResult,
  TokenUsage,
} from './types';

/** Finds the engine for a call's choice; the worker builds it from its own environment. */
export type ModelResolver = (choice: CallLlm) => NegotiationModel;

/**
 * The two business steps of a negotiation, one model call each. What the model returns is validated again
 * here, so nothing invalid reaches the workflow's state whatever the engine.
 *
 * Temporal's retry policy owns the retries. An attempt that fails records in its heartbeat details what the
 * next attempt should do differently (send the bad answer back with what was wrong with it, ask for more
 * output room, ask for JSON another way), and the next attempt starts from there.
 */
export function createActivities(resolveModel: ModelResolver, worker: { postsEvents?: boolean } = {}) {
  const postsEvents = worker.postsEvents ?? false;
  return {
    async draftProposal(input: DraftProposalInput): Promise<DraftProposalResult> {
      const model = resolveForActivity(resolveModel, input.llm);
      const { document, usage } = await attempt((signal, repair) =>
        isAttemptAware(model)
          ? model.draftAttempt(input, { signal, repair })
          : model.draftProposal(input, signal).then((proposal) => ({ document: proposal })),
      );
      return {
        proposal: withinSizeLimit(proposalSchema.parse(document), 'proposal'),
        provider: model.provider,
        model: model.model,
        ...usageField(usage),
        postsEvents,
      };
    },

    async reviewProposal(input: ReviewProposalInput): Promise<ReviewProposalResult> {
      const model = resolveForActivity(resolveModel, input.llm);
      const { document, usage } = await attempt((signal, repair) =>
        isAttemptAware(model)
          ? model.reviewAttempt(input, { signal, repair })
          : model.reviewProposal(input, signal).then((review) => ({ document: review })),
      );
      return {
        review: withinSizeLimit(reviewSchema.parse(document), 'review'),
        provider: model.provider,
        model: model.model,
        ...usageField(usage),
        postsEvents,
      };
    },
  };
}

/**
 * Runs one attempt of a model call: reads what the previous attempt left in the heartbeat details, and when
 * this one fails, leaves what the next one needs the same way before reporting the failure.
 */
async function attempt<T>(
  call: (signal: AbortSignal, repair: RepairState | undefined) => Promise<ModelAnswer<T>>,
): Promise<ModelAnswer<T>> {
  const context = Context.current();
  const signal = context.cancellationSignal;
  const carried: unknown = context.info.heartbeatDetails;
  // A model can take minutes; heartbeats let Temporal notice a dead worker within the heartbeat timeout instead
  // of the whole start-to-close timeout. They repeat what the last attempt left so nothing is lost meanwhile.
  const heartbeats = setInterval(() => context.heartbeat(carried), HEARTBEAT_INTERVAL_MS);
  try {
    return await call(signal, repairFromHeartbeat(carried));
  } catch (err) {
    // A cancelled activity reports the cancellation as it is, never as a failure of the model.
    if (signal.aborted) throw err;
    const next = nextAttemptOf(err);
    if (next) context.heartbeat(repairDetails(next));
    throw toFailure(err);
  } finally {
    clearInterval(heartbeats);
  }
}

/** How often a model call in flight reports that its worker is alive; the workflow's heartbeat timeout is 30 s. */
const HEARTBEAT_INTERVAL_MS = 5_000;

/** Usage only when there is some, so offline results stay as they were. */
function usageField(usage: TokenUsage | undefined): { usage?: TokenUsage } {
  return usage ? { usage } : {};
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * The largest document a negotiation accepts, in bytes of JSON. Temporal refuses payloads over 2 MB, and a
 * negotiation's record carries every document it has seen, so one runaway answer must not reach the workflow.
 */
export const MAX_DOCUMENT_BYTES = 256 * 1024;

/** Fails the call for good when a document is too large to keep in a workflow history. */
function withinSizeLimit<T>(document: T, kind: string): T {
  const bytes = Buffer.byteLength(JSON.stringify(document), 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw ApplicationFailure.create({
      type: 'DOCUMENT_TOO_LARGE',
      message: `the ${kind} is ${bytes} bytes of JSON, over the ${MAX_DOCUMENT_BYTES}-byte limit for one document`,
      nonRetryable: true,
    });
  }
  return document;
}

function resolveForActivity(resolveModel: ModelResolver, choice: CallLlm): NegotiationModel {
  return callSync(() => resolveModel(choice));
}

/** An error that knows whether trying again can help: the model layer's typed errors all do. */
interface ClassifiedError extends Error {
  code: string;
  isRetryable: boolean;
  /** How long the server asked us to wait before trying again (Retry-After). */
  retryAfterMs?: number;
}

function isClassified(err: unknown): err is ClassifiedError {
  return err instanceof Error && typeof (err as ClassifiedError).code === 'string' && 'isRetryable' in err;
}

/** The longest a server's Retry-After may hold a call back. */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Turns the model layer's typed errors into failures Temporal's retry policy understands. */
function toFailure(err: unknown): unknown {
  if (!isClassified(err)) return err;
  const retryAfter = err.isRetryable && typeof err.retryAfterMs === 'number' && err.retryAfterMs > 0;
  return ApplicationFailure.create({
    type: err.code,
    message: err.message,
    nonRetryable: !err.isRetryable,
    // The next attempt waits at least as long as the server asked, whatever the policy's backoff says.
    // A server may ask for any delay; past a few minutes the negotiation would look dead, so the wait is capped.
    ...(retryAfter ? { nextRetryDelay: Math.min(Math.ceil(err.retryAfterMs!), MAX_RETRY_AFTER_MS) } : {}),
    cause: err,
  });
}

function callSync<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw toFailure(err);
  }
}
