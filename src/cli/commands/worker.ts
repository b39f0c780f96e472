import { Command } from 'commander';
import { temporalTarget } from '../../temporal/connection';
import { createWorker, installRuntime } from '../../worker';

export function workerCommand(): Command {
  return new Command('worker')
    .description('run a worker for Parley workflows (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE)')
    .action(async () => {
      const target = temporalTarget();
      installRuntime();
      const { worker, connection } = await createWorker({ target });
      console.error(`Worker polling ${target.address} (namespace ${target.namespace}); Ctrl-C stops it`);
      try {
        // The SDK shuts the worker down gracefully on SIGINT and SIGTERM.
        await worker.run();
      } finally {
        await connection.close();
      }
    });
}
