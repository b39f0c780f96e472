import type { Proposal, Review } from '../negotiation/documents';
import { ModelConfigError } from './errors';
import type { NegotiationModel, RecordedAnswer } from './types';

/**
 * Serves a recorded answer instead of calling a model, so a recorded run reproduces exactly with no network.
 * The activity validates it like any model's answer.
 */
export class ReplayModel implements NegotiationModel {
  readonly provider = 'replay' as const;
  readonly model: string;

  constructor(private readonly answer: RecordedAnswer | undefined) {
    this.model = answer ? `${answer.provider}:${answer.model}` : 'replay';
  }

  async draftProposal(input: { version: number }): Promise<Proposal> {
    return this.served(`proposal V${input.version}`) as Proposal;
  }

  async reviewProposal(input: { round: number }): Promise<Review> {
    return this.served(`review of proposal V${input.round}`) as Review;
  }

  private served(what: string): unknown {
    // The same recording will lack the same answer on every attempt, so this is not worth retrying.
    if (!this.answer) throw new ModelConfigError(`the recording has no ${what} for this negotiation`);
    return this.answer.document;
  }
}
