import { readFileSync } from 'node:fs';
import path from 'node:path';
import { proposalSchema, reviewSchema } from '../src/negotiation/documents';
import { parseTranscript } from '../src/transcript/parse';

const seedFile = path.resolve(__dirname, '../../shared/seed/000_cf31433b9edcb06c.txt');
const seed = parseTranscript(readFileSync(seedFile, 'utf8'));
const documents = seed.entries.filter((e) => e.type === 'document');

describe('the seed transcript', () => {
  it('parses as 18 JSON documents and 27 events under its header', () => {
    expect(seed.startedAt).toBe('20251215_173651');
    expect(documents).toHaveLength(18);
    expect(seed.entries.filter((e) => e.type === 'event')).toHaveLength(27);
  });

  it.each(documents.map((d, i) => [i + 1, d] as const))('document %i validates against its schema', (_n, doc) => {
    const schema = doc.label === 'Proposal' ? proposalSchema : reviewSchema;
    const result = schema.safeParse(doc.body);
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('keeps the mislabelled version the model wrote, which the workflow must never trust', () => {
    const chainV2 = documents.find((d) => d.actor === 'Chain Reactors' && d.version === 2);
    expect((chainV2?.body as { version: number }).version).toBe(3);
  });
});
