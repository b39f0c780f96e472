import { Command, Option } from 'commander';
import { negotiationStatuses, type NegotiationStatusView } from '../../negotiation/record';
import { closeClient, connectOrExplain } from '../context';
import { outcomesTable } from '../output';
import { negotiationStatus } from '../simulations';

export function listCommand(): Command {
  return new Command('list')
    .description('list negotiations, newest first')
    .addOption(new Option('--status <status>', 'only negotiations in this status').choices([...negotiationStatuses]))
    .option('--limit <n>', 'at most this many', (v) => Number(v), 100)
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { status?: string; limit: number; json?: boolean }) => {
      const client = await connectOrExplain();
      try {
        const views: NegotiationStatusView[] = [];
        // Status lives in each workflow (search attributes come with the Web UI work), so it is asked per negotiation.
        for await (const execution of client.workflow.list({ query: "WorkflowType = 'negotiationWorkflow'" })) {
          const view = await negotiationStatus(client, execution.workflowId).catch(() => undefined);
          if (view && (!options.status || view.status === options.status)) views.push(view);
          if (views.length >= options.limit) break;
        }
        if (options.json) console.log(JSON.stringify(views, null, 2));
        else console.log(views.length ? outcomesTable(views) : 'No negotiations.');
      } finally {
        await closeClient(client);
      }
    });
}
