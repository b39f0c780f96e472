import type { Client } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runScenario } from '../src/cli/run-scenario';
import { loadScenario } from '../src/scenario/load';
import { llmRateLimiter, resolveModelFromEnv } from '../src/worker';
import { completion, documentFor, FakeOpenAiServer } from './support/fake-openai-server';
import { startTestWorker, testClient } from './support/temporal';

describe('the shared model rate limit', () => {
  it('keeps one request in flight across all negotiations of a worker when PARLEY_LLM_CONCURRENCY is 1', async () => {
    const client: Client = await testClient();
    const server = await FakeOpenAiServer.start();
    let inFlight = 0;
    let mostInFlight = 0;
    server.setHandler(async (request) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 150));
      inFlight--;
      return completion(documentFor(request));
    });
    const env = { OPENAI_API_KEY: 'sk-limit', OPENAI_BASE_URL: server.baseURL, PARLEY_LLM_CONCURRENCY: '1' };
    const worker = await startTestWorker(resolveModelFromEnv(env));
    try {
      const scenario = await loadScenario(path.resolve(__dirname, '../scenarios/seed.yaml'));
      const runsDir = mkdtempSync(path.join(os.tmpdir(), 'parley-limit-'));

      const run = await runScenario(
        client,
        scenario,
        { provider: 'openai', model: 'test-model' },
        { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
      );

      expect(run.outcomes!.map((o) => o.status)).toEqual(['no_agreement', 'no_agreement', 'no_agreement']);
      expect(server.requests).toHaveLength(18);
      expect(mostInFlight).toBe(1);
    } finally {
      await worker.stop();
      await server.close();
      await client.connection.close();
    }
  });

  it('refuses a rate setting that is not a positive number, naming it', () => {
    expect(() => llmRateLimiter({ PARLEY_LLM_RPS: 'fast' })).toThrow(
      'PARLEY_LLM_RPS: expected a positive number, got "fast"',
    );
  });
});
