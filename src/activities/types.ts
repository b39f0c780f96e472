import type { Proposal, Review } from '../negotiation/documents';
import type { Price } from '../negotiation/pricing';
import type { Client, Language, Need, Vendor } from '../scenario/schema';

/** An engine that writes documents itself: the offline engine or a model behind the OpenAI API. */
export type EngineChoice =
  | { provider: 'offline' }
  | {
      provider: 'openai';
      model?: string;
      /** The model's price, looked up when the simulation starts so the workflow can keep a budget. */
      price?: Price;
    };

/** One document as a run recorded it, to be served back instead of calling a model. */
export interface RecordedAnswer {
  document: unknown;
  provider: string;
  model: string;
}

/** The recorded answers of one client–vendor pair, by step and round. */
export interface PairRecording {
  proposals: Record<string, RecordedAnswer>;
  reviews: Record<string, RecordedAnswer>;
}

/**
 * Which engine writes the documents of a simulation. Credentials stay in the worker's environment. `replay`
 * serves a recorded run back (`recordings` keyed by `client|vendor`), so a simulation reproduces with no network.
 */
export type LlmChoice =
  EngineChoice | { provider: 'replay'; source: string; recordings: Record<string, PairRecording> };

/** What one model call is told to use: the simulation's engine, or the one recorded answer it must serve. */
export type CallLlm = EngineChoice | { provider: 'replay'; answer?: RecordedAnswer };

export type ProviderName = LlmChoice['provider'];

/** What the vendor is told about the client before any feedback: the needs of round 1 and the stated deadline. */
export interface ClientBrief {
  name: string;
  project: string;
  brief: string;
  needs: Need[];
  deadline: Client['deadline'];
}

export interface DraftProposalInput {
  negotiationId: string;
  language: Language;
  llm: CallLlm;
  client: ClientBrief;
  vendor: Vendor;
  /** The version this draft will carry; the workflow decides it, not the model. */
  version: number;
  previousProposal?: Proposal;
  lastReview?: Review;
}

export interface ReviewProposalInput {
  negotiationId: string;
  language: Language;
  llm: CallLlm;
  /** The full client, including what it reveals only in later rounds. */
  client: Client;
  vendorName: string;
  round: number;
  maxRounds: number;
  proposal: Proposal;
  previousReview?: Review;
}

/** Tokens one model call used, as the API's `usage` reports them; the offline engine reports none. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

/** Who wrote a document, for the transcript, and what it cost. */
export interface Authorship {
  provider: ProviderName;
  model: string;
  usage?: TokenUsage;
  /**
   * Whether the worker that made the call posts webhook events. A negotiation whose workers have no webhook skips
   * the delivery step altogether; absent in results recorded before workers reported it.
   */
  postsEvents?: boolean;
}

export interface DraftProposalResult extends Authorship {
  proposal: Proposal;
}

export interface ReviewProposalResult extends Authorship {
  review: Review;
}

/**
 * One engine able to play both sides. The offline engine computes documents from the scenario; the OpenAI
 * provider asks a model. `signal` aborts a call in flight when the activity is cancelled.
 */
export interface NegotiationModel {
  readonly provider: ProviderName;
  readonly model: string;
  draftProposal(input: DraftProposalInput, signal?: AbortSignal): Promise<Proposal>;
  reviewProposal(input: ReviewProposalInput, signal?: AbortSignal): Promise<Review>;
}
