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

/** The outcome table of a simulation or a list of negotiations. */
export function outcomesTable(views: NegotiationSummary[]): string {
  const table = new Table({
    head: ['Client', 'Vendor', 'Status', 'Version', 'Last review'],
    style: { head: [], border: [] },
  });
  for (const view of views) {
    table.push([
      view.client,
      view.vendor,
      statusColour[view.status](view.status),
      `V${view.version}`,
      view.failure ?? view.lastSatisfaction ?? '',
    ]);
  }
  return table.toString();
}

/** The Web UI page of one workflow. */
export function webUiLink(uiUrl: string, namespace: string): (workflowId: string) => string {
  return (id) =>
    `${uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(id)}`;
}
