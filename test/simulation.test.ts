import type { Client } from '@temporalio/client';
import path from 'node:path';
import { OfflineEngine } from '../src/activities/offline-engine';
import type { NegotiationModel } from '../src/activities/types';
import { saveTranscript } from '../src/cli/transcripts';
import { runScenario } from '../src/cli/run-scenario';
import { negotiationStatus } from '../src/cli/simulations';
import { proposalSchema, reviewSchema } from '../src/negotiation/documents';
import { loadScenario } from '../src/scenario/load';
import { parseTranscript, type ParsedDocument, type ParsedEvent } from '../src/transcript/parse';
import { readFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { startTestWorker, testClient, type RunningWorker } from './support/temporal';

const seedScenario = path.resolve(__dirname, '../scenarios/seed.yaml');
/** One client, two vendors: Harbor Apps fits the client's needs, Quantum Ledger does not. */
const tenderScenario = path.resolve(__dirname, '../scenarios/quick-agreement.yaml');
const runsDir = mkdtempSync(path.join(os.tmpdir(), 'parley-runs-'));

describe('a simulation on a real Temporal server', () => {
  let client: Client;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    client = await testClient();
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });
  afterAll(async () => {
    await client.connection.close();
  });

  it('settles the three seed negotiations with versions 1..n and writes a transcript in the seed format', async () => {
    worker = await startTestWorker();
    const scenario = await loadScenario(seedScenario);

    const run = await runScenario(
      client,
      scenario,
      { provider: 'offline' },
      { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
    );

    expect(run.outcomes).toHaveLength(3);
    expect(run.outcomes!.map((o) => o.status)).toEqual(['no_agreement', 'no_agreement', 'no_agreement']);
    const transcript = parseTranscript(await readFile(run.transcriptFile!, 'utf8'));
    for (const pair of scenario.pairs) {
      const proposals = transcript.entries.filter(
        (e): e is ParsedDocument => e.type === 'document' && e.label === 'Proposal' && e.actor === pair.vendor,
      );
      const reviews = transcript.entries.filter(
        (e): e is ParsedDocument => e.type === 'document' && e.label === 'Review' && e.actor === pair.client,
      );
      expect(proposals.map((p) => p.version)).toEqual([1, 2, 3]);
      expect(proposals.map((p) => (p.body as { version: number }).version)).toEqual([1, 2, 3]);
      expect(reviews.map((r) => r.version)).toEqual([1, 2, 3]);
      proposals.forEach((p) => expect(proposalSchema.safeParse(p.body).success).toBe(true));
      reviews.forEach((r) => expect(reviewSchema.parse(r.body).overall_satisfaction).toBe('needs_major_revision'));
    }
    const events = transcript.entries
      .filter((e) => e.type === 'event')
      .map((e) => `${e.actor} | ${e.kind} | ${e.text}`);
    expect(events).toContain('Nebula AI | Action | Drafting Proposal V3...');
    expect(events).toContain('ShopifyPlus Inc | Feedback | Requesting Revisions');
    expect(events).toContain('ShopifyPlus Inc | Outcome | No agreement with Nebula AI after 3 rounds');
    expect(events[0]).toMatch(/^Parley \| Setup \| Scenario seed: 3 negotiations, written by offline$/);
  });

  it('names the vendor on every outcome line when one client negotiates with two vendors', async () => {
    worker = await startTestWorker();
    const scenario = await loadScenario(tenderScenario);

    const run = await runScenario(
      client,
      { ...scenario, policy: { ...scenario.policy, approval: 'auto' } },
      { provider: 'offline' },
      { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
    );

    const harbor = run.outcomes!.find((o) => o.vendor === 'Harbor Apps')!;
    const quantum = run.outcomes!.find((o) => o.vendor === 'Quantum Ledger')!;
    expect([harbor.status, quantum.status]).toEqual(['agreed', 'rejected']);
    const outcomeLines = parseTranscript(await readFile(run.transcriptFile!, 'utf8'))
      .entries.filter((e): e is ParsedEvent => e.type === 'event' && e.kind === 'Outcome')
      .map((e) => `${e.actor} | ${e.text}`);
    expect(outcomeLines.sort()).toEqual([
      `Northwind Foods | Agreed with Harbor Apps on Proposal V${harbor.version}`,
      `Northwind Foods | Rejected Proposal V${quantum.version} from Quantum Ledger`,
    ]);
  });

  it('gives every proposal the round number as its version, whatever the model wrote', async () => {
    const offline = new OfflineEngine();
    const mislabelling: NegotiationModel = {
      provider: 'offline',
      model: 'mislabelling',
      draftProposal: async (input) => ({ ...(await offline.draftProposal(input)), version: input.version + 1 }),
      reviewProposal: (input) => offline.reviewProposal(input),
    };
    worker = await startTestWorker(() => mislabelling);
    const scenario = await loadScenario(seedScenario);

    const run = await runScenario(
      client,
      { ...scenario, pairs: scenario.pairs.slice(2) },
      { provider: 'offline' },
      { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
    );

    const transcript = parseTranscript(await readFile(run.transcriptFile!, 'utf8'));
    const proposals = transcript.entries.filter(
      (e): e is ParsedDocument => e.type === 'document' && e.label === 'Proposal',
    );
    expect(proposals.map((p) => [p.version, (p.body as { version: number }).version])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it('ends a negotiation as failed, naming the step, the party and the cause, when the model refuses for good', async () => {
    const offline = new OfflineEngine();
    const refusing: NegotiationModel = {
      provider: 'offline',
      model: 'refusing',
      draftProposal: (input) => offline.draftProposal(input),
      reviewProposal: async () => {
        throw Object.assign(new Error('the model refused to review'), { code: 'MODEL_REFUSED', isRetryable: false });
      },
    };
    worker = await startTestWorker(() => refusing);
    const scenario = await loadScenario(seedScenario);

    const run = await runScenario(
      client,
      { ...scenario, pairs: scenario.pairs.slice(0, 1) },
      { provider: 'offline' },
      { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
    );

    const [outcome] = run.outcomes!;
    expect(outcome.status).toBe('failed');
    expect(outcome.failure).toBe(
      'ShopifyPlus Inc failed reviewing proposal V1: MODEL_REFUSED: the model refused to review',
    );
    const status = await negotiationStatus(client, outcome.negotiationId);
    expect(status).toMatchObject({ status: 'failed', version: 1, round: 1 });
    const transcript = await saveTranscript(client, run.simulation.simulationId, runsDir);
    expect(await readFile(transcript, 'utf8')).toContain(
      '| **ShopifyPlus Inc** | Outcome | Negotiation with Nebula AI failed: ShopifyPlus Inc failed reviewing proposal V1',
    );
  });
});
