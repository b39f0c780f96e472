import { Command, Option } from 'commander';
import { loadScenario } from '../../scenario/load';
import { temporalTarget } from '../../temporal/connection';
import { closeClient, connectOrExplain, llmChoice } from '../context';
import { outcomesTable } from '../output';
import { runJson, runScenario } from '../run-scenario';

export function runCommand(): Command {
  return new Command('run')
    .description('start a simulation of a scenario file')
    .argument('<scenario>', 'scenario YAML file')
    .option('--wait', 'return when every negotiation has settled, and write runs/<simulationId>.md')
    .option('--json', 'print machine-readable JSON')
    .addOption(new Option('--llm <provider>', 'engine that writes the documents').choices(['offline', 'openai']))
    .option('--model <name>', 'model name for --llm openai (default: $PARLEY_MODEL or gpt-4o-mini)')
    .action(async (file: string, options: { wait?: boolean; json?: boolean; llm?: string; model?: string }) => {
      // Everything the user can get wrong is checked before anything starts.
      const scenario = await loadScenario(file);
      const llm = llmChoice(options.llm, options.model);
      const target = temporalTarget();
      const client = await connectOrExplain(target);
      try {
        const run = await runScenario(client, scenario, llm, {
          wait: !!options.wait,
          quiet: !!options.json,
          taskQueue: target.taskQueue,
        });
        if (options.json) {
          console.log(JSON.stringify(runJson(run), null, 2));
        } else if (run.outcomes) {
          console.log(outcomesTable(run.outcomes));
          console.log(`Transcript: ${run.transcriptFile}`);
        } else {
          console.log(`Started simulation ${run.simulation.simulationId}`);
          for (const n of run.simulation.negotiations) console.log(`  ${n.negotiationId}  ${n.client} ↔ ${n.vendor}`);
        }
      } finally {
        await closeClient(client);
      }
    });
}
