import { Command } from 'commander';
import { closeClient, connectOrExplain } from '../context';
import { outcomesTable } from '../output';
import { negotiationStatus } from '../simulations';

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
        else console.log(outcomesTable([view]) + `\nRound ${view.round} of ${view.maxRounds}, ${view.phase}`);
      } finally {
        await closeClient(client);
      }
    });
}
