import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { parleyDataConverter } from '../codec/data-converter';

export const TASK_QUEUE = 'parley';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** The task queue Parley's workers poll and its simulations start on. */
  taskQueue?: string;
}

/**
 * Where Parley finds Temporal: `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE` and `PARLEY_TASK_QUEUE`, else a local
 * dev server's defaults.
 */
export function temporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  return {
    address: env.TEMPORAL_ADDRESS?.trim() || 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE?.trim() || 'default',
    taskQueue: env.PARLEY_TASK_QUEUE?.trim() || TASK_QUEUE,
  };
}

/** A client that encrypts payloads when `PARLEY_ENCRYPTION_KEY(S)` is set (or with the data converter given). */
export async function connectClient(
  target: TemporalTarget = temporalTarget(),
  dataConverter: DataConverter | undefined = parleyDataConverter(),
): Promise<Client> {
  const connection = await Connection.connect({ address: target.address, connectTimeout: '5s' });
  return new Client({ connection, namespace: target.namespace, ...(dataConverter ? { dataConverter } : {}) });
}
