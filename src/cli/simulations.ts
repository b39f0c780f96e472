import {
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import type { LlmChoice } from '../activities/types';
import { negotiationIdFor } from '../negotiation/ids';
import type { Satisfaction } from '../negotiation/documents';
import {
  statusViewOf,
  type NegotiationRecord,
  type NegotiationStatus,
  type NegotiationStatusView,
  type NegotiationSummary,
} from '../negotiation/record';
import type { Scenario } from '../scenario/schema';
import { TASK_QUEUE } from '../temporal/connection';
import {
  PARLEY_SEARCH_ATTRIBUTES,
  ParleyClientKey,
  ParleyRoundKey,
  ParleySatisfactionKey,
  ParleySimulationIdKey,
  ParleyStatusKey,
  ParleyVendorKey,
  ParleyVersionKey,
} from '../temporal/search-attributes';
import { getHistory, getSimulation, getStatus, type SimulationView } from '../workflows/messages';
import type { negotiationWorkflow, simulationWorkflow, SimulationResult } from '../workflows';
import { CliError } from './errors';
import { countOf } from '../transcript/words';

/** A simulation id that names the scenario and when it started, e.g. `seed-20251215-173651-3f9a`. */
export function newSimulationId(scenario: Scenario, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${scenario.name}-${stamp}-${randomBytes(2).toString('hex')}`;
}

export async function startSimulation(
  client: Client,
  scenario: Scenario,
  llm: LlmChoice,
  options: { simulationId?: string; taskQueue?: string } = {},
): Promise<SimulationView> {
  const simulationId = options.simulationId ?? newSimulationId(scenario);
  await client.workflow.start<typeof simulationWorkflow>('simulationWorkflow', {
    workflowId: simulationId,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    args: [{ scenario, llm, indexed: await hasParleySearchAttributes(client) }],
    staticSummary: `Simulation of ${scenario.name}: ${countOf(scenario.pairs.length, 'negotiation')}`,
  });
  return {
    simulationId,
    scenarioName: scenario.name,
    startedAt: new Date().toISOString(),
    provider: llm.provider,
    negotiations: scenario.pairs.map((pair) => ({
      negotiationId: negotiationIdFor(simulationId, pair.client, pair.vendor),
      client: pair.client,
      vendor: pair.vendor,
    })),
  };
}

/** Whether the namespace knows every Parley search attribute; negotiations index themselves only then. */
export async function hasParleySearchAttributes(client: Client): Promise<boolean> {
  try {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
      namespace: client.options.namespace,
    });
    return PARLEY_SEARCH_ATTRIBUTES.every((a) => customAttributes && a.name in customAttributes);
  } catch {
    // Some hosted servers do not let every caller use the operator service; negotiations then run unindexed.
    return false;
  }
}

/** What a workflow id names: a simulation, a negotiation, or nothing at all. */
export async function kindOf(client: Client, workflowId: string): Promise<'simulation' | 'negotiation'> {
  const description = await describe(client, workflowId);
  if (description.type === 'simulationWorkflow') return 'simulation';
  if (description.type === 'negotiationWorkflow') return 'negotiation';
  throw new CliError(`${workflowId} is a ${description.type} workflow, not a Parley simulation or negotiation`);
}

async function describe(client: Client, workflowId: string) {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new CliError(`no simulation or negotiation with id "${workflowId}"`);
    throw err;
  }
}

/** The simulation's negotiations: from its result once finished, else from the running workflow. */
export async function simulationView(client: Client, simulationId: string): Promise<SimulationView> {
  const handle: WorkflowHandle<typeof simulationWorkflow> = client.workflow.getHandle(simulationId);
  const description = await describe(client, simulationId);
  if (description.status.name === 'COMPLETED') {
    const result: SimulationResult = await handle.result();
    return {
      simulationId,
      scenarioName: result.scenarioName,
      startedAt: result.startedAt,
      provider: result.outcomes[0]?.provider ?? 'unknown',
      negotiations: result.outcomes.map(({ negotiationId, client: c, vendor }) => ({
        negotiationId,
        client: c,
        vendor,
      })),
    };
  }
  return handle.query(getSimulation);
}

/** A negotiation's record: its result once settled, else a query to the running workflow. */
export async function negotiationRecord(client: Client, negotiationId: string): Promise<NegotiationRecord> {
  const handle: WorkflowHandle<typeof negotiationWorkflow> = client.workflow.getHandle(negotiationId);
  const description = await describe(client, negotiationId);
  if (description.status.name === 'COMPLETED') return handle.result();
  if (description.status.name === 'RUNNING') return handle.query(getHistory);
  throw new CliError(`negotiation ${negotiationId} ended as ${description.status.name.toLowerCase()} without a record`);
}

/** A negotiation's status: settled ones answer from their result, running ones from the `getStatus` query. */
export async function negotiationStatus(client: Client, negotiationId: string): Promise<NegotiationStatusView> {
  const handle: WorkflowHandle<typeof negotiationWorkflow> = client.workflow.getHandle(negotiationId);
  const description = await describe(client, negotiationId);
  if (description.type !== 'negotiationWorkflow') {
    throw new CliError(
      `${negotiationId} is a ${description.type === 'simulationWorkflow' ? 'simulation' : description.type}, not a negotiation; ` +
        `"parley list --simulation ${negotiationId}" lists its negotiations`,
    );
  }
  if (description.status.name === 'RUNNING') return handle.query(getStatus);
  if (description.status.name === 'COMPLETED') {
    return statusViewOf(await handle.result());
  }
  const memo = (description.memo ?? {}) as { client?: string; vendor?: string; simulationId?: string };
  return {
    negotiationId,
    simulationId: memo.simulationId ?? '',
    client: memo.client ?? '',
    vendor: memo.vendor ?? '',
    status: 'failed',
    version: 0,
    round: 0,
    maxRounds: 0,
    phase: 'settled',
    notices: [],
    provider: '',
    model: '',
    failure: `the workflow was ${description.status.name.toLowerCase().replace('_', ' ')}`,
  };
}

/**
 * Negotiations, newest first, optionally in one status. With Parley's search attributes the server filters and
 * the listing itself says where each negotiation stands; without them each negotiation is asked in turn, which
 * needs a running worker for the open ones.
 */
export async function listNegotiations(
  client: Client,
  options: { status?: string; simulationId?: string; limit?: number } = {},
): Promise<NegotiationSummary[]> {
  const limit = options.limit ?? 100;
  const indexed = await hasParleySearchAttributes(client);
  const quoted = (value: string) => `'${value.replace(/['\\]/g, '')}'`;
  let filter = '';
  if (indexed && options.status) filter += ` AND ParleyStatus = ${quoted(options.status)}`;
  if (options.simulationId) filter += ` AND WorkflowId STARTS_WITH ${quoted(`${options.simulationId}.`)}`;
  const summaries: NegotiationSummary[] = [];
  const seen = new Set<string>();
  for await (const execution of client.workflow.list({ query: `WorkflowType = 'negotiationWorkflow'${filter}` })) {
    // A negotiation that continued as new is listed once per run; its latest run comes first and speaks for it.
    if (seen.has(execution.workflowId)) continue;
    seen.add(execution.workflowId);
    const summary = indexed
      ? summaryFromListing(execution)
      : await negotiationStatus(client, execution.workflowId).catch(() => undefined);
    if (summary && (!options.status || summary.status === options.status)) summaries.push(summary);
    if (summaries.length >= limit) break;
  }
  return summaries;
}

function summaryFromListing(execution: WorkflowExecutionInfo): NegotiationSummary {
  const attributes = execution.typedSearchAttributes;
  const memo = (execution.memo ?? {}) as { client?: string; vendor?: string; simulationId?: string };
  const closedBadly = execution.status.name !== 'RUNNING' && execution.status.name !== 'COMPLETED';
  const satisfaction = attributes.get(ParleySatisfactionKey);
  return {
    negotiationId: execution.workflowId,
    simulationId: attributes.get(ParleySimulationIdKey) ?? memo.simulationId ?? '',
    client: attributes.get(ParleyClientKey) ?? memo.client ?? '',
    vendor: attributes.get(ParleyVendorKey) ?? memo.vendor ?? '',
    status: closedBadly ? 'failed' : ((attributes.get(ParleyStatusKey) as NegotiationStatus | undefined) ?? 'running'),
    version: attributes.get(ParleyVersionKey) ?? 0,
    round: attributes.get(ParleyRoundKey) ?? 0,
    lastSatisfaction: satisfaction && satisfaction !== 'none' ? (satisfaction as Satisfaction) : undefined,
    failure: closedBadly ? `the workflow was ${execution.status.name.toLowerCase().replace('_', ' ')}` : undefined,
  };
}
