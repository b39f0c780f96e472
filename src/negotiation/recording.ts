import { readFile, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { LlmChoice, PairRecording } from '../activities/types';
import { recordingKey } from './ids';
import type { NegotiationRecord } from './record';

const answerSchema = z.object({ document: z.unknown(), provider: z.string(), model: z.string() }).strict();
const pairSchema = z
  .object({ proposals: z.record(z.string(), answerSchema), reviews: z.record(z.string(), answerSchema) })
  .strict();

/** A recording file: every answer of a run, by pair (`client|vendor`), step and round. */
export const recordingFileSchema = z
  .object({
    parley: z.literal('recording'),
    version: z.literal(1),
    scenario: z.string(),
    simulationId: z.string(),
    negotiations: z.record(z.string(), pairSchema),
  })
  .strict();
export type RecordingFile = z.infer<typeof recordingFileSchema>;

/** The answers a finished run holds, ready to be served back by `--llm replay:FILE`. */
export function recordingOf(scenario: string, simulationId: string, records: NegotiationRecord[]): RecordingFile {
  const negotiations: Record<string, PairRecording> = {};
  for (const record of records) {
    const pair: PairRecording = { proposals: {}, reviews: {} };
    for (const entry of record.entries) {
      if (entry.type !== 'document') continue;
      const step = entry.label === 'Proposal' ? pair.proposals : pair.reviews;
      step[String(entry.version)] = { document: entry.body, provider: record.provider, model: record.model };
    }
    negotiations[recordingKey(record.client, record.vendor)] = pair;
  }
  return { parley: 'recording', version: 1, scenario, simulationId, negotiations };
}

export async function saveRecording(file: string, recording: RecordingFile): Promise<void> {
  await writeFile(file, JSON.stringify(recording, null, 2) + '\n', 'utf8');
}

/** Reads a recording for `--llm replay:FILE`; a file that is not one says so in one line. */
export async function replayChoice(file: string): Promise<LlmChoice> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: cannot read the recording: ${(err as Error).message}`);
  }
  const result = recordingFileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`${file}: not a Parley recording: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return { provider: 'replay', source: file, recordings: result.data.negotiations };
}
