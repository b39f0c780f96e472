import type { Client } from '@temporalio/client';
import { negotiationStatus, startSimulation } from '../../src/cli/simulations';
import type { Scenario } from '../../src/scenario/schema';
import { eventually } from './eventually';

/**
 * Starts the first pair of `scenario` on `taskQueue` with the offline engine and resolves with its negotiation's id
 * once it waits for a decision. The scenario must reach an acceptance (quick-agreement's first pair does).
 */
export async function firstPairAwaitingApproval(
  client: Client,
  scenario: Scenario,
  taskQueue: string,
): Promise<string> {
  const simulation = await startSimulation(
    client,
    { ...scenario, pairs: scenario.pairs.slice(0, 1) },
    { provider: 'offline' },
    { taskQueue },
  );
  const id = simulation.negotiations[0].negotiationId;
  await eventually(
    () => negotiationStatus(client, id),
    (s) => s.status === 'awaiting_approval',
  );
  return id;
}
