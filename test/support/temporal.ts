import { Client, Connection } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { ModelResolver } from '../../src/activities';
import { createWorker, installRuntime, resolveModelFromEnv } from '../../src/worker';

// Tests assert on behaviour; the SDK's own logs would only bury the failures that matter.
installRuntime('ERROR');

/** The dev server the global setup started (or the one the developer pointed the tests at). */
export function testAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: the jest global setup should have started a server');
  return address;
}

export async function testClient(): Promise<Client> {
  const connection = await Connection.connect({ address: testAddress() });
  return new Client({ connection, namespace: 'default' });
}

export interface RunningWorker {
  taskQueue: string;
  worker: Worker;
  stop(): Promise<void>;
}

/** A real worker on its own task queue, so tests never pick up each other's workflows. */
export async function startTestWorker(
  resolveModel: ModelResolver = resolveModelFromEnv({}),
  taskQueue = `test-${randomUUID()}`,
): Promise<RunningWorker> {
  const { worker, connection } = await createWorker({
    target: { address: testAddress(), namespace: 'default' },
    taskQueue,
    resolveModel,
  });
  const running = worker.run();
  return {
    taskQueue,
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
