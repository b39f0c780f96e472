import { Command } from 'commander';
import { temporalTarget } from '../../temporal/connection';
import { CliError } from '../errors';
import { createWorker, installRuntime } from '../../worker';

export function workerCommand(): Command {
  return new Command('worker')
    .description('run a worker for Parley workflows (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE)')
    .action(async () => {
      const target = temporalTarget();
      installRuntime();
      const { worker, connection } = await createWorker({ target }).catch((err: Error) => {
        throw new CliError(
          `cannot reach Temporal at ${target.address} (${err.message.split('\n')[0].slice(0, 120)}); ` +
            'start one with "parley server" or point TEMPORAL_ADDRESS at yours',
        );
      });
      console.error(`Worker polling ${target.address} (namespace ${target.namespace}); Ctrl-C stops it`);
      try {
        // The SDK shuts the worker down gracefully on SIGINT and SIGTERM.
        await worker.run();
      } finally {
        await connection.close();
      }
    });
}
