import type { Client } from '@temporalio/client';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseTranscript } from '../src/transcript/parse';
import { eventually } from './support/eventually';
import { startTestWorker, testAddress, testClient, type RunningWorker } from './support/temporal';

const root = path.resolve(__dirname, '..');
const seedScenario = path.join(root, 'scenarios/seed.yaml');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the parley command line', () => {
  let client: Client;
  let worker: RunningWorker;
  let cwd: string;

  /** Runs the built CLI the way a user does, in a scratch folder, against the test server and queue. */
  async function parley(...args: string[]): Promise<CliResult> {
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: testAddress(),
      PARLEY_TASK_QUEUE: worker.taskQueue,
      OPENAI_API_KEY: '',
      NO_COLOR: '1',
    };
    try {
      const { stdout, stderr } = await promisify(execFile)('node', [path.join(root, 'bin/parley.js'), ...args], {
        cwd,
        env,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  beforeAll(async () => {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    client = await testClient();
    worker = await startTestWorker();
    cwd = mkdtempSync(path.join(os.tmpdir(), 'parley-cli-'));
  });
  afterAll(async () => {
    await worker.stop();
    await client.connection.close();
  });

  it('runs the seed scenario to the end with --wait --json and leaves its transcript under runs/', async () => {
    const result = await parley('run', seedScenario, '--wait', '--json');

    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.simulationId).toMatch(/^seed-\d{8}-\d{6}-[0-9a-f]{4}$/);
    expect(output.negotiations).toEqual([
      expect.objectContaining({ client: 'ShopifyPlus Inc', vendor: 'Nebula AI', status: 'no_agreement' }),
      expect.objectContaining({ client: 'FastTrack Logistics', vendor: 'SmartThings Dev', status: 'no_agreement' }),
      expect.objectContaining({ client: 'SecurePay Bank', vendor: 'Chain Reactors', status: 'no_agreement' }),
    ]);
    const transcriptFile = path.join(cwd, 'runs', `${output.simulationId}.md`);
    expect(
      parseTranscript(readFileSync(transcriptFile, 'utf8')).entries.filter((e) => e.type === 'document'),
    ).toHaveLength(18);

    const status = await parley('status', output.negotiations[0].id, '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'no_agreement', version: 3, round: 3 });

    const log = await parley('log', output.negotiations[0].id, '-o', 'one.md');
    expect(log.code).toBe(0);
    const single = parseTranscript(readFileSync(path.join(cwd, 'one.md'), 'utf8'));
    expect(new Set(single.entries.filter((e) => e.type === 'document').map((e) => e.actor))).toEqual(
      new Set(['Nebula AI', 'ShopifyPlus Inc']),
    );
  });

  it('names the negotiation that waits for a decision after a waited run, and that id takes the decision', async () => {
    const result = await parley('run', path.join(root, 'scenarios/quick-agreement.yaml'), '--wait');
    const hint = /^Awaiting a decision: parley approve\|reject\|revise\|extend (\S+)$/m.exec(result.stdout);
    const approved = await parley('approve', hint?.[1] ?? 'missing', '--by', 'dana');

    expect(result.code).toBe(0);
    expect(hint?.[1]).toMatch(/^quick-agreement-.+\.northwind-foods\.harbor-apps$/);
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('agreed');
  });

  it('starts a simulation without waiting and prints its negotiations as running', async () => {
    const result = await parley('run', seedScenario, '--json');

    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.negotiations.map((n: { status: string }) => n.status)).toEqual(['running', 'running', 'running']);
    await client.workflow.getHandle(output.simulationId).result();
  });

  it('refuses a bad scenario with one line per problem and exit code 2, starting nothing', async () => {
    const bad = path.join(cwd, 'bad.yaml');
    writeFileSync(
      bad,
      'name: bad\nclients: []\nvendors: [{ name: V, profile: p }]\npairs: [{ client: A, vendor: V }]\n',
    );

    const result = await parley('run', bad, '--wait');

    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `${bad}: clients: must name at least one client`,
      `${bad}: vendors[0].baseWeeks: Invalid input: expected number, received undefined`,
      `${bad}: pairs[0].client: names no client: "A"`,
    ]);
    expect(existsSync(path.join(cwd, 'runs', 'bad'))).toBe(false);
    const started = await client.workflow.count(`TaskQueue = '${worker.taskQueue}' AND WorkflowId STARTS_WITH 'bad-'`);
    expect(started.count).toBe(0);
  });

  it('rejects an unknown --llm value before connecting', async () => {
    const result = await parley('run', seedScenario, '--llm', 'gpt');

    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('parley: --llm: expected "offline", "openai" or "replay:FILE", got "gpt"');
  });

  it('exits 1 when a negotiation of a waited run failed, and lists negotiations with their ids', async () => {
    const result = await parley('run', seedScenario, '--wait', '--json', '--llm', 'openai');
    const output = JSON.parse(result.stdout);
    const list = await parley('list', '--simulation', output.simulationId);
    const status = await parley('status', output.simulationId);

    expect(result.code).toBe(1);
    expect(output.negotiations.map((n: { status: string }) => n.status)).toEqual(['failed', 'failed', 'failed']);
    expect(output.negotiations[0].failure).toMatch(/MODEL_CONFIG: OPENAI_API_KEY is not set/);
    for (const n of output.negotiations) expect(list.stdout).toContain(n.id);
    expect(status.code).toBe(1);
    expect(status.stderr.trim()).toBe(
      `parley: ${output.simulationId} is a simulation, not a negotiation; "parley list --simulation ${output.simulationId}" lists its negotiations`,
    );
  });

  it('answers an unknown negotiation id with one clear line and a non-zero exit', async () => {
    const result = await parley('status', 'no-such-negotiation');

    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('parley: no simulation or negotiation with id "no-such-negotiation"');
  });

  it('runs a worker with the tuning it is given, which serves simulations until Ctrl-C', async () => {
    const taskQueue = `cli-tuned-${Date.now()}`;
    const env = { ...process.env, TEMPORAL_ADDRESS: testAddress(), PARLEY_TASK_QUEUE: taskQueue, NO_COLOR: '1' };
    const tuned = spawn('node', [path.join(root, 'bin/parley.js'), 'worker', '--max-cached-workflows', '5'], {
      env: { ...env, PARLEY_ACTIVITY_POLLERS: '3' },
    });
    let stderr = '';
    tuned.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => tuned.on('exit', resolve));
    try {
      await eventually(
        async () => stderr,
        (text) => text.includes('Worker polling'),
      );
      const run = await promisify(execFile)(
        'node',
        [path.join(root, 'bin/parley.js'), 'run', seedScenario, '--wait', '--json'],
        {
          cwd,
          env: { ...env, OPENAI_API_KEY: '' },
        },
      );
      const output = JSON.parse(run.stdout);

      expect(stderr).toContain('maxCachedWorkflows 5, maxConcurrentActivityTaskPolls 3');
      expect(output.negotiations.map((n: { status: string }) => n.status)).toEqual([
        'no_agreement',
        'no_agreement',
        'no_agreement',
      ]);
    } finally {
      tuned.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('refuses worker tuning that is not a whole number, from a flag or the environment, with exit code 2', async () => {
    const flag = await parley('worker', '--max-cached-workflows', 'lots');
    const fromEnv = await promisify(execFile)('node', [path.join(root, 'bin/parley.js'), 'worker'], {
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', PARLEY_WORKFLOW_POLLERS: '0' },
    }).catch((e) => e);

    expect(flag.code).toBe(2);
    expect(flag.stderr.trim()).toBe(
      "error: option '--max-cached-workflows <n>' argument 'lots' is invalid. expected 0 (no cache) or a whole number from 2",
    );
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr.trim().split('\n')).toHaveLength(1);
    expect(fromEnv.stderr).toContain("value '0' from env 'PARLEY_WORKFLOW_POLLERS' is invalid");
  });

  it('says why a worker the server refuses could not start, and exits instead of hanging', async () => {
    const result = await promisify(execFile)('node', [path.join(root, 'bin/parley.js'), 'worker'], {
      env: { ...process.env, TEMPORAL_ADDRESS: testAddress(), TEMPORAL_NAMESPACE: 'no-such-namespace', NO_COLOR: '1' },
      timeout: 60_000,
    }).catch((e) => e);

    expect(result.killed).toBe(false);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^parley: the worker could not start: Namespace no-such-namespace .*not found/m);
    expect(result.stderr).not.toContain('cannot reach Temporal');
  });

  it('says where it looked when no Temporal server answers', async () => {
    const result = await promisify(execFile)('node', [path.join(root, 'bin/parley.js'), 'status', 'x'], {
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', NO_COLOR: '1' },
    }).catch((e) => e);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^parley: cannot reach Temporal at 127\.0\.0\.1:1 .*start one with "parley server"/);
  });
});
