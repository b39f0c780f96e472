/**
 * The bare Temporal baselines the benchmark compares Parley with. They keep Parley's timeouts and retry policy but
 * have no state, search attributes, transcript or handlers. Bundled by their own worker (task queue `bench-baseline`).
 */
import { executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';

export interface BaselineActivities {
  noop(round: number): Promise<number>;
  /** Waits `ms` like a model that answers in fixed time; the caller records how long it really took. */
  wait(ms: number): Promise<number>;
}

const { noop, wait } = proxyActivities<BaselineActivities>({
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

/**
 * The shape of a simulation on bare Temporal: a parent starts one child per pair, and each child makes `calls`
 * sequential calls that each take `ms`. It is the floor Temporal itself sets for Parley's critical path.
 */
export async function baselineSimulationWorkflow(pairs: number, calls: number, ms: number): Promise<number> {
  const { workflowId } = workflowInfo();
  await Promise.all(
    Array.from({ length: pairs }, (_, i) =>
      executeChild(baselineCallChainWorkflow, { workflowId: `${workflowId}.${i}`, args: [calls, ms] }),
    ),
  );
  return pairs;
}

export async function baselineCallChainWorkflow(calls: number, ms: number): Promise<number> {
  for (let i = 0; i < calls; i++) await wait(ms);
  return calls;
}
