import { ApplicationFailure, Context } from '@temporalio/activity';
import { proposalSchema, reviewSchema } from '../negotiation/documents';
import type {
  DraftProposalInput,
  DraftProposalResult,
  LlmChoice,
  NegotiationModel,
  ReviewProposalInput,
  ReviewProposalResult,
} from './types';

/** Finds the engine for a simulation's choice; the worker builds it from its own environment. */
export type ModelResolver = (choice: LlmChoice) => NegotiationModel;

/**
 * The two business steps of a negotiation, one model call each. What the model returns is validated again
 * here, so nothing invalid reaches the workflow's state whatever the engine.
 */
export function createActivities(resolveModel: ModelResolver) {
  return {
    async draftProposal(input: DraftProposalInput): Promise<DraftProposalResult> {
      const model = resolveForActivity(resolveModel, input.llm);
      const proposal = await callModel(() => model.draftProposal(input, Context.current().cancellationSignal));
      return { proposal: proposalSchema.parse(proposal), provider: model.provider, model: model.model };
    },

    async reviewProposal(input: ReviewProposalInput): Promise<ReviewProposalResult> {
      const model = resolveForActivity(resolveModel, input.llm);
      const review = await callModel(() => model.reviewProposal(input, Context.current().cancellationSignal));
      return { review: reviewSchema.parse(review), provider: model.provider, model: model.model };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;

function resolveForActivity(resolveModel: ModelResolver, choice: LlmChoice): NegotiationModel {
  return callSync(() => resolveModel(choice));
}

/** An error that knows whether trying again can help: the model layer's typed errors all do. */
interface ClassifiedError extends Error {
  code: string;
  isRetryable: boolean;
}

function isClassified(err: unknown): err is ClassifiedError {
  return err instanceof Error && typeof (err as ClassifiedError).code === 'string' && 'isRetryable' in err;
}

/** Turns the model layer's typed errors into failures Temporal's retry policy understands. */
function toFailure(err: unknown): unknown {
  if (!isClassified(err)) return err;
  return ApplicationFailure.create({
    type: err.code,
    message: err.message,
    nonRetryable: !err.isRetryable,
    cause: err,
  });
}

async function callModel<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toFailure(err);
  }
}

function callSync<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw toFailure(err);
  }
}
