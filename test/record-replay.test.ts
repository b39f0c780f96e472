import type { Client } from '@temporalio/client';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runScenario } from '../src/cli/run-scenario';
import { negotiationRecord } from '../src/cli/simulations';
import { recordingOf, replayChoice, saveRecording } from '../src/negotiation/recording';
import { loadScenario } from '../src/scenario/load';
import { resolveModelFromEnv } from '../src/worker';
import { FakeOpenAiServer } from './support/fake-openai-server';
import { startTestWorker, testClient, type RunningWorker } from './support/temporal';

const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-replay-'));

describe('record and replay', () => {
  let client: Client;
  let server: FakeOpenAiServer;
  let worker: RunningWorker;

  beforeAll(async () => {
    client = await testClient();
    server = await FakeOpenAiServer.start();
    worker = await startTestWorker(
      resolveModelFromEnv({ OPENAI_API_KEY: 'sk-replay', OPENAI_BASE_URL: server.baseURL }),
    );
  });
  afterAll(async () => {
    await worker.stop();
    await server.close();
    await client.connection.close();
  });

  async function documentsOf(simulationNegotiations: { negotiationId: string }[]) {
    const records = await Promise.all(simulationNegotiations.map((n) => negotiationRecord(client, n.negotiationId)));
    return {
      records,
      documents: records.map((r) =>
        r.entries
          .filter((e) => e.type === 'document')
          .map((e) => e.type === 'document' && [e.label, e.version, e.body]),
      ),
    };
  }

  it('reproduces a recorded run exactly with no model call', async () => {
    const scenario = await loadScenario(path.resolve(__dirname, '../scenarios/seed.yaml'));
    const recorded = await runScenario(
      client,
      scenario,
      { provider: 'openai', model: 'test-model' },
      { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir: dir },
    );
    const original = await documentsOf(recorded.simulation.negotiations);
    const file = path.join(dir, 'seed.recording.json');
    await saveRecording(file, recordingOf(scenario.name, recorded.simulation.simulationId, original.records));
    const callsBefore = server.requests.length;

    const replayed = await runScenario(client, scenario, await replayChoice(file), {
      wait: true,
      quiet: true,
      taskQueue: worker.taskQueue,
      runsDir: dir,
    });

    expect(server.requests.length).toBe(callsBefore);
    expect((await documentsOf(replayed.simulation.negotiations)).documents).toEqual(original.documents);
    expect(replayed.outcomes!.map((o) => o.status)).toEqual(recorded.outcomes!.map((o) => o.status));
  });

  it('fails a negotiation that asks for more than the recording holds, saying what is missing', async () => {
    const scenario = await loadScenario(path.resolve(__dirname, '../scenarios/seed.yaml'));
    const file = path.join(dir, 'seed.recording.json');
    const longer = { ...scenario, pairs: scenario.pairs.slice(0, 1), policy: { ...scenario.policy, maxRounds: 4 } };

    const run = await runScenario(client, longer, await replayChoice(file), {
      wait: true,
      quiet: true,
      taskQueue: worker.taskQueue,
      runsDir: dir,
    });

    expect(run.outcomes![0]).toMatchObject({
      status: 'failed',
      failure:
        'Nebula AI failed drafting proposal V4: MODEL_CONFIG: the recording has no proposal V4 for this negotiation',
    });
  });

  it('refuses a file that is not a recording, naming the file', async () => {
    await expect(replayChoice(path.resolve(__dirname, '../package.json'))).rejects.toThrow(
      /package\.json: not a Parley recording: parley: /,
    );
  });
});
