import { Command, Option } from 'commander';
import { negotiationStatuses } from '../../negotiation/record';
import { closeClient, connectOrExplain } from '../context';
import { outcomesTable } from '../output';
import { listNegotiations } from '../simulations';

export function listCommand(): Command {
  return new Command('list')
    .description('list negotiations, newest first')
    .addOption(new Option('--status <status>', 'only negotiations in this status').choices([...negotiationStatuses]))
    .option('--simulation <id>', 'only the negotiations of this simulation')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 100)
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { status?: string; simulation?: string; limit: number; json?: boolean }) => {
      const client = await connectOrExplain();
      try {
        const views = await listNegotiations(client, { ...options, simulationId: options.simulation });
        if (options.json) console.log(JSON.stringify(views, null, 2));
        else console.log(views.length ? outcomesTable(views, true) : 'No negotiations.');
      } finally {
        await closeClient(client);
      }
    });
}
