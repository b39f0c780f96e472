/** One line of the transcript: `- **HH:MM:SS** | **Actor** | Kind | text`. */
export interface ParsedEvent {
  type: 'event';
  time: string;
  actor: string;
  kind: string;
  text: string;
}

/** One quoted JSON block: `> **Actor (Proposal Vn)**:` and the document under it. */
export interface ParsedDocument {
  type: 'document';
  actor: string;
  label: 'Proposal' | 'Review';
  version: number;
  body: unknown;
}

export interface ParsedTranscript {
  startedAt: string;
  entries: (ParsedEvent | ParsedDocument)[];
}

const headerPattern = /^# Simulation Log - (\d{8}_\d{6})$/;
const eventPattern = /^- \*\*(\d{2}:\d{2}:\d{2})\*\* \| \*\*(.+?)\*\* \| (\w+) \| (.+)$/;
const documentPattern = /^> \*\*(.+) \((Proposal|Review) V(\d+)\)\*\*:$/;

/** Reads a transcript in the seed's format back into events and documents; throws on any line that does not fit. */
export function parseTranscript(text: string): ParsedTranscript {
  const lines = text.split(/\r?\n/);
  const header = headerPattern.exec(lines[0] ?? '');
  if (!header) throw new Error(`line 1: expected "# Simulation Log - YYYYMMDD_HHMMSS", got "${lines[0]}"`);

  const entries: ParsedTranscript['entries'] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;

    const event = eventPattern.exec(line);
    if (event) {
      entries.push({ type: 'event', time: event[1], actor: event[2], kind: event[3], text: event[4] });
      continue;
    }

    const doc = documentPattern.exec(line);
    if (!doc) throw new Error(`line ${i + 1}: neither an event nor a document heading: "${line}"`);
    const quoted: string[] = [];
    while (i + 1 < lines.length && lines[i + 1].startsWith('>')) quoted.push(lines[++i].replace(/^> ?/, ''));
    let body: unknown;
    try {
      body = JSON.parse(quoted.join('\n'));
    } catch (err) {
      throw new Error(`line ${i + 1}: the ${doc[2]} of ${doc[1]} is not valid JSON: ${(err as Error).message}`);
    }
    entries.push({
      type: 'document',
      actor: doc[1],
      label: doc[2] as 'Proposal' | 'Review',
      version: Number(doc[3]),
      body,
    });
  }
  return { startedAt: header[1], entries };
}
