import { Client, Connection } from '@temporalio/client';

export const TASK_QUEUE = 'parley';

export interface TemporalTarget {
  address: string;
  namespace: string;
}

/** Where Parley finds Temporal: `TEMPORAL_ADDRESS` and `TEMPORAL_NAMESPACE`, else a local dev server. */
export function temporalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  return {
    address: env.TEMPORAL_ADDRESS?.trim() || 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE?.trim() || 'default',
  };
}

export async function connectClient(target: TemporalTarget = temporalTarget()): Promise<Client> {
  const connection = await Connection.connect({ address: target.address, connectTimeout: '5s' });
  return new Client({ connection, namespace: target.namespace });
}
