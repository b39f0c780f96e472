import { Command } from 'commander';
import { positiveNumber } from '../arguments';
import { recordingOf, replayChoice, saveRecording } from '../../negotiation/recording';
import { loadScenario } from '../../scenario/load';
import { CliError, EXIT_BAD_INPUT } from '../errors';
import { negotiationRecord } from '../simulations';
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
  record?: string;
}

export function runCommand(): Command {
  return new Command('run')
    .description('start a simulation of a scenario file')
    .argument('<scenario>', 'scenario YAML file')
    .option('--wait', 'return when every negotiation has settled, and write runs/<simulationId>.md')
    .option('--json', 'print machine-readable JSON')
    .option('--llm <provider>', 'engine that writes the documents: offline, openai or replay:FILE')
    .option('--record <file>', 'with --wait: save every model answer to FILE, to replay with --llm replay:FILE')
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
      if (options.record && !options.wait)
        throw new CliError('--record needs --wait: answers are saved once the run ends', EXIT_BAD_INPUT);
      const llm = options.llm?.startsWith('replay:')
        ? await replayChoice(options.llm.slice('replay:'.length)).catch((err: Error) => {
            throw new CliError(err.message, EXIT_BAD_INPUT);
          })
        : llmChoice(options.llm, options.model);
      const target = temporalTarget();
      const client = await connectOrExplain(target);
      try {
        const run = await runScenario(client, scenario, llm, {
          wait: !!options.wait,
          quiet: !!options.json,
          taskQueue: target.taskQueue,
        });
        if (options.record) {
          const records = await Promise.all(
            run.simulation.negotiations.map((n) => negotiationRecord(client, n.negotiationId)),
          );
          await saveRecording(options.record, recordingOf(scenario.name, run.simulation.simulationId, records));
          if (!options.json) console.error(`Recording: ${options.record}`);
        }
        const failed = run.outcomes?.filter((o) => o.status === 'failed') ?? [];
        if (failed.length > 0) process.exitCode = 1;
        if (options.json) {
          console.log(JSON.stringify(runJson(run), null, 2));
        } else if (run.outcomes) {
          console.log(outcomesTable(run.outcomes));
          // The table leaves ids out to stay narrow; a negotiation that waits for a person needs its id to be decided.
          for (const waiting of run.outcomes.filter((o) => o.status === 'awaiting_approval')) {
            console.log(`Awaiting a decision: parley approve|reject|revise|extend ${waiting.negotiationId}`);
          }
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
