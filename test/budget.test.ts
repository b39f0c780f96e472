import type { Client } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OpenAiModel } from '../src/activities/openai-model';
import { llmChoice } from '../src/cli/context';
import { runScenario } from '../src/cli/run-scenario';
import { negotiationStatus } from '../src/cli/simulations';
import { loadScenario } from '../src/scenario/load';
import { getCurrentProposal } from '../src/workflows/messages';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { startTestWorker, testClient, type RunningWorker } from './support/temporal';

const runsDir = mkdtempSync(path.join(os.tmpdir(), 'parley-budget-'));

describe('token counts, cost and budgets', () => {
  let client: Client;
  let server: FakeOpenAiServer;
  let worker: RunningWorker;

  beforeAll(async () => {
    client = await testClient();
    server = await FakeOpenAiServer.start();
    const model = new OpenAiModel({ apiKey: 'sk-budget-test', baseURL: server.baseURL, model: 'gpt-4o-mini' });
    worker = await startTestWorker(() => model);
  });
  afterAll(async () => {
    await worker.stop();
    await server.close();
    await client.connection.close();
  });

  async function runFirstSeedPair(budget?: { tokens?: number; usd?: number }) {
    const seed = await loadScenario(path.resolve(__dirname, '../scenarios/seed.yaml'));
    const scenario = { ...seed, pairs: seed.pairs.slice(0, 1), policy: { ...seed.policy, budget } };
    const llm = llmChoice('openai', 'gpt-4o-mini', {});
    const run = await runScenario(client, scenario, llm, {
      wait: true,
      quiet: true,
      taskQueue: worker.taskQueue,
      runsDir,
    });
    return { run, outcome: run.outcomes![0] };
  }

  it('adds up every call’s usage and prices it with the model’s price', async () => {
    const before = server.requests.length;
    const { run, outcome } = await runFirstSeedPair();

    const usages = server.requests
      .slice(before)
      .map((r) => (r.reply?.body as { usage: { prompt_tokens: number; completion_tokens: number } }).usage);
    const prompt = usages.reduce((sum, u) => sum + u.prompt_tokens, 0);
    const completion = usages.reduce((sum, u) => sum + u.completion_tokens, 0);
    const status = await negotiationStatus(client, outcome.negotiationId);

    expect(status.tokens).toEqual({ prompt, completion });
    expect(status.costUsd).toBeCloseTo((prompt * 0.15 + completion * 0.6) / 1_000_000, 10);
    expect(await readFile(run.transcriptFile!, 'utf8')).toContain(
      `| Outcome | No agreement with Nebula AI after 3 rounds (tokens: ${prompt} prompt + ${completion} completion, $${status.costUsd!.toFixed(4)})`,
    );
  });

  it('ends a negotiation as budget_exhausted before the call that would overspend, keeping its last proposal', async () => {
    const { outcome } = await runFirstSeedPair({ tokens: 150 });

    expect(outcome).toMatchObject({ status: 'budget_exhausted', version: 1 });
    const proposal = await client.workflow
      .getHandle(outcome.negotiationId)
      .query(getCurrentProposal)
      .catch(() => undefined);
    const transcript = await readFile(path.join(runsDir, `${outcome.simulationId}.md`), 'utf8');
    expect(transcript).toMatch(
      /\| \*\*Parley\*\* \| Outcome \| Budget exhausted with Nebula AI before reviewing proposal V1; Proposal V1 is the last valid one \(tokens: \d+ prompt/,
    );
    expect(transcript).toContain('> **Nebula AI (Proposal V1)**:');
    expect(proposal === undefined || proposal?.version === 1).toBe(true);
  });
});
