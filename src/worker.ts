import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type LogLevel,
  type WorkerOptions,
} from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { createActivities, type ModelResolver } from './activities';
import { createNotificationActivities } from './activities/notify';
import { parleyDataConverter } from './codec/data-converter';
import { OfflineEngine } from './activities/offline-engine';
import { ReplayModel } from './activities/replay-model';
import type { NegotiationModel } from './activities/types';
import Bottleneck from 'bottleneck';
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
  tuning?: WorkerTuning;
}

/** The SDK's worker options an operator may tune (`parley worker --help`); unset ones keep the SDK's defaults. */
export type WorkerTuning = Partial<
  Pick<
    WorkerOptions,
    | 'maxCachedWorkflows'
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxConcurrentWorkflowTaskExecutions'
    | 'maxConcurrentWorkflowTaskPolls'
    | 'maxConcurrentActivityTaskPolls'
  >
>;

/** Builds the engine a simulation asked for, from this worker's environment: credentials never leave the worker. */
export function resolveModelFromEnv(env: NodeJS.ProcessEnv = process.env): ModelResolver {
  const offline = new OfflineEngine();
  const limiter = llmRateLimiter(env);
  const schedule = <T>(request: () => Promise<T>) => limiter.schedule(request);
  const openAiModels = new Map<string, NegotiationModel>();
  return (choice) => {
    if (choice.provider === 'offline') return offline;
    if (choice.provider === 'replay') return new ReplayModel(choice.answer);
    const key = choice.model ?? '';
    let model = openAiModels.get(key);
    if (!model) {
      // Loaded lazily so an offline-only worker never needs the OpenAI client.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { openAiModelFromEnv } = require('./activities/openai-model') as typeof import('./activities/openai-model');
      model = openAiModelFromEnv(env, choice, schedule);
      openAiModels.set(key, model);
    }
    return model;
  };
}

/**
 * One limit for every model request a worker makes, whatever negotiation it serves: at most
 * `PARLEY_LLM_CONCURRENCY` in flight (default 8) and `PARLEY_LLM_RPS` started per second (default unlimited).
 */
export function llmRateLimiter(env: NodeJS.ProcessEnv = process.env): Bottleneck {
  const concurrency = positiveSetting(env, 'PARLEY_LLM_CONCURRENCY') ?? 8;
  const rps = positiveSetting(env, 'PARLEY_LLM_RPS');
  return new Bottleneck({ maxConcurrent: concurrency, minTime: rps ? Math.ceil(1000 / rps) : 0 });
}

function positiveSetting(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: expected a positive number, got "${raw}"`);
  return value;
}

/** A worker that runs Parley's workflows and activities; the caller runs it and closes the connection. */
export async function createWorker(
  options: ParleyWorkerOptions = {},
): Promise<{ worker: Worker; connection: NativeConnection }> {
  const target = options.target ?? temporalTarget();
  // Read before connecting, so bad key material fails at once with its own message.
  const dataConverter = options.dataConverter ?? parleyDataConverter();
  const webhookUrl = options.webhookUrl ?? process.env.PARLEY_WEBHOOK_URL;
  const connection = await NativeConnection.connect({ address: target.address }).catch((err: Error) => {
    throw new TemporalUnreachableError(target.address, err);
  });
  // Whatever refuses the worker now (its options, the namespace) is not about reaching the server; the connection
  // is closed so that a process that only meant to run this worker can exit.
  const worker = await Worker.create({
    connection,
    namespace: target.namespace,
    taskQueue: options.taskQueue ?? target.taskQueue ?? TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities: {
      ...createActivities(options.resolveModel ?? resolveModelFromEnv(), { postsEvents: Boolean(webhookUrl) }),
      ...createNotificationActivities(webhookUrl),
    },
    // Payload codecs run in the worker's main thread, outside the workflow sandbox.
    ...(dataConverter ? { dataConverter } : {}),
    ...sdkTuning(options.tuning),
  }).catch(async (err: unknown) => {
    await connection.close().catch(() => undefined);
    throw err;
  });
  return { worker, connection };
}

/** The worker could not connect to Temporal at all, as distinct from Temporal refusing the worker. */
export class TemporalUnreachableError extends Error {
  constructor(
    readonly address: string,
    cause: Error,
  ) {
    super(`cannot reach Temporal at ${address} (${cause.message.split('\n')[0].slice(0, 120)})`, { cause });
    this.name = 'TemporalUnreachableError';
  }
}

/**
 * The tuning as the SDK reads it. The SDK takes poller counts only as poller behaviours and ignores
 * `maxConcurrent*TaskPolls`, which would leave a worker told to poll 60 times at once polling 10 times.
 */
function sdkTuning(tuning: WorkerTuning = {}): Partial<WorkerOptions> {
  const { maxConcurrentWorkflowTaskPolls, maxConcurrentActivityTaskPolls, ...rest } = tuning;
  return {
    ...rest,
    ...(maxConcurrentWorkflowTaskPolls !== undefined && {
      workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: maxConcurrentWorkflowTaskPolls },
    }),
    ...(maxConcurrentActivityTaskPolls !== undefined && {
      activityTaskPollerBehavior: { type: 'simple-maximum', maximum: maxConcurrentActivityTaskPolls },
    }),
  };
}

/**
 * Sets how much the Temporal SDK logs (`PARLEY_LOG_LEVEL`, default WARN) so a person watching a run sees
 * Parley's progress rather than the SDK's. It must run before the first worker or connection is created.
 */
export function installRuntime(
  level: LogLevel = (process.env.PARLEY_LOG_LEVEL?.toUpperCase() as LogLevel) || 'WARN',
): void {
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed in this process (a second command in the same test run); the first setting stands.
  }
}
