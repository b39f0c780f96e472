// The workflow bundle's entry point: every workflow the worker runs is exported here.
export { negotiationWorkflow, type NegotiationInput } from './negotiation';
export { simulationWorkflow, type SimulationInput, type SimulationResult } from './simulation';
