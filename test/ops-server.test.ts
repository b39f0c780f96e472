import type { Client } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runScenario } from '../src/cli/run-scenario';
import { negotiationStatus } from '../src/cli/simulations';
import { loadScenario } from '../src/scenario/load';
import { buildOpsServer } from '../src/ops/server';
import { eventually } from './support/eventually';
import { startTestWorker, testClient, type RunningWorker } from './support/temporal';

const token = 'test-ops-token';

describe('the ops HTTP API', () => {
  let client: Client;
  let worker: RunningWorker;
  let base: string;
  let app: ReturnType<typeof buildOpsServer>;
  let waiting: string[];
  let simulationId: string;

  const call = (method: string, url: string, body?: unknown, auth = `Bearer ${token}`) =>
    fetch(`${base}${url}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    client = await testClient();
    worker = await startTestWorker();
    const scenario = await loadScenario(path.resolve(__dirname, '../scenarios/quick-agreement.yaml'));
    const vendors = [1, 2, 3].map((i) => ({ ...scenario.vendors[0], name: `Harbor Apps ${i}` }));
    const run = await runScenario(
      client,
      { ...scenario, vendors, pairs: vendors.map((v) => ({ client: scenario.clients[0].name, vendor: v.name })) },
      { provider: 'offline' },
      {
        wait: true,
        quiet: true,
        taskQueue: worker.taskQueue,
        runsDir: mkdtempSync(path.join(os.tmpdir(), 'parley-ops-')),
      },
    );
    waiting = run.outcomes!.map((o) => o.negotiationId);
    simulationId = run.simulation.simulationId;
    app = buildOpsServer(client, token);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    await worker.stop();
    await client.connection.close();
  });

  it('answers 401 to a wrong token and sends nothing to the negotiation', async () => {
    const response = await call('POST', `/negotiations/${waiting[0]}/approve`, { by: 'mallory' }, 'Bearer wrong');

    expect(response.status).toBe(401);
    expect((await negotiationStatus(client, waiting[0])).status).toBe('awaiting_approval');
  });

  it('lists negotiations awaiting approval and shows one', async () => {
    type Listing = { negotiations: { negotiationId: string }[] };
    const list = await eventually(
      async () =>
        (await (
          await call('GET', `/negotiations?status=awaiting_approval&simulationId=${simulationId}`)
        ).json()) as Listing,
      (l) => waiting.every((id) => l.negotiations.some((n) => n.negotiationId === id)),
    );
    const one = await (await call('GET', `/negotiations/${waiting[0]}`)).json();

    expect(list.negotiations.map((n) => n.negotiationId)).toEqual(expect.arrayContaining(waiting));
    expect(one).toMatchObject({ negotiationId: waiting[0], status: 'awaiting_approval', pendingGate: 'acceptance' });
  });

  it('approves, rejects and asks for a revision over HTTP', async () => {
    const approved = await call('POST', `/negotiations/${waiting[0]}/approve`, { by: 'bot' });
    const rejected = await call('POST', `/negotiations/${waiting[1]}/reject`, { by: 'bot', reason: 'budget cut' });
    const revised = await call('POST', `/negotiations/${waiting[2]}/revise`, {
      by: 'bot',
      comment: 'add offline mode',
    });

    expect(await approved.json()).toMatchObject({ decision: 'approve', by: 'ops:bot', status: 'agreed' });
    expect(await rejected.json()).toMatchObject({ decision: 'reject', status: 'rejected' });
    expect(await revised.json()).toMatchObject({ decision: 'requestRevision' });
  });

  it('answers 409 with the reason when the negotiation cannot take the decision, and 404 for an unknown id', async () => {
    const refused = await call('POST', `/negotiations/${waiting[0]}/reject`, { by: 'bot', reason: 'too late' });
    const unknown = await call('POST', '/negotiations/nope/approve', { by: 'bot' });
    const malformed = await call('POST', `/negotiations/${waiting[0]}/approve`, ['not', 'an', 'object']);

    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: string }).error).toBe('the negotiation is already decided');
    expect(unknown.status).toBe(404);
    expect(malformed.status).toBe(400);
    const notJson = await fetch(`${base}/negotiations/${waiting[0]}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(notJson.status).toBe(400);
    expect((await call('GET', '/negotiations?limit=abc')).status).toBe(400);
    expect((await call('POST', `/negotiations/${simulationId}/approve`, { by: 'bot' })).status).toBe(404);
    expect((await call('GET', `/negotiations/${simulationId}`)).status).toBe(404);
    expect(Object.keys((await notJson.json()) as object)).toEqual(['error']);
  });

  it('refuses to start without PARLEY_OPS_TOKEN', async () => {
    const result = await promisify(execFile)('node', [path.resolve(__dirname, '../bin/parley.js'), 'ops-server'], {
      env: { ...process.env, PARLEY_OPS_TOKEN: '' },
    }).catch((e) => e);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('PARLEY_OPS_TOKEN is not set');
  });
});
