import type { NegotiationRecord, TranscriptEntry } from '../negotiation/record';
import { countOf } from './words';

export interface TranscriptSource {
  startedAt: string;
  scenarioName: string;
  negotiations: NegotiationRecord[];
}

/**
 * Renders the seed's transcript format from the negotiations' own records. Concurrent negotiations interleave
 * by time; entries with the same time keep the order in which each negotiation wrote them. Times are UTC.
 */
export function renderTranscript(source: TranscriptSource): string {
  const lines = [`# Simulation Log - ${stamp(source.startedAt)}`, ''];
  const engines = [
    ...new Set(source.negotiations.map((n) => (n.provider === 'offline' ? 'offline' : `${n.provider} (${n.model})`))),
  ];
  lines.push(
    eventLine(
      source.startedAt,
      'Parley',
      'Setup',
      `Scenario ${source.scenarioName}: ${countOf(source.negotiations.length, 'negotiation')}, written by ${engines.join(', ') || 'no engine yet'}`,
    ),
  );

  const entries = source.negotiations
    .flatMap((n) => n.entries.map((entry, index) => ({ entry, index })))
    .sort((a, b) => a.entry.at.localeCompare(b.entry.at) || a.index - b.index)
    .map(({ entry }) => entry);

  for (const entry of entries) {
    if (entry.type === 'event') {
      lines.push(eventLine(entry.at, entry.actor, entry.kind, entry.text));
    } else {
      if (lines[lines.length - 1] !== '') lines.push('');
      lines.push(...documentBlock(entry), '');
    }
  }
  return lines.join('\n').replace(/\n*$/, '\n');
}

function eventLine(at: string, actor: string, kind: string, text: string): string {
  return `- **${clock(at)}** | **${actor}** | ${kind} | ${text}`;
}

function documentBlock(entry: Extract<TranscriptEntry, { type: 'document' }>): string[] {
  const json = JSON.stringify(entry.body, null, 4).split('\n');
  return [`> **${entry.actor} (${entry.label} V${entry.version})**:`, '> ', '> ', ...json.map((line) => `> ${line}`)];
}

/** `HH:MM:SS` of an ISO time, in UTC. */
function clock(iso: string): string {
  return iso.slice(11, 19);
}

/** `YYYYMMDD_HHMMSS` of an ISO time, in UTC. */
function stamp(iso: string): string {
  return `${iso.slice(0, 10).replace(/-/g, '')}_${iso.slice(11, 19).replace(/:/g, '')}`;
}
