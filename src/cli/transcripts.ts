import type { Client } from '@temporalio/client';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NegotiationRecord } from '../negotiation/record';
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
  // A pair whose workflow ended without a record (terminated, say) is marked; the others still render.
  const negotiations = await Promise.all(
    simulation.negotiations.map((n) =>
      negotiationRecord(client, n.negotiationId).catch((err: Error): NegotiationRecord => ({
        negotiationId: n.negotiationId,
        simulationId: simulation.simulationId,
        client: n.client,
        vendor: n.vendor,
        status: 'failed',
        version: 0,
        round: 0,
        maxRounds: 0,
        phase: 'settled',
        provider: simulation.provider,
        model: '',
        notices: [],
        entries: [
          {
            type: 'event',
            at: simulation.startedAt,
            actor: 'Parley',
            kind: 'Notice',
            text: `${n.client} ↔ ${n.vendor}: ${err.message}`,
          },
        ],
      })),
    ),
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
