import { Command } from 'commander';
import type { NegotiationStatusView } from '../../negotiation/record';
import { closeClient, connectOrExplain } from '../context';
import { outcomesTable } from '../output';
import { negotiationStatus } from '../simulations';

/** What the table cannot hold: where the negotiation stands, what it waits for, why it failed. */
function statusLines(view: NegotiationStatusView): string[] {
  const lines = [`Round ${view.round} of ${view.maxRounds}, ${view.phase}`];
  if (view.pendingGate === 'acceptance')
    lines.push('Waiting for a decision: the client accepted; approve, reject or revise.');
  if (view.pendingGate === 'round_limit')
    lines.push('Waiting for a decision: the rounds ran out; extend, approve or reject (close).');
  if (view.failure) lines.push(`Failure: ${view.failure}`);
  if (view.tokens)
    lines.push(
      `Tokens: ${view.tokens.prompt} prompt + ${view.tokens.completion} completion${view.costUsd !== undefined ? `, $${view.costUsd.toFixed(4)}` : ''}`,
    );
  for (const notice of view.notices) lines.push(`Notice: ${notice}`);
  return lines;
}

export function statusCommand(): Command {
  return new Command('status')
    .description("show a negotiation's status, version and round")
    .argument('<negotiationId>')
    .option('--json', 'print machine-readable JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const client = await connectOrExplain();
      try {
        const view = await negotiationStatus(client, id);
        if (options.json) console.log(JSON.stringify(view, null, 2));
        else console.log([outcomesTable([view], true), ...statusLines(view)].join('\n'));
      } finally {
        await closeClient(client);
      }
    });
}
