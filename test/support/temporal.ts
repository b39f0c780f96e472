import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { ModelResolver } from '../../src/activities';
import { parleyDataConverter } from '../../src/codec/data-converter';
import { createWorker, installRuntime, resolveModelFromEnv } from '../../src/worker';

// Tests assert on behaviour; the SDK's own logs would only bury the failures that matter.
installRuntime('ERROR');

/** The dev server the global setup started (or the one the developer pointed the tests at). */
export function testAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: the jest global setup should have started a server');
  return address;
}

/** A client; payloads are encrypted as `PARLEY_ENCRYPTION_KEY(S)` say unless a data converter is given. */
export async function testClient(dataConverter: DataConverter | undefined = parleyDataConverter()): Promise<Client> {
  const connection = await Connection.connect({ address: testAddress() });
  return new Client({ connection, namespace: 'default', ...(dataConverter ? { dataConverter } : {}) });
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
  options: { dataConverter?: DataConverter; webhookUrl?: string } = {},
): Promise<RunningWorker> {
  const { worker, connection } = await createWorker({
    target: { address: testAddress(), namespace: 'default' },
    taskQueue,
    resolveModel,
    dataConverter: options.dataConverter,
    webhookUrl: options.webhookUrl,
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
