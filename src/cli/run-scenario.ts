import type { Client } from '@temporalio/client';
import pc from 'picocolors';
import type { LlmChoice } from '../activities/types';
import { isSettled, type NegotiationStatusView } from '../negotiation/record';
import type { Scenario } from '../scenario/schema';
import type { SimulationView } from '../workflows/messages';
import { startSimulation } from './simulations';
import { saveTranscript } from './transcripts';
import { describeProgress, watchSimulation } from './watch';

export interface ScenarioRun {
  simulation: SimulationView;
  outcomes?: NegotiationStatusView[];
  transcriptFile?: string;
}

/**
 * Starts a scenario's simulation and, with `wait`, follows it until every negotiation settles, printing
 * progress to stderr (stdout stays clean for `--json`), then writes the transcript.
 */
export async function runScenario(
  client: Client,
  scenario: Scenario,
  llm: LlmChoice,
  options: { wait: boolean; quiet?: boolean; taskQueue?: string; runsDir?: string },
): Promise<ScenarioRun> {
  const simulation = await startSimulation(client, scenario, llm, { taskQueue: options.taskQueue });
  if (!options.wait) return { simulation };

  if (!options.quiet) process.stderr.write(pc.dim(`Simulation ${simulation.simulationId} started\n`));
  const outcomes = await watchSimulation(client, simulation, (view) => {
    if (!options.quiet)
      process.stderr.write(`${pc.dim(new Date().toISOString().slice(11, 19))} ${describeProgress(view)}\n`);
  });
  // Once every negotiation has settled, the simulation returns too; wait for it so its result holds every
  // outcome. Negotiations awaiting a decision keep it open, and their transcript so far is written as it is.
  if (outcomes.every((o) => isSettled(o.status))) await client.workflow.getHandle(simulation.simulationId).result();
  const transcriptFile = await saveTranscript(client, simulation.simulationId, options.runsDir);
  return { simulation, outcomes, transcriptFile };
}

/** The `--json` shape of `parley run`. */
export function runJson(run: ScenarioRun) {
  return {
    simulationId: run.simulation.simulationId,
    negotiations: run.simulation.negotiations.map((n) => {
      const outcome = run.outcomes?.find((o) => o.negotiationId === n.negotiationId);
      return {
        id: n.negotiationId,
        client: n.client,
        vendor: n.vendor,
        status: outcome?.status ?? 'running',
        ...(outcome ? { version: outcome.version, round: outcome.round } : {}),
        ...(outcome?.failure ? { failure: outcome.failure } : {}),
      };
    }),
    ...(run.transcriptFile ? { transcript: run.transcriptFile } : {}),
  };
}
