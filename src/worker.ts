import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { createActivities, type ModelResolver } from './activities';
import { createNotificationActivities } from './activities/notify';
import { parleyDataConverter } from './codec/data-converter';
import { OfflineEngine } from './activities/offline-engine';
import { TASK_QUEUE, temporalTarget, type TemporalTarget } from './temporal/connection';

export interface ParleyWorkerOptions {
  target?: TemporalTarget;
  taskQueue?: string;
  /** Which engine serves a simulation's choice; defaults to the worker's environment. */
  resolveModel?: ModelResolver;
  /** Where negotiation events are posted; defaults to `PARLEY_WEBHOOK_URL`. */
  webhookUrl?: string;
  /** Payload encryption; from `PARLEY_ENCRYPTION_KEY(S)` when omitted, none when no key is set. */
  dataConverter?: DataConverter;
  tuning?: Pick<WorkerOptions, 'maxCachedWorkflows' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions'>;
}

/** Builds the engine a simulation asked for, from this worker's environment: credentials never leave the worker. */
export function resolveModelFromEnv(env: NodeJS.ProcessEnv = process.env): ModelResolver {
  const offline = new OfflineEngine();
  return (choice) => {
    if (choice.provider === 'offline') return offline;
    // Loaded lazily so an offline-only worker never needs the OpenAI client.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { openAiModelFromEnv } = require('./activities/openai-model') as typeof import('./activities/openai-model');
    return openAiModelFromEnv(env, choice);
  };
}

/** A worker that runs Parley's workflows and activities; the caller runs it and closes the connection. */
export async function createWorker(options: ParleyWorkerOptions = {}): Promise<{ worker: Worker; connection: NativeConnection }> {
  const target = options.target ?? temporalTarget();
  // Read before connecting, so bad key material fails at once with its own message.
  const dataConverter = options.dataConverter ?? parleyDataConverter();
  const connection = await NativeConnection.connect({ address: target.address });
  const worker = await Worker.create({
    connection,
    namespace: target.namespace,
    taskQueue: options.taskQueue ?? target.taskQueue ?? TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities: {
      ...createActivities(options.resolveModel ?? resolveModelFromEnv()),
      ...createNotificationActivities(options.webhookUrl ?? process.env.PARLEY_WEBHOOK_URL),
    },
    // Payload codecs run in the worker's main thread, outside the workflow sandbox.
    ...(dataConverter ? { dataConverter } : {}),
    ...options.tuning,
  });
  return { worker, connection };
}

/**
 * Sets how much the Temporal SDK logs (`PARLEY_LOG_LEVEL`, default WARN) so a person watching a run sees
 * Parley's progress rather than the SDK's. It must run before the first worker or connection is created.
 */
export function installRuntime(level: LogLevel = (process.env.PARLEY_LOG_LEVEL?.toUpperCase() as LogLevel) || 'WARN'): void {
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed in this process (a second command in the same test run); the first setting stands.
  }
}
