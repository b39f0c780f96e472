import type { NegotiationRecord } from '../src/negotiation/record';
import { renderTranscript } from '../src/transcript/render';

/** A settled negotiation's record with one event, as a negotiation log renders it. */
function record(vendor: string): NegotiationRecord {
  return {
    negotiationId: `s.northwind-foods.${vendor.toLowerCase()}`,
    simulationId: 's',
    client: 'Northwind Foods',
    vendor,
    status: 'no_agreement',
    version: 1,
    round: 1,
    maxRounds: 1,
    phase: 'settled',
    provider: 'offline',
    model: 'offline',
    notices: [],
    entries: [
      {
        type: 'event',
        at: '2026-12-03T10:00:01.000Z',
        actor: 'Northwind Foods',
        kind: 'Outcome',
        text: `No agreement with ${vendor} after 1 round`,
      },
    ],
    decidedRequests: {},
  };
}

describe('the transcript heading', () => {
  it('counts its negotiations in words a person reads: one negotiation, two negotiations', () => {
    const startedAt = '2026-12-03T10:00:00.000Z';
    const one = renderTranscript({ startedAt, scenarioName: 'tender', negotiations: [record('Harbor')] });
    const two = renderTranscript({
      startedAt,
      scenarioName: 'tender',
      negotiations: [record('Harbor'), record('Ledger')],
    });

    expect(one).toContain('| Setup | Scenario tender: 1 negotiation, written by offline');
    expect(two).toContain('| Setup | Scenario tender: 2 negotiations, written by offline');
  });
});
