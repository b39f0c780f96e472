import type { Proposal, Review, Satisfaction } from './documents';

/** The status words of a negotiation, as `parley status` and `parley run --json` print them. */
export const negotiationStatuses = [
  'running',
  'awaiting_approval',
  'agreed',
  'rejected',
  'no_agreement',
  'budget_exhausted',
  'failed',
] as const;
export type NegotiationStatus = (typeof negotiationStatuses)[number];

export function isSettled(status: NegotiationStatus): boolean {
  return status !== 'running' && status !== 'awaiting_approval';
}

// The verdicts live here rather than beside the document schemas so that workflow code, which needs them, never
// loads zod: the workflow sandbox evaluates its modules again for every negotiation it starts or replays.
export function isAcceptance(review: Review): boolean {
  return review.overall_satisfaction === 'accepted';
}

export function isRejection(review: Review): boolean {
  return review.overall_satisfaction === 'rejected';
}

/** A one-line event of the transcript: `- **HH:MM:SS** | **Actor** | Kind | text`. */
export interface TranscriptEvent {
  type: 'event';
  at: string;
  actor: string;
  kind: string;
  text: string;
}

/** A quoted JSON block of the transcript: `> **Actor (Proposal Vn)**:` followed by the document. */
export interface TranscriptDocument {
  type: 'document';
  at: string;
  actor: string;
  label: 'Proposal' | 'Review';
  version: number;
  body: Proposal | Review;
}

export type TranscriptEntry = TranscriptEvent | TranscriptDocument;

/** What `getStatus` answers and what a finished negotiation returns, without its documents. */
export interface NegotiationStatusView {
  negotiationId: string;
  simulationId: string;
  client: string;
  vendor: string;
  status: NegotiationStatus;
  /** The version of the latest proposal; 0 before the first one is drafted. */
  version: number;
  round: number;
  maxRounds: number;
  phase: 'drafting' | 'reviewing' | 'settled';
  lastSatisfaction?: Satisfaction;
  provider: string;
  model: string;
  /** Why the negotiation failed: the step, the party and the cause. */
  failure?: string;
  /** The decision the negotiation waits for, while its status is `awaiting_approval`. */
  pendingGate?: GateKind;
  /** Who took the decision that settled the negotiation, if a person did. */
  decidedBy?: string;
  /** Decisions the negotiation received but could not take, newest last. */
  notices: string[];
  /** Tokens the negotiation's model calls used so far. */
  tokens?: { prompt: number; completion: number };
  /** What those tokens cost, in US dollars, at the price the simulation started with. */
  costUsd?: number;
}

/** Where a negotiation waits for a person: the client accepted, or the rounds ran out. */
export type GateKind = 'acceptance' | 'round_limit';

/** What a list of negotiations shows of each: enough to find the ones that need attention. */
export type NegotiationSummary = Pick<
  NegotiationStatusView,
  | 'negotiationId'
  | 'simulationId'
  | 'client'
  | 'vendor'
  | 'status'
  | 'version'
  | 'round'
  | 'lastSatisfaction'
  | 'failure'
>;

/** Everything a negotiation knows: its status and its part of the transcript. */
export interface NegotiationRecord extends NegotiationStatusView {
  entries: TranscriptEntry[];
  currentProposal?: Proposal;
  /** Decisions taken with a request id, so a retry after the negotiation closed gets the same answer. */
  decidedRequests?: Record<string, { decision: string; by: string; status: NegotiationStatus; message: string }>;
}

/** A record without its documents: what status views and outcome tables need. */
export function statusViewOf(record: NegotiationRecord): NegotiationStatusView {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the documents are dropped on purpose
  const { entries, currentProposal, decidedRequests, ...view } = record;
  return view;
}
