import { Command, Option } from 'commander';
import { temporalTarget } from '../../temporal/connection';
import { CliError } from '../errors';
import { createWorker, installRuntime, TemporalUnreachableError, type WorkerTuning } from '../../worker';
import { cacheSize, positiveInteger, workflowPollerCount } from '../arguments';

/** Each tuning flag, the environment variable that sets it too, and the SDK option it becomes. */
const tuningFlags: { flag: string; env: string; option: keyof WorkerTuning; help: string }[] = [
  {
    flag: '--max-cached-workflows <n>',
    env: 'PARLEY_MAX_CACHED_WORKFLOWS',
    option: 'maxCachedWorkflows',
    help: 'workflows kept in memory; the others are replayed from their history when they next move (0 turns the cache off; otherwise at least 2)',
  },
  {
    flag: '--max-concurrent-activities <n>',
    env: 'PARLEY_MAX_CONCURRENT_ACTIVITIES',
    option: 'maxConcurrentActivityTaskExecutions',
    help: 'model calls and webhook deliveries running at once',
  },
  {
    flag: '--max-concurrent-workflow-tasks <n>',
    env: 'PARLEY_MAX_CONCURRENT_WORKFLOW_TASKS',
    option: 'maxConcurrentWorkflowTaskExecutions',
    help: 'workflow tasks running at once',
  },
  {
    flag: '--workflow-pollers <n>',
    env: 'PARLEY_WORKFLOW_POLLERS',
    option: 'maxConcurrentWorkflowTaskPolls',
    help: 'concurrent polls for workflow tasks',
  },
  {
    flag: '--activity-pollers <n>',
    env: 'PARLEY_ACTIVITY_POLLERS',
    option: 'maxConcurrentActivityTaskPolls',
    help: 'concurrent polls for activity tasks',
  },
];

/** Options whose values the SDK bounds more tightly than a whole number from 1. */
const parsers: Partial<Record<keyof WorkerTuning, (value: string) => number>> = {
  maxCachedWorkflows: cacheSize,
  maxConcurrentWorkflowTaskPolls: workflowPollerCount,
};

export function workerCommand(): Command {
  const command = new Command('worker').description(
    'run a worker for Parley workflows (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE); unset tuning keeps the SDK defaults',
  );
  for (const { flag, env, help, option } of tuningFlags) {
    const parse = parsers[option] ?? positiveInteger;
    command.addOption(new Option(flag, help).env(env).argParser(parse));
  }
  return command.action(async (options: Record<string, number | undefined>) => {
    const tuning: WorkerTuning = {};
    for (const { option, flag } of tuningFlags) {
      const value = options[camelName(flag)];
      if (value !== undefined) tuning[option] = value;
    }
    const target = temporalTarget();
    installRuntime();
    const { worker, connection } = await createWorker({ target, tuning }).catch((err: Error) => {
      if (err instanceof TemporalUnreachableError) {
        throw new CliError(`${err.message}; start one with "parley server" or point TEMPORAL_ADDRESS at yours`);
      }
      throw new CliError(`the worker could not start: ${err.message.split('\n')[0].slice(0, 300)}`);
    });
    const tuned = Object.entries(tuning).map(([key, value]) => `${key} ${value}`);
    console.error(
      `Worker polling ${target.address} (namespace ${target.namespace})` +
        `${tuned.length ? `, ${tuned.join(', ')}` : ''}; Ctrl-C stops it`,
    );
    try {
      // The SDK shuts the worker down gracefully on SIGINT and SIGTERM.
      await worker.run();
    } finally {
      await connection.close();
    }
  });
}

/** Commander's key for a flag: `--max-cached-workflows <n>` is `maxCachedWorkflows`. */
function camelName(flag: string): string {
  return flag
    .split(' ')[0]
    .replace(/^--/, '')
    .replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
