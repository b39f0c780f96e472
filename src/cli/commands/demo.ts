import { Command } from 'commander';
import path from 'node:path';
import pc from 'picocolors';
import { loadScenario } from '../../scenario/load';
import { temporalTarget } from '../../temporal/connection';
import { isTemporalReachable, startDevServer } from '../../temporal/dev-server';
import { createWorker, installRuntime } from '../../worker';
import { closeClient, connectOrExplain, llmChoice } from '../context';
import { outcomesTable, webUiLink } from '../output';
import { runScenario } from '../run-scenario';

const seedScenario = path.resolve(__dirname, '../../../scenarios/seed.yaml');

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the seed scenario end to end: server (if none answers), worker, simulation, transcript')
    .option('--scenario <file>', 'scenario to run instead of the seed', seedScenario)
    .option('--keep', 'leave the server and worker running afterwards, for the Web UI')
    .action(async (options: { scenario: string; keep?: boolean }) => {
      const scenario = await loadScenario(options.scenario);
      const llm = llmChoice(undefined, undefined, { ...process.env, OPENAI_API_KEY: '' });
      const target = temporalTarget();

      let server: Awaited<ReturnType<typeof startDevServer>> | undefined;
      let uiUrl = process.env.PARLEY_UI_URL ?? 'http://localhost:8233';
      if (!(await isTemporalReachable(target.address))) {
        const port = Number(target.address.split(':').pop()) || 7233;
        console.error(pc.dim(`No Temporal server at ${target.address}; starting the embedded dev server...`));
        server = await startDevServer({ port, uiPort: port + 1000, dbFile: path.join('.parley', 'temporal.db') });
        uiUrl = server.uiUrl;
      }

      installRuntime();
      const { worker, connection } = await createWorker({ target });
      const client = await connectOrExplain(target);
      const running = worker.run();
      try {
        const run = await runScenario(client, scenario, llm, { wait: true, taskQueue: target.taskQueue });
        const link = webUiLink(uiUrl, target.namespace);
        console.log(outcomesTable(run.outcomes ?? []));
        console.log(`Transcript: ${run.transcriptFile}`);
        console.log(
          server && !options.keep
            ? 'In the Temporal Web UI (run with --keep to browse them after the demo):'
            : 'In the Temporal Web UI:',
        );
        console.log(`  simulation  ${link(run.simulation.simulationId)}`);
        for (const outcome of run.outcomes ?? [])
          console.log(`  ${outcome.client} ↔ ${outcome.vendor}  ${link(outcome.negotiationId)}`);
        if (options.keep) {
          console.error(pc.dim('Server and worker keep running (--keep); Ctrl-C stops them.'));
          await running;
        }
      } finally {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await closeClient(client);
        await connection.close();
        await server?.stop();
      }
    });
}
