import { Command, InvalidArgumentError, Option } from 'commander';
import { loadScenario } from '../../scenario/load';
import { temporalTarget } from '../../temporal/connection';
import { closeClient, connectOrExplain, llmChoice } from '../context';
import { outcomesTable } from '../output';
import { runJson, runScenario } from '../run-scenario';

interface RunFlags {
  wait?: boolean;
  json?: boolean;
  llm?: string;
  model?: string;
  budgetTokens?: number;
  budgetUsd?: number;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function runCommand(): Command {
  return new Command('run')
    .description('start a simulation of a scenario file')
    .argument('<scenario>', 'scenario YAML file')
    .option('--wait', 'return when every negotiation has settled, and write runs/<simulationId>.md')
    .option('--json', 'print machine-readable JSON')
    .addOption(new Option('--llm <provider>', 'engine that writes the documents').choices(['offline', 'openai']))
    .option('--model <name>', 'model name for --llm openai (default: $PARLEY_MODEL or gpt-4o-mini)')
    .option('--budget-tokens <n>', 'tokens each negotiation may spend (overrides the scenario policy)', positiveNumber)
    .option('--budget-usd <x>', 'US dollars each negotiation may spend (overrides the scenario policy)', positiveNumber)
    .action(async (file: string, options: RunFlags) => {
      // Everything the user can get wrong is checked before anything starts.
      const loaded = await loadScenario(file);
      const budget = { ...loaded.policy.budget };
      if (options.budgetTokens !== undefined) budget.tokens = Math.floor(options.budgetTokens);
      if (options.budgetUsd !== undefined) budget.usd = options.budgetUsd;
      const scenario = budget.tokens || budget.usd ? { ...loaded, policy: { ...loaded.policy, budget } } : loaded;
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
