import type { Client } from '@temporalio/client';
import { isSettled, type NegotiationStatusView } from '../negotiation/record';
import type { SimulationView } from '../workflows/messages';
import { negotiationStatus } from './simulations';

/**
 * Polls every negotiation of a simulation until all have settled, calling `onChange` whenever one moves to
 * another round, phase or status. Polling keeps this working with any worker and any Temporal server.
 */
export async function watchSimulation(
  client: Client,
  simulation: SimulationView,
  onChange: (view: NegotiationStatusView) => void,
  intervalMs = 500,
): Promise<NegotiationStatusView[]> {
  const last = new Map<string, string>();
  for (;;) {
    const views = await Promise.all(
      simulation.negotiations.map((n) => negotiationStatus(client, n.negotiationId).catch(() => undefined)),
    );
    for (const view of views) {
      if (!view) continue;
      const key = `${view.status}/${view.round}/${view.phase}`;
      if (last.get(view.negotiationId) !== key) {
        last.set(view.negotiationId, key);
        onChange(view);
      }
    }
    // A negotiation waiting for a person can wait for weeks; the watch ends there and says who must decide.
    if (views.every((v) => v && (isSettled(v.status) || v.status === 'awaiting_approval'))) {
      return views as NegotiationStatusView[];
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** One line of progress for a person watching: who, which round, doing what. */
export function describeProgress(view: NegotiationStatusView): string {
  const pair = `${view.client} ↔ ${view.vendor}`;
  if (view.status === 'awaiting_approval')
    return `${pair}: awaiting a decision on V${view.version} (${view.pendingGate})`;
  if (view.phase === 'settled')
    return `${pair}: ${view.status} at V${view.version}${view.failure ? ` (${view.failure})` : ''}`;
  return `${pair}: round ${view.round}/${view.maxRounds}, ${view.phase === 'drafting' ? `drafting V${view.round}` : `reviewing V${view.version}`}`;
}
