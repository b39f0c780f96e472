import { Command, Option } from 'commander';
import { negotiationStatuses, type NegotiationStatusView } from '../../negotiation/record';
import { closeClient, connectOrExplain } from '../context';
import { outcomesTable } from '../output';
import { hasParleySearchAttributes, negotiationStatus } from '../simulations';

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
        // With Parley's search attributes the server filters; without them each negotiation is asked in turn.
        const indexed = await hasParleySearchAttributes(client);
        const query =
          "WorkflowType = 'negotiationWorkflow'" + (indexed && options.status ? ` AND ParleyStatus = '${options.status}'` : '');
        for await (const execution of client.workflow.list({ query })) {
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
