import type { Client } from '@temporalio/client';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderTranscript } from '../transcript/render';
import { kindOf, negotiationRecord, simulationView } from './simulations';

/** Renders the transcript of a simulation, or of a single negotiation, from the workflows' own records. */
export async function transcriptOf(client: Client, workflowId: string): Promise<string> {
  if ((await kindOf(client, workflowId)) === 'negotiation') {
    const record = await negotiationRecord(client, workflowId);
    const startedAt = record.entries[0]?.at ?? new Date().toISOString();
    return renderTranscript({ startedAt, scenarioName: record.simulationId, negotiations: [record] });
  }
  const simulation = await simulationView(client, workflowId);
  const negotiations = await Promise.all(
    simulation.negotiations.map((n) => negotiationRecord(client, n.negotiationId)),
  );
  return renderTranscript({ startedAt: simulation.startedAt, scenarioName: simulation.scenarioName, negotiations });
}

/** Writes a simulation's transcript to `runs/<simulationId>.md` (or `dir`) and returns the path. */
export async function saveTranscript(client: Client, simulationId: string, dir = 'runs'): Promise<string> {
  const file = path.join(dir, `${simulationId}.md`);
  await mkdir(dir, { recursive: true });
  await writeFile(file, await transcriptOf(client, simulationId), 'utf8');
  return file;
}
