import { ParentClosePolicy, startChild, setHandler, workflowInfo } from '@temporalio/workflow';
import type { LlmChoice } from '../activities/types';
import { statusViewOf, type NegotiationStatusView } from '../negotiation/record';
import { negotiationIdFor, recordingKey } from '../negotiation/ids';
import type { Scenario } from '../scenario/schema';
import { getSimulation, type SimulationNegotiation } from './messages';
import { negotiationWorkflow } from './negotiation';

export interface SimulationInput {
  scenario: Scenario;
  llm: LlmChoice;
  /** Whether the namespace has Parley's search attributes, so negotiations can index themselves. */
  indexed?: boolean;
}

export interface SimulationResult {
  simulationId: string;
  scenarioName: string;
  startedAt: string;
  outcomes: NegotiationStatusView[];
}

/** Runs every pair of a scenario as its own child negotiation, all at once, and returns their outcomes. */
export async function simulationWorkflow(input: SimulationInput): Promise<SimulationResult> {
  const { scenario, llm } = input;
  const simulationId = workflowInfo().workflowId;
  const startedAt = new Date().toISOString();
  const negotiations: SimulationNegotiation[] = scenario.pairs.map((pair) => ({
    negotiationId: negotiationIdFor(simulationId, pair.client, pair.vendor),
    client: pair.client,
    vendor: pair.vendor,
  }));

  setHandler(getSimulation, () => ({
    simulationId,
    scenarioName: scenario.name,
    startedAt,
    provider: llm.provider,
    negotiations,
  }));

  const clientOf = (name: string) => scenario.clients.find((c) => c.name === name)!;
  const handles = await Promise.all(
    negotiations.map((n) =>
      startChild(negotiationWorkflow, {
        workflowId: n.negotiationId,
        // Each negotiation is worth keeping on its own: cancelling the simulation is a deliberate act,
        // but a simulation that is terminated must not take finished or waiting negotiations with it.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // Lets tools name the parties of a negotiation that ended without a result (terminated, say).
        memo: { client: n.client, vendor: n.vendor, simulationId },
        staticSummary: `${n.client} ↔ ${n.vendor}: ${clientOf(n.client).project}`,
        staticDetails: staticDetails(scenario, n.client, n.vendor),
        args: [
          {
            simulationId,
            negotiationId: n.negotiationId,
            client: clientOf(n.client),
            vendor: scenario.vendors.find((v) => v.name === n.vendor)!,
            policy: scenario.policy,
            llm: llmFor(llm, n.client, n.vendor),
            indexed: input.indexed,
          },
        ],
      }),
    ),
  );
  // A negotiation settles its own model failures; one that still fails (terminated by an operator, say)
  // is reported as failed without hiding the outcomes of the others.
  const settled = await Promise.allSettled(handles.map((h) => h.result()));
  const outcomes = settled.map((result, i): NegotiationStatusView => {
    if (result.status === 'fulfilled') {
      return statusViewOf(result.value);
    }
    const n = negotiations[i];
    return {
      negotiationId: n.negotiationId,
      simulationId,
      client: n.client,
      vendor: n.vendor,
      status: 'failed',
      version: 0,
      round: 0,
      maxRounds: scenario.policy.maxRounds,
      phase: 'settled',
      notices: [],
      provider: llm.provider,
      model: '',
      failure: result.reason instanceof Error ? result.reason.message : String(result.reason),
    };
  });

  return { simulationId, scenarioName: scenario.name, startedAt, outcomes };
}

/** A negotiation's engine; a replay carries only the pair's own recording, to keep each history small. */
function llmFor(llm: LlmChoice, client: string, vendor: string): LlmChoice {
  if (llm.provider !== 'replay') return llm;
  const key = recordingKey(client, vendor);
  const recording = llm.recordings[key];
  return { ...llm, recordings: recording ? { [key]: recording } : {} };
}

/** What the Web UI shows of a negotiation before it starts: the parties, the project and the rules. */
function staticDetails(scenario: Scenario, clientName: string, vendorName: string): string {
  const client = scenario.clients.find((c) => c.name === clientName)!;
  const vendor = scenario.vendors.find((v) => v.name === vendorName)!;
  return [
    `**Client**: ${client.name} — ${client.project}`,
    client.brief,
    `**Vendor**: ${vendor.name} — ${vendor.profile}`,
    `**Policy**: up to ${scenario.policy.maxRounds} rounds, approval ${scenario.policy.approval}, language ${scenario.policy.language}`,
    `**Needs in the brief**: ${client.needs.map((n) => n.ask).join('; ')}`,
  ].join('\n');
}
