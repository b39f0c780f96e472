/**
 * Parley's benchmark (`npm run bench`, `npm run bench -- --quick`): starts its own in-memory Temporal dev server and
 * workers in this process, then measures side by side on that server
 *
 *   1. orchestration overhead: Parley's negotiation loop with a zero-latency model against a bare Temporal workflow
 *      running the same number of no-op activities per round (`overheadRatio`, target ≤ 1.15);
 *   2. critical path: the seed scenario with a model that answers in a fixed 200 ms, wall time against the sum of
 *      model latencies on its longest negotiation (target ≤ 1.05×), beside the same shape on bare Temporal (a parent,
 *      a child per pair, the same number of sequential fixed-time activities), which is the floor Temporal sets;
 *   3. throughput: many 3-round negotiations of the offline engine on one worker;
 *   4. parked: many negotiations awaiting approval on a worker with a small workflow cache, then all approved.
 *
 * It prints a table and writes every figure to bench/results/latest.json (or `--out FILE`). Only loopback traffic.
 * `--help` lists the flags, worker tuning included.
 */
import { activityInfo } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import Table from 'cli-table3';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OfflineEngine } from '../src/activities/offline-engine';
import type { LlmChoice, NegotiationModel } from '../src/activities/types';
import { DecisionRefusedError, sendDecision } from '../src/cli/decisions';
import { hasParleySearchAttributes, startSimulation } from '../src/cli/simulations';
import { parleyDataConverter } from '../src/codec/data-converter';
import type { Proposal, Review } from '../src/negotiation/documents';
import type { NegotiationRecord } from '../src/negotiation/record';
import { loadScenario } from '../src/scenario/load';
import type { Scenario } from '../src/scenario/schema';
import { startDevServer, type DevServer } from '../src/temporal/dev-server';
import { findTemporalCli } from '../src/temporal/temporal-cli';
import { createWorker, installRuntime, type WorkerTuning } from '../src/worker';
import type { NegotiationInput, SimulationResult } from '../src/workflows';
import type { BaselineActivities } from './baseline-workflows';

// ---------------------------------------------------------------------------------------------------------------
// Flags

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' }, // comma-separated: overhead,critical,throughput,parked
    out: { type: 'string' },
    // 1. overhead
    'overhead-rounds': { type: 'string' },
    'overhead-runs': { type: 'string' },
    'overhead-concurrency': { type: 'string' },
    // 2. critical path
    'model-latency': { type: 'string' },
    'critical-runs': { type: 'string' },
    // 3. throughput
    negotiations: { type: 'string' },
    'sim-size': { type: 'string' },
    // 4. parked
    parked: { type: 'string' },
    'parked-sim-size': { type: 'string' },
    'parked-cache': { type: 'string' },
    'decision-concurrency': { type: 'string' },
    // worker tuning (the main worker; the parked worker takes --parked-cache as its cache size)
    cache: { type: 'string' },
    'activity-concurrency': { type: 'string' },
    'workflow-concurrency': { type: 'string' },
    'workflow-pollers': { type: 'string' },
    'activity-pollers': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

if (flags.help) {
  process.stdout.write(`npm run bench -- [flags]
  --quick                     smaller sizes, under five minutes on 2 cores
  --only LIST                 overhead,critical,throughput,parked (default: all)
  --out FILE                  JSON output (default bench/results/latest.json, or partial.json with --only)
  --overhead-rounds N         rounds per negotiation in the overhead runs (10)
  --overhead-runs N           sequential runs of each side, alternated (quick 8, full 20)
  --overhead-concurrency N    negotiations at once in the concurrent overhead runs (20)
  --model-latency MS          fixed model latency of the critical-path run (200)
  --critical-runs N           seed runs (quick 3, full 5)
  --negotiations N            throughput: 3-round negotiations (quick 200, full 1000)
  --sim-size N                throughput: negotiations per simulation (100)
  --parked N                  negotiations parked awaiting approval (quick 1000, full 10000)
  --parked-sim-size N         parked: negotiations per simulation (50)
  --parked-cache N            maxCachedWorkflows of the parked worker (100)
  --decision-concurrency N    approvals in flight at once (32)
  --cache N                   maxCachedWorkflows of the main worker (SDK default)
  --activity-concurrency N    maxConcurrentActivityTaskExecutions (SDK default 100)
  --workflow-concurrency N    maxConcurrentWorkflowTaskExecutions (SDK default 40)
  --workflow-pollers N        maxConcurrentWorkflowTaskPolls (SDK default)
  --activity-pollers N        maxConcurrentActivityTaskPolls (SDK default)
`);
  process.exit(0);
}

const quick = flags.quick ?? false;
const int = (name: keyof typeof flags, fallback: number): number => {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`--${String(name)} must be a whole number, got ${String(raw)}`);
  return value;
};
const optionalInt = (name: keyof typeof flags): number | undefined =>
  flags[name] === undefined ? undefined : int(name, 0);

const config = {
  overheadRounds: int('overhead-rounds', 10),
  overheadRuns: int('overhead-runs', quick ? 8 : 20),
  overheadConcurrency: int('overhead-concurrency', 20),
  modelLatencyMs: int('model-latency', 200),
  criticalRuns: int('critical-runs', quick ? 3 : 5),
  negotiations: int('negotiations', quick ? 200 : 1000),
  simSize: Math.max(1, int('sim-size', 100)),
  parked: int('parked', quick ? 1000 : 10000),
  parkedSimSize: Math.max(1, int('parked-sim-size', 50)),
  parkedCache: int('parked-cache', 100),
  decisionConcurrency: Math.max(1, int('decision-concurrency', 32)),
};
const allSections = ['overhead', 'critical', 'throughput', 'parked'];
const sections = new Set((flags.only ?? allSections.join(',')).split(',').map((s) => s.trim()));
const unknownSections = [...sections].filter((name) => !allSections.includes(name));
if (unknownSections.length) {
  process.stderr.write(
    `--only: unknown section ${unknownSections.join(', ')}; expected some of ${allSections.join(',')}\n`,
  );
  process.exit(2);
}

/** Worker tuning from the flags; keys left unset keep the SDK's defaults. */
function tuningFrom(cache: number | undefined): WorkerTuning {
  const tuning: WorkerTuning = {};
  if (cache !== undefined) tuning.maxCachedWorkflows = cache;
  const activities = optionalInt('activity-concurrency');
  if (activities !== undefined) tuning.maxConcurrentActivityTaskExecutions = activities;
  const workflows = optionalInt('workflow-concurrency');
  if (workflows !== undefined) tuning.maxConcurrentWorkflowTaskExecutions = workflows;
  const wfPollers = optionalInt('workflow-pollers');
  if (wfPollers !== undefined) tuning.maxConcurrentWorkflowTaskPolls = wfPollers;
  const actPollers = optionalInt('activity-pollers');
  if (actPollers !== undefined) tuning.maxConcurrentActivityTaskPolls = actPollers;
  return tuning;
}

// ---------------------------------------------------------------------------------------------------------------
// Small tools

const root = process.cwd();
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round1 = (n: number) => Math.round(n * 10) / 10;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
const mb = (bytes: number) => round1(bytes / 1024 / 1024);
const gc = () => (globalThis as { gc?: () => void }).gc?.();

function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index];
}
const median = (values: number[]) => quantile(values, 0.5);

/** Runs `fn` over `items` with at most `concurrency` calls in flight; results in input order. */
async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index], index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The dev server's resident memory, read from /proc (Linux); undefined elsewhere. */
function processRss(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples this process's memory (worker and client) and the dev server's every `intervalMs`. */
class MemorySampler {
  private timer?: NodeJS.Timeout;
  private startRss = 0;
  private peakRss = 0;
  private peakHeap = 0;
  private peakServerRss = 0;

  constructor(
    private readonly serverPid: number,
    private readonly intervalMs = 100,
  ) {}

  start(): this {
    this.startRss = process.memoryUsage().rss;
    this.peakRss = this.startRss;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  sample(): void {
    const usage = process.memoryUsage();
    this.peakRss = Math.max(this.peakRss, usage.rss);
    this.peakHeap = Math.max(this.peakHeap, usage.heapUsed);
    this.peakServerRss = Math.max(this.peakServerRss, processRss(this.serverPid) ?? 0);
  }

  stop() {
    clearInterval(this.timer);
    this.sample();
    return {
      workerRssStartMB: mb(this.startRss),
      workerRssPeakMB: mb(this.peakRss),
      workerRssEndMB: mb(process.memoryUsage().rss),
      workerHeapPeakMB: mb(this.peakHeap),
      serverRssPeakMB: mb(this.peakServerRss),
    };
  }
}

async function runWorker(worker: Worker, connection: { close(): Promise<void> }) {
  const running = worker.run();
  return async () => {
    worker.shutdown();
    await running;
    await connection.close();
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Models

const PROPOSAL: Proposal = {
  version: 1,
  technical_design: 'Cloud-native services with a cache in front of an ANN retrieval service.',
  feature_list: ['Real-time recommendations under 50 ms', 'A/B testing dashboard'],
  implementation_plan: 'Phase 1: infrastructure. Phase 2: models. Phase 3: load tests and launch.',
  timeline: '10 weeks in total.',
  risk_analysis: 'Traffic peaks above plan: autoscaling and graceful degradation.',
};
const REVIEW: Review = {
  overall_satisfaction: 'needs_major_revision',
  weaknesses: ['No quantified return on investment.'],
  additional_requirements: ['Add an ROI analysis.'],
  revision_priority: ['ROI analysis first.'],
  expected_improvements: 'A business case alongside the architecture.',
};

/** Answers at once with a fixed proposal and a review that always asks for more: every round runs. */
const zeroLatencyModel: NegotiationModel = {
  provider: 'offline',
  model: 'bench-zero-latency',
  draftProposal: async (input) => ({ ...PROPOSAL, version: input.version }),
  reviewProposal: async () => REVIEW,
};

/** Calls the bare baseline's `wait` activity made, for its critical path: workflow id and duration. */
const baselineCalls: { workflowId: string; ms: number }[] = [];
const BASELINE_QUEUE = 'bench-baseline';

/** Model calls the fixed-latency model answered, for the critical path: negotiation id and duration. */
const modelCalls: { negotiationId: string; ms: number }[] = [];

/** The offline engine's documents, each answered after a fixed delay; every call's duration is recorded. */
function fixedLatencyModel(offline: OfflineEngine, delayMs: number): NegotiationModel {
  const timed = async <T>(negotiationId: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    await sleep(delayMs);
    const result = await work();
    modelCalls.push({ negotiationId, ms: performance.now() - started });
    return result;
  };
  return {
    provider: 'offline',
    model: `bench-fixed-${delayMs}ms`,
    draftProposal: (input) => timed(input.negotiationId, () => offline.draftProposal(input)),
    reviewProposal: (input) => timed(input.negotiationId, () => offline.reviewProposal(input)),
  };
}

const ZERO: LlmChoice = { provider: 'openai', model: 'bench-zero' };
const FIXED: LlmChoice = { provider: 'openai', model: 'bench-fixed' };
const OFFLINE: LlmChoice = { provider: 'offline' };

// ---------------------------------------------------------------------------------------------------------------
// Scenarios

/** `count` negotiations built from `base`'s pairs, taken in turn, each with its own copy of the vendor. */
function copiedScenarios(
  base: Scenario,
  name: string,
  count: number,
  perSimulation: number,
  vendorOverrides: Partial<Scenario['vendors'][number]> = {},
): Scenario[] {
  const scenarios: Scenario[] = [];
  for (let start = 0; start < count; start += perSimulation) {
    const vendors: Scenario['vendors'] = [];
    const pairs: Scenario['pairs'] = [];
    for (let k = start; k < Math.min(count, start + perSimulation); k++) {
      const pair = base.pairs[k % base.pairs.length];
      const vendor = base.vendors.find((v) => v.name === pair.vendor)!;
      const copy = { ...vendor, ...vendorOverrides, name: `${vendor.name} ${String(k).padStart(5, '0')}` };
      vendors.push(copy);
      pairs.push({ client: pair.client, vendor: copy.name });
    }
    scenarios.push({ ...base, name, vendors, pairs });
  }
  return scenarios;
}

// ---------------------------------------------------------------------------------------------------------------
// Sections

interface Context {
  server: DevServer;
  client: Client;
  tag: string;
  indexed: boolean;
  seed: Scenario;
  quickAgreement: Scenario;
  mainQueue: string;
}

async function measureOverhead(ctx: Context) {
  const { client, seed } = ctx;
  const rounds = config.overheadRounds;
  // Parley's loop: two model activities per round; the baseline runs the same number of no-op activities.
  const activitiesPerRound = 2;
  const negotiationInput = (negotiationId: string): NegotiationInput => ({
    simulationId: `bench-overhead-${ctx.tag}`,
    negotiationId,
    client: seed.clients[0],
    vendor: seed.vendors[0],
    policy: {
      ...seed.policy,
      maxRounds: rounds,
      approval: 'auto',
      onRoundLimit: 'end',
      continueAsNewAfterRounds: undefined,
    },
    llm: ZERO,
    indexed: ctx.indexed,
  });
  let counter = 0;
  let lastParley = '';
  let lastBaseline = '';
  const parleyOnce = async () => {
    const id = `bench-overhead-${ctx.tag}.parley-${counter++}`;
    lastParley = id;
    const handle = await client.workflow.start('negotiationWorkflow', {
      taskQueue: ctx.mainQueue,
      workflowId: id,
      args: [negotiationInput(id)],
    });
    const record = (await handle.result()) as NegotiationRecord;
    if (record.round !== rounds) throw new Error(`overhead negotiation ran ${record.round} rounds, not ${rounds}`);
  };
  const baselineOnce = async () => {
    lastBaseline = `bench-overhead-${ctx.tag}.baseline-${counter++}`;
    const handle = await client.workflow.start('baselineWorkflow', {
      taskQueue: BASELINE_QUEUE,
      workflowId: lastBaseline,
      args: [rounds, activitiesPerRound],
    });
    await handle.result();
  };
  const timed = async (fn: () => Promise<void>) => {
    const started = performance.now();
    await fn();
    return performance.now() - started;
  };

  log(`overhead: warm-up`);
  for (let i = 0; i < 2; i++) {
    await parleyOnce();
    await baselineOnce();
  }
  // Alternated, so drift in the machine's load hits both sides alike.
  const parleySeq: number[] = [];
  const baselineSeq: number[] = [];
  log(`overhead: ${config.overheadRuns} sequential runs of ${rounds} rounds each side`);
  for (let i = 0; i < config.overheadRuns; i++) {
    const first = i % 2 === 0;
    if (first) parleySeq.push(await timed(parleyOnce));
    baselineSeq.push(await timed(baselineOnce));
    if (!first) parleySeq.push(await timed(parleyOnce));
  }
  const histories = {
    parley: await historyBreakdown(client, lastParley),
    baseline: await historyBreakdown(client, lastBaseline),
  };
  const c = config.overheadConcurrency;
  const blocks = quick ? 2 : 4;
  const parleyConc: number[] = [];
  const baselineConc: number[] = [];
  log(`overhead: ${blocks} blocks of ${c} concurrent negotiations each side`);
  for (let i = 0; i < blocks; i++) {
    const many = (fn: () => Promise<void>) => () => Promise.all(Array.from({ length: c }, fn)).then(() => undefined);
    if (i % 2 === 0) parleyConc.push(await timed(many(parleyOnce)));
    baselineConc.push(await timed(many(baselineOnce)));
    if (i % 2 === 1) parleyConc.push(await timed(many(parleyOnce)));
  }
  const perRound = (ms: number) => ms / rounds;
  const parleyPerRound = median(parleySeq.map(perRound));
  const baselinePerRound = median(baselineSeq.map(perRound));
  // Concurrent blocks: wall time of the block over all the rounds in it, i.e. the cost of one round at that load.
  const parleyConcPerRound = median(parleyConc.map((ms) => ms / (c * rounds)));
  const baselineConcPerRound = median(baselineConc.map((ms) => ms / (c * rounds)));
  return {
    rounds,
    activitiesPerRound,
    model: 'zero-latency stub (fixed documents, review always needs_major_revision)',
    runs: config.overheadRuns,
    parleyMsPerRound: round3(parleyPerRound),
    baselineMsPerRound: round3(baselinePerRound),
    overheadRatio: round3(parleyPerRound / baselinePerRound),
    parleyMsPerRoundP95: round3(quantile(parleySeq.map(perRound), 0.95)),
    baselineMsPerRoundP95: round3(quantile(baselineSeq.map(perRound), 0.95)),
    concurrent: {
      negotiationsAtOnce: c,
      blocks,
      parleyMsPerRound: round3(parleyConcPerRound),
      baselineMsPerRound: round3(baselineConcPerRound),
      overheadRatio: round3(parleyConcPerRound / baselineConcPerRound),
    },
    samplesMs: { parley: parleySeq.map(round1), baseline: baselineSeq.map(round1) },
    lastSequentialHistories: histories,
    target: 1.15,
  };
}

async function measureCriticalPath(ctx: Context) {
  const { client, seed } = ctx;
  const runs: {
    wallMs: number;
    serverMs: number;
    longestModelSumMs: number;
    longestNegotiation: string;
    callsOnLongest: number;
    ratio: number;
    baselineWallMs: number;
    baselineCallSumMs: number;
    baselineRatio: number;
  }[] = [];
  const breakdowns: Awaited<ReturnType<typeof historyBreakdown>>[] = [];
  const calls = 2 * seed.policy.maxRounds;
  log(`critical path: seed scenario, ${config.modelLatencyMs} ms per model call, ${config.criticalRuns} runs`);
  // One unmeasured run of each side first, so neither pays for loading its workflow bundle.
  await runSeed(ctx, `bench-seed-${ctx.tag}-warm-up`);
  await runBaselineSimulation(client, `bench-seed-baseline-${ctx.tag}-warm-up`, seed.pairs.length, calls);
  for (let i = 0; i < config.criticalRuns; i++) {
    const parley = await runSeed(ctx, `bench-seed-${ctx.tag}-${i}`);
    const baseline = await runBaselineSimulation(
      client,
      `bench-seed-baseline-${ctx.tag}-${i}`,
      seed.pairs.length,
      calls,
    );
    breakdowns.push(await historyBreakdown(client, parley.longestNegotiation));
    runs.push({
      ...parley,
      baselineWallMs: baseline.wallMs,
      baselineCallSumMs: baseline.longestCallSumMs,
      baselineRatio: round3(baseline.wallMs / baseline.longestCallSumMs),
    });
  }
  const ratios = runs.map((r) => r.ratio);
  const medianIndex = Math.max(
    0,
    runs.findIndex((r) => r.ratio === median(ratios)),
  );
  const medianRun = runs[medianIndex];
  return {
    scenario: 'scenarios/seed.yaml',
    modelLatencyMs: config.modelLatencyMs,
    wallMs: medianRun.wallMs,
    serverMs: medianRun.serverMs,
    longestModelSumMs: medianRun.longestModelSumMs,
    callsOnLongest: medianRun.callsOnLongest,
    ratio: medianRun.ratio,
    overheadMs: round1(medianRun.wallMs - medianRun.longestModelSumMs),
    // The same shape on bare Temporal: a parent, a child per pair, the same number of sequential fixed-time calls.
    baseline: {
      workflow: 'baselineSimulationWorkflow',
      pairs: seed.pairs.length,
      callsPerPair: calls,
      ratio: round3(median(runs.map((r) => r.baselineRatio))),
      wallMs: round1(median(runs.map((r) => r.baselineWallMs))),
      overheadMs: round1(median(runs.map((r) => r.baselineWallMs - r.baselineCallSumMs))),
    },
    // What Parley adds to the path Temporal itself sets: its wall time over the baseline's, run by run.
    parleyOverBaseline: round3(median(runs.map((r) => r.wallMs / r.baselineWallMs))),
    longestNegotiationHistory: breakdowns[medianIndex],
    runs,
    target: 1.05,
  };
}

/** One run of the seed scenario with the fixed-latency model; its wall time and its longest negotiation's calls. */
async function runSeed(ctx: Context, simulationId: string) {
  const { client, seed } = ctx;
  modelCalls.length = 0;
  const started = performance.now();
  await startSimulation(client, seed, FIXED, { simulationId, taskQueue: ctx.mainQueue });
  const handle = client.workflow.getHandle(simulationId);
  const result = (await handle.result()) as SimulationResult;
  const wallMs = performance.now() - started;
  if (result.outcomes.some((o) => o.status === 'failed')) throw new Error('a seed negotiation failed');
  const description = await handle.describe();
  const serverMs = (description.closeTime?.getTime() ?? Number.NaN) - description.startTime.getTime();
  const [longestNegotiation, longest] = longestSum(modelCalls.map((c) => [c.negotiationId, c.ms]));
  return {
    wallMs: round1(wallMs),
    serverMs: round1(serverMs),
    longestModelSumMs: round1(longest.ms),
    longestNegotiation,
    callsOnLongest: longest.calls,
    ratio: round3(wallMs / longest.ms),
  };
}

async function runBaselineSimulation(client: Client, workflowId: string, pairs: number, calls: number) {
  baselineCalls.length = 0;
  const started = performance.now();
  await client.workflow.execute('baselineSimulationWorkflow', {
    taskQueue: BASELINE_QUEUE,
    workflowId,
    args: [pairs, calls, config.modelLatencyMs],
  });
  const wallMs = performance.now() - started;
  const [, longest] = longestSum(baselineCalls.map((c) => [c.workflowId, c.ms]));
  return { wallMs: round1(wallMs), longestCallSumMs: round1(longest.ms) };
}

/** The key whose durations add up to the most, with that sum and the number of durations. */
function longestSum(durations: [string, number][]): [string, { ms: number; calls: number }] {
  const sums = new Map<string, { ms: number; calls: number }>();
  for (const [key, ms] of durations) {
    const sum = sums.get(key) ?? { ms: 0, calls: 0 };
    sum.ms += ms;
    sum.calls += 1;
    sums.set(key, sum);
  }
  const longest = [...sums].sort((a, b) => b[1].ms - a[1].ms)[0];
  if (!longest) throw new Error('no model call was recorded');
  return longest;
}

/**
 * Where a workflow's time went, from its history: waiting for the server to hand a task to the worker
 * (scheduled → started, for workflow and activity tasks), the worker running workflow tasks, and activities running.
 */
async function historyBreakdown(client: Client, workflowId: string) {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
    Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  const times = new Map<number, number>();
  const totals = { workflowTaskDispatchMs: 0, workflowTaskRunMs: 0, activityDispatchMs: 0, activityRunMs: 0 };
  let workflowTasks = 0;
  let activities = 0;
  const events = history.events ?? [];
  for (const event of events) {
    const at = ms(event.eventTime);
    times.set(Number(event.eventId), at);
    const since = (id: unknown) => at - (times.get(Number(id)) ?? at);
    if (event.workflowTaskStartedEventAttributes) {
      totals.workflowTaskDispatchMs += since(event.workflowTaskStartedEventAttributes.scheduledEventId);
      workflowTasks++;
    } else if (event.workflowTaskCompletedEventAttributes) {
      totals.workflowTaskRunMs += since(event.workflowTaskCompletedEventAttributes.startedEventId);
    } else if (event.activityTaskStartedEventAttributes) {
      totals.activityDispatchMs += since(event.activityTaskStartedEventAttributes.scheduledEventId);
      activities++;
    } else if (event.activityTaskCompletedEventAttributes) {
      totals.activityRunMs += since(event.activityTaskCompletedEventAttributes.startedEventId);
    }
  }
  const span = events.length > 1 ? ms(events[events.length - 1].eventTime) - ms(events[0].eventTime) : 0;
  return {
    workflowId,
    events: events.length,
    workflowTasks,
    activities,
    spanMs: round1(span),
    workflowTaskDispatchMs: round1(totals.workflowTaskDispatchMs),
    workflowTaskRunMs: round1(totals.workflowTaskRunMs),
    activityDispatchMs: round1(totals.activityDispatchMs),
    activityRunMs: round1(totals.activityRunMs),
  };
}

/** Per-round latency from a negotiation's own transcript: from "Drafting Proposal Vn" to the review of Vn. */
function roundLatencies(record: NegotiationRecord): number[] {
  const drafting = new Map<number, number>();
  const latencies: number[] = [];
  for (const entry of record.entries) {
    if (entry.type === 'event') {
      const match = /^Drafting Proposal V(\d+)/.exec(entry.text);
      if (match) drafting.set(Number(match[1]), Date.parse(entry.at));
    } else if (entry.label === 'Review') {
      const start = drafting.get(entry.version);
      if (start !== undefined) latencies.push(Date.parse(entry.at) - start);
    }
  }
  return latencies;
}

async function measureThroughput(ctx: Context) {
  const { client, seed } = ctx;
  // The offline engine draws its chances from the vendor's name, so a few copies reach an acceptance by round 3;
  // with approval 'auto' they end there instead of waiting for a person. Every negotiation runs its 3 rounds.
  const base: Scenario = { ...seed, policy: { ...seed.policy, approval: 'auto' } };
  const scenarios = copiedScenarios(base, 'bench-throughput', config.negotiations, config.simSize);
  gc();
  const memory = new MemorySampler(ctx.server.pid).start();
  log(`throughput: ${config.negotiations} negotiations in ${scenarios.length} simulations, offline engine`);
  const started = performance.now();
  const simulationIds = await pool(scenarios, 8, async (scenario, i) => {
    const simulationId = `bench-throughput-${ctx.tag}-${i}`;
    await startSimulation(client, scenario, OFFLINE, { simulationId, taskQueue: ctx.mainQueue });
    return simulationId;
  });
  const results = await Promise.all(
    simulationIds.map((id) => client.workflow.getHandle(id).result() as Promise<SimulationResult>),
  );
  const elapsedMs = performance.now() - started;
  const mem = memory.stop();
  const outcomes = results.flatMap((r) => r.outcomes);
  log(`throughput: ${outcomes.length} settled in ${Math.round(elapsedMs)} ms; reading transcripts for round latency`);
  const records = await pool(
    outcomes,
    16,
    (o) => client.workflow.getHandle(o.negotiationId).result() as Promise<NegotiationRecord>,
  );
  const latencies = records.flatMap(roundLatencies);
  const statuses: Record<string, number> = {};
  const roundsRun: Record<string, number> = {};
  for (const o of outcomes) {
    statuses[o.status] = (statuses[o.status] ?? 0) + 1;
    roundsRun[o.round] = (roundsRun[o.round] ?? 0) + 1;
  }
  return {
    negotiations: outcomes.length,
    simulations: scenarios.length,
    perSimulation: config.simSize,
    engine: 'offline',
    elapsedMs: Math.round(elapsedMs),
    negotiationsPerSecond: round1(outcomes.length / (elapsedMs / 1000)),
    roundsPerSecond: round1(latencies.length / (elapsedMs / 1000)),
    roundLatencyMs: {
      p50: quantile(latencies, 0.5),
      p95: quantile(latencies, 0.95),
      max: quantile(latencies, 1),
      count: latencies.length,
    },
    statuses,
    roundsRun,
    memory: mem,
  };
}

async function measureParked(ctx: Context, address: string) {
  const { client, quickAgreement } = ctx;
  // The first pair of quick-agreement is accepted in round 2 and then waits for approval.
  const base: Scenario = { ...quickAgreement, pairs: [quickAgreement.pairs[0]] };
  // Diligence 1 makes every copy do what the original does whatever its name: accepted in round 2, then parked.
  const scenarios = copiedScenarios(base, 'bench-parked', config.parked, config.parkedSimSize, { diligence: 1 });
  const queue = `bench-parked-${ctx.tag}`;
  const tuning = tuningFrom(config.parkedCache);
  const { worker, connection } = await createWorker({
    target: { address, namespace: 'default' },
    taskQueue: queue,
    resolveModel: () => offline,
    webhookUrl: '',
    tuning,
  });
  const stop = await runWorker(worker, connection);
  try {
    gc();
    const memory = new MemorySampler(ctx.server.pid).start();
    log(`parked: ${config.parked} negotiations in ${scenarios.length} simulations, worker cache ${config.parkedCache}`);
    const prefix = `bench-parked-${ctx.tag}-`;
    const started = performance.now();
    const simulationIds = await pool(scenarios, 4, async (scenario, i) => {
      const simulationId = `${prefix}${i}`;
      await startSimulation(client, scenario, OFFLINE, { simulationId, taskQueue: queue });
      return simulationId;
    });
    const query = `WorkflowType = 'negotiationWorkflow' AND ParleyStatus = 'awaiting_approval' AND WorkflowId STARTS_WITH '${prefix}'`;
    const timeline: { atS: number; parked: number; workerRssMB: number; serverRssMB: number }[] = [];
    const deadline = Date.now() + Math.max(600_000, config.parked * 300);
    const closedQuery = `WorkflowType = 'negotiationWorkflow' AND ExecutionStatus != 'Running' AND WorkflowId STARTS_WITH '${prefix}'`;
    if (!ctx.indexed)
      throw new Error("the dev server lacks Parley's search attributes, needed to count parked negotiations");
    let parked = 0;
    let closedEarly = 0;
    while (parked + closedEarly < config.parked) {
      if (Date.now() > deadline) throw new Error(`only ${parked} of ${config.parked} negotiations parked in time`);
      await sleep(1000);
      parked = (await client.workflow.count(query)).count;
      closedEarly = (await client.workflow.count(closedQuery)).count;
      timeline.push({
        atS: round1((performance.now() - started) / 1000),
        parked,
        workerRssMB: mb(process.memoryUsage().rss),
        serverRssMB: mb(processRss(ctx.server.pid) ?? 0),
      });
    }
    const parkMs = performance.now() - started;
    const parkingMemory = memory.stop();
    gc();
    await sleep(500);
    const rssAllParkedMB = mb(process.memoryUsage().rss);
    log(
      `parked: all ${parked} awaiting approval after ${Math.round(parkMs)} ms; approving, ${config.decisionConcurrency} at once`,
    );

    const approvalMemory = new MemorySampler(ctx.server.pid).start();
    const ids = scenarios.flatMap((scenario, i) =>
      scenario.pairs.map((pair) => `${prefix}${i}.${slugOf(pair.client)}.${slugOf(pair.vendor)}`),
    );
    const approvalsStarted = performance.now();
    const decisionMs: number[] = [];
    let refused = 0;
    await pool(ids, config.decisionConcurrency, async (id) => {
      const t = performance.now();
      try {
        await sendDecision(client, id, 'approve', { by: 'bench', requestId: `bench-${id}` });
        decisionMs.push(performance.now() - t);
      } catch (err) {
        if (!(err instanceof DecisionRefusedError)) throw err;
        refused++;
      }
    });
    const approvalsMs = performance.now() - approvalsStarted;
    const results = await Promise.all(
      simulationIds.map((id) => client.workflow.getHandle(id).result() as Promise<SimulationResult>),
    );
    const settleMs = performance.now() - approvalsStarted;
    const approving = approvalMemory.stop();
    const outcomes = results.flatMap((r) => r.outcomes);
    const agreed = outcomes.filter((o) => o.status === 'agreed').length;
    return {
      negotiations: config.parked,
      simulations: scenarios.length,
      perSimulation: config.parkedSimSize,
      scenario: 'scenarios/quick-agreement.yaml, first pair, vendor copied',
      workerTuning: tuning,
      parkMs: Math.round(parkMs),
      parking: parkingMemory,
      workerRssAllParkedMB: rssAllParkedMB,
      timeline: thin(timeline, 40),
      approve: {
        decisionConcurrency: config.decisionConcurrency,
        approvalsMs: Math.round(approvalsMs),
        settleAllMs: Math.round(settleMs),
        decisionsPerSecond: round1(ids.length / (approvalsMs / 1000)),
        decisionLatencyMs: { p50: round1(quantile(decisionMs, 0.5)), p95: round1(quantile(decisionMs, 0.95)) },
        memory: approving,
      },
      agreed,
      closedBeforeApproval: closedEarly,
      approvalsRefused: refused,
    };
  } finally {
    await stop();
  }
}

const offline = new OfflineEngine();

function slugOf(name: string): string {
  return name
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '');
}

/** At most `max` evenly spread items, the last one kept. */
function thin<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const step = items.length / max;
  const kept = Array.from({ length: max - 1 }, (_, i) => items[Math.floor(i * step)]);
  return [...kept, items[items.length - 1]];
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  installRuntime('ERROR');
  const loadStart = os.loadavg();
  const tag = Date.now().toString(36);
  const executable = await findTemporalCli();
  log(`starting the dev server (in memory) with ${executable}`);
  const server = await startDevServer({ dbFile: null, executable });
  const address = server.address;
  const dataConverter = parleyDataConverter();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default', ...(dataConverter ? { dataConverter } : {}) });
  const stops: (() => Promise<void>)[] = [];
  const results: Record<string, unknown> = {};
  try {
    const ctx: Context = {
      server,
      client,
      tag,
      indexed: await hasParleySearchAttributes(client),
      seed: await loadScenario(path.join(root, 'scenarios/seed.yaml')),
      quickAgreement: await loadScenario(path.join(root, 'scenarios/quick-agreement.yaml')),
      mainQueue: `bench-${tag}`,
    };
    const mainTuning = tuningFrom(optionalInt('cache'));
    const fixed = fixedLatencyModel(offline, config.modelLatencyMs);
    const main = await createWorker({
      target: { address, namespace: 'default' },
      taskQueue: ctx.mainQueue,
      resolveModel: (choice) =>
        choice.provider === 'offline'
          ? offline
          : choice.provider === 'openai' && choice.model === 'bench-zero'
            ? zeroLatencyModel
            : fixed,
      webhookUrl: '',
      tuning: mainTuning,
    });
    stops.push(await runWorker(main.worker, main.connection));
    // The bare Temporal baselines run on their own worker, on the same server, beside Parley's.
    if (sections.has('overhead') || sections.has('critical')) {
      const baselineConnection = await NativeConnection.connect({ address });
      const activities: BaselineActivities = {
        noop: async (round) => round,
        wait: async (ms) => {
          const started = performance.now();
          await sleep(ms);
          const workflowId = activityInfo().workflowExecution?.workflowId ?? 'unknown';
          baselineCalls.push({ workflowId, ms: performance.now() - started });
          return ms;
        },
      };
      const baseline = await Worker.create({
        connection: baselineConnection,
        namespace: 'default',
        taskQueue: BASELINE_QUEUE,
        workflowsPath: require.resolve('./baseline-workflows'),
        activities,
        ...(dataConverter ? { dataConverter } : {}),
        ...mainTuning,
      });
      stops.push(await runWorker(baseline, baselineConnection));
    }
    if (sections.has('overhead')) results.overhead = await measureOverhead(ctx);
    // A section that fails is reported as such; the others still run and are written.
    const section = async (name: string, key: string, run: () => Promise<unknown>) => {
      if (!sections.has(name)) return;
      try {
        results[key] = await run();
      } catch (err) {
        log(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
        results[key] = { error: err instanceof Error ? err.message : String(err) };
      }
    };
    await section('critical', 'criticalPath', () => measureCriticalPath(ctx));
    await section('throughput', 'throughput', () => measureThroughput(ctx));
    await section('parked', 'parked', () => measureParked(ctx, address));
    results.workerTuning = { main: mainTuning, parkedCache: config.parkedCache };
  } finally {
    for (const stop of stops.reverse()) await stop().catch((err: unknown) => log(`worker shutdown: ${String(err)}`));
    await connection.close().catch(() => undefined);
    await server.stop();
  }
  const loadEnd = os.loadavg();

  const report = {
    generatedAt: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    config,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      totalMemMB: mb(os.totalmem()),
      node: process.version,
      temporalCli: cliVersion(executable),
      loadAverageAtStart: loadStart.map(round1),
      loadAverageAtEnd: loadEnd.map(round1),
    },
    commit: gitCommit(),
    ...results,
  };
  // A run of some sections only must not replace the figures of a whole run, which the repository keeps.
  const whole = allSections.every((name) => sections.has(name));
  const out = path.resolve(root, flags.out ?? (whole ? 'bench/results/latest.json' : 'bench/results/partial.json'));
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  printTable(report as unknown as Report);
  log(`wrote ${path.relative(root, out)}`);
}

function cliVersion(executable: string): string | undefined {
  try {
    return execFileSync(executable, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
  } catch {
    return undefined;
  }
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', cwd: root }).trim();
  } catch {
    return undefined;
  }
}

type Report = {
  mode: string;
  machine: { loadAverageAtStart: number[]; loadAverageAtEnd: number[]; cpus: number };
  overhead?: Awaited<ReturnType<typeof measureOverhead>>;
  criticalPath?: Awaited<ReturnType<typeof measureCriticalPath>>;
  throughput?: Awaited<ReturnType<typeof measureThroughput>>;
  parked?: Awaited<ReturnType<typeof measureParked>>;
};

function printTable(report: Report) {
  const table = new Table({ head: ['measure', 'Parley', 'baseline / reference', 'result', 'target'] });
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const ok = <T>(value: T | { error: string } | undefined): T | undefined =>
    value && !(typeof value === 'object' && 'error' in value) ? value : undefined;
  const o = ok(report.overhead);
  const c = ok(report.criticalPath);
  const t = ok(report.throughput);
  const p = ok(report.parked);
  if (o) {
    table.push(
      [
        `1. time per round, sequential (${o.rounds} rounds × ${o.activitiesPerRound} activities)`,
        `${o.parleyMsPerRound} ms`,
        `${o.baselineMsPerRound} ms`,
        `overheadRatio ${o.overheadRatio} (${mark(o.overheadRatio <= o.target)})`,
        '≤ 1.15',
      ],
      [
        '   history of one run: task dispatch / workflow tasks',
        `${round1(o.lastSequentialHistories.parley.workflowTaskDispatchMs + o.lastSequentialHistories.parley.activityDispatchMs)} / ${o.lastSequentialHistories.parley.workflowTaskRunMs} ms`,
        `${round1(o.lastSequentialHistories.baseline.workflowTaskDispatchMs + o.lastSequentialHistories.baseline.activityDispatchMs)} / ${o.lastSequentialHistories.baseline.workflowTaskRunMs} ms`,
        `${o.lastSequentialHistories.parley.activities} vs ${o.lastSequentialHistories.baseline.activities} activities`,
        '',
      ],
      [
        `   time per round, ${o.concurrent.negotiationsAtOnce} at once`,
        `${o.concurrent.parleyMsPerRound} ms`,
        `${o.concurrent.baselineMsPerRound} ms`,
        `ratio ${o.concurrent.overheadRatio}`,
        '',
      ],
    );
  }
  if (c) {
    table.push([
      `2. seed scenario, model ${c.modelLatencyMs} ms/call`,
      `wall ${c.wallMs} ms`,
      `model sum ${c.longestModelSumMs} ms (${c.callsOnLongest} calls)`,
      `${c.ratio}× (${mark(c.ratio <= c.target)}), +${c.overheadMs} ms`,
      '≤ 1.05×',
    ]);
    table.push([
      '   the same shape on bare Temporal',
      `wall ${c.baseline.wallMs} ms`,
      `${c.baseline.pairs} children × ${c.baseline.callsPerPair} calls`,
      `${c.baseline.ratio}×, +${c.baseline.overheadMs} ms; Parley / bare ${c.parleyOverBaseline}`,
      '',
    ]);
    const h = c.longestNegotiationHistory;
    table.push([
      '   where the longest negotiation spent its time',
      `activities ${h.activityRunMs} ms`,
      `task dispatch ${round1(h.workflowTaskDispatchMs + h.activityDispatchMs)} ms`,
      `workflow tasks ${h.workflowTaskRunMs} ms (${h.workflowTasks} tasks, ${h.activities} activities)`,
      '',
    ]);
  }
  if (t) {
    table.push(
      [
        `3. throughput, ${t.negotiations} × 3 rounds (offline)`,
        `${t.negotiationsPerSecond} negotiations/s`,
        `${t.elapsedMs} ms in all`,
        `round p50 ${t.roundLatencyMs.p50} ms, p95 ${t.roundLatencyMs.p95} ms`,
        '',
      ],
      [
        '   worker memory (RSS)',
        `peak ${t.memory.workerRssPeakMB} MB`,
        `start ${t.memory.workerRssStartMB} MB`,
        `server peak ${t.memory.serverRssPeakMB} MB`,
        '',
      ],
    );
  }
  if (p) {
    table.push(
      [
        `4. parked, ${p.negotiations} awaiting approval (cache ${p.workerTuning.maxCachedWorkflows})`,
        `parked in ${p.parkMs} ms`,
        `worker RSS peak ${p.parking.workerRssPeakMB} MB`,
        `all parked ${p.workerRssAllParkedMB} MB; server ${p.parking.serverRssPeakMB} MB`,
        'bounded',
      ],
      [
        `   approve all (${p.approve.decisionConcurrency} at once)`,
        `settled in ${p.approve.settleAllMs} ms`,
        `${p.approve.decisionsPerSecond} decisions/s`,
        `p50 ${p.approve.decisionLatencyMs.p50} ms, p95 ${p.approve.decisionLatencyMs.p95} ms; ${p.agreed} agreed`,
        '',
      ],
      ['   worker memory while approving', `peak ${p.approve.memory.workerRssPeakMB} MB`, '', '', ''],
    );
  }
  process.stdout.write(`${table.toString()}\n`);
  process.stdout.write(
    `mode ${report.mode}; ${report.machine.cpus} cores; load average ${report.machine.loadAverageAtStart.join(' ')} at start, ${report.machine.loadAverageAtEnd.join(' ')} at end\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
