import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Proposal } from '../negotiation/documents';
import type { NegotiationRecord, NegotiationStatus, NegotiationStatusView } from '../negotiation/record';

/** The negotiation's status, version, round and pending gate at this moment. */
export const getStatus = defineQuery<NegotiationStatusView>('getStatus');
/** The latest proposal, with the version the workflow gave it. */
export const getCurrentProposal = defineQuery<Proposal | null>('getCurrentProposal');
/** The negotiation's full record: status plus every transcript entry so far. */
export const getHistory = defineQuery<NegotiationRecord>('getHistory');

/** The negotiations of a simulation, as far as the simulation knows. */
export const getSimulation = defineQuery<SimulationView>('getSimulation');

export interface SimulationNegotiation {
  negotiationId: string;
  client: string;
  vendor: string;
}

export interface SimulationView {
  simulationId: string;
  scenarioName: string;
  startedAt: string;
  provider: string;
  negotiations: SimulationNegotiation[];
}

/** The four human decisions a gate can take. */
export const decisionKinds = ['approve', 'reject', 'requestRevision', 'extendRounds'] as const;
export type DecisionKind = (typeof decisionKinds)[number];

/**
 * What a person sends with a decision, as plain JSON so the stock `temporal` CLI and any HTTP tool can send it:
 * `{"by": "alice", "requestId": "r-1", "reason": "...", "comment": "...", "rounds": 2}`. Every field is optional
 * on the wire; the workflow checks what each decision needs.
 */
export interface DecisionRequest {
  by?: string;
  requestId?: string;
  comment?: string;
  reason?: string;
  rounds?: number;
}

/** What the workflow made of a decision. */
export interface DecisionOutcome {
  decision: DecisionKind;
  by: string;
  status: NegotiationStatus;
  message: string;
}

// Signals: fire and forget, for tools that cannot wait. A signal the negotiation cannot take is recorded as a
// notice in its status and transcript; it never fails the workflow.
export const approve = defineSignal<[DecisionRequest]>('approve');
export const reject = defineSignal<[DecisionRequest]>('reject');
export const requestRevision = defineSignal<[DecisionRequest]>('requestRevision');
export const extendRounds = defineSignal<[DecisionRequest]>('extendRounds');

// Updates: the same decisions, answered. The validator refuses a decision the negotiation cannot take, with the
// reason, before anything is written to its history. The wire names are those of the signals, with a suffix,
// so `temporal workflow update execute --name approveDecision` reads as what it does.
export const approveDecision = defineUpdate<DecisionOutcome, [DecisionRequest]>('approveDecision');
export const rejectDecision = defineUpdate<DecisionOutcome, [DecisionRequest]>('rejectDecision');
export const requestRevisionDecision = defineUpdate<DecisionOutcome, [DecisionRequest]>('requestRevisionDecision');
export const extendRoundsDecision = defineUpdate<DecisionOutcome, [DecisionRequest]>('extendRoundsDecision');

export const decisionSignals = { approve, reject, requestRevision, extendRounds } as const;
export const decisionUpdates = {
  approve: approveDecision,
  reject: rejectDecision,
  requestRevision: requestRevisionDecision,
  extendRounds: extendRoundsDecision,
} as const;
