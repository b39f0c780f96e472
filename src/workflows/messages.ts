import { defineQuery } from '@temporalio/workflow';
import type { Proposal } from '../negotiation/documents';
import type { NegotiationRecord, NegotiationStatusView } from '../negotiation/record';

/** The negotiation's status, version and round at this moment. */
export const getStatus = defineQuery<NegotiationStatusView>('getStatus');
/** The latest proposal, with the version the workflow gave it. */
export const getCurrentProposal = defineQuery<Proposal | null>('getCurrentProposal');
/** The negotiation's full record: status plus every transcript entry so far. */
export const getHistory = defineQuery<NegotiationRecord>('getHistory');

/** The negotiations of a simulation and their status, as far as the simulation knows. */
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
