/**
 * The bare Temporal baseline the benchmark compares Parley's negotiation loop with: the same number of activities
 * per round, with the same timeouts and retry policy, but no-op activities and no state, search attributes,
 * transcript or handlers. Bundled by its own worker (task queue `bench-baseline`).
 */
import { proxyActivities } from '@temporalio/workflow';

export interface BaselineActivities {
  noop(round: number): Promise<number>;
}

const { noop } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/** `rounds` rounds of `activitiesPerRound` sequential no-op activities; answers the number of rounds run. */
export async function baselineWorkflow(rounds: number, activitiesPerRound: number): Promise<number> {
  for (let round = 1; round <= rounds; round++) {
    for (let i = 0; i < activitiesPerRound; i++) await noop(round);
  }
  return rounds;
}
