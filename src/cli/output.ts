import Table from 'cli-table3';
import pc from 'picocolors';
import type { NegotiationStatus, NegotiationSummary } from '../negotiation/record';

const statusColour: Record<NegotiationStatus, (text: string) => string> = {
  running: pc.cyan,
  awaiting_approval: pc.yellow,
  agreed: pc.green,
  rejected: pc.red,
  no_agreement: pc.magenta,
  budget_exhausted: pc.magenta,
  failed: pc.red,
};

/**
 * The outcome table of a simulation or a list of negotiations. With `withIds`, the first column is the id that
 * `parley status`, `approve` and the other commands take.
 */
export function outcomesTable(views: NegotiationSummary[], withIds = false): string {
  const table = new Table({
    head: [...(withIds ? ['Negotiation'] : []), 'Client', 'Vendor', 'Status', 'Version', 'Last review'],
    style: { head: [], border: [] },
  });
  for (const view of views) {
    table.push([
      ...(withIds ? [view.negotiationId] : []),
      view.client,
      view.vendor,
      statusColour[view.status](view.status),
      `V${view.version}`,
      // A failure can be long; the whole line is in `parley status --json` and the transcript.
      view.failure ? truncate(view.failure, 60) : (view.lastSatisfaction ?? ''),
    ]);
  }
  return table.toString();
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/** The Web UI page of one workflow. */
export function webUiLink(uiUrl: string, namespace: string): (workflowId: string) => string {
  return (id) =>
    `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(id)}`;
}
