/**
 * What an operator sees in the Temporal Web UI, checked in a real headless Chromium: a negotiation found by a
 * search attribute, its summaries, its current version through the UI's query view, and, with encryption on,
 * decoded payloads through the codec server while the stored history holds only ciphertext.
 */
import { Client, Connection } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { runScenario } from '../src/cli/run-scenario';
import { AesGcmCodec } from '../src/codec/aes-gcm-codec';
import { createCodecServer } from '../src/codec/codec-server';
import { encryptingDataConverter } from '../src/codec/data-converter';
import { keyRing } from '../src/codec/keys';
import { loadScenario } from '../src/scenario/load';
import type { Scenario } from '../src/scenario/schema';
import { startDevServer, type DevServer } from '../src/temporal/dev-server';
import { findTemporalCli } from '../src/temporal/temporal-cli';
import { createWorker, resolveModelFromEnv } from '../src/worker';
import { getCurrentProposal } from '../src/workflows/messages';
import { chromiumProblem, launchChromium, screenshot } from './support/browser';
import { startTestWorker, testClient, type RunningWorker } from './support/temporal';

const runsDir = mkdtempSync(path.join(os.tmpdir(), 'parley-web-ui-'));
/** The UI is a single-page app that loads data after navigation; a cold dev server can be slow to answer. */
const UI_TIMEOUT = 30_000;

const problem = chromiumProblem();
const describeBrowser = problem ? describe.skip : describe;
// Jest leaves the titles of a fully skipped file out of its summary, so the reason is printed as well.
if (problem) process.stderr.write(`test/web-ui.test.ts skipped: ${problem}\n`);

/** The tender where Harbor Apps' bid is accepted in round 2 and waits for a person, and Quantum Ledger's is turned away. */
function quickAgreement(): Promise<Scenario> {
  return loadScenario(path.resolve(__dirname, '../scenarios/quick-agreement.yaml'));
}

/**
 * Everything the page shows as text, frames included: the UI renders markdown (summaries, details) in sandboxed
 * iframes, whose text the main document's `innerText` leaves out.
 */
async function pageText(page: Page): Promise<string> {
  const texts = await Promise.all(
    page.frames().map((frame) =>
      frame
        .locator('body')
        .innerText({ timeout: 2_000 })
        .catch(() => ''),
    ),
  );
  return texts.join('\n');
}

/** Polls the page's text until it shows `expected`, and fails with what it showed instead. */
async function waitForText(page: Page, expected: string | RegExp, timeoutMs = UI_TIMEOUT): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await pageText(page);
    if (typeof expected === 'string' ? seen.includes(expected) : expected.test(seen)) return seen;
    if (Date.now() > deadline) {
      throw new Error(
        `the page never showed ${String(expected)} within ${timeoutMs} ms; it showed:\n${seen.slice(0, 4000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Opens the workflow list filtered by `query` and clicks `workflowId`. Visibility trails the workflow by a moment,
 * so the list is reloaded until the negotiation appears.
 */
async function openFromList(page: Page, uiUrl: string, query: string, workflowId: string, shot: string): Promise<void> {
  const link = page.getByRole('link', { name: workflowId, exact: true });
  const deadline = Date.now() + UI_TIMEOUT;
  for (;;) {
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    const found = await link.waitFor({ timeout: 5_000 }).then(
      () => true,
      () => false,
    );
    if (found) break;
    if (Date.now() > deadline) throw new Error(`${workflowId} never appeared in the Web UI list for ${query}`);
  }
  await screenshot(page, shot);
  await link.click();
  await page.waitForURL(/\/history/, { timeout: UI_TIMEOUT });
}

/** Runs a query from the workflow's Queries tab and returns the text of the page once the answer shows `expected`. */
async function runQueryInUi(page: Page, queryType: string, expected: string | RegExp): Promise<string> {
  await page.getByRole('tab', { name: 'Queries' }).click();
  await page.getByTestId('query-select-button').click({ timeout: UI_TIMEOUT });
  await page.getByRole('option', { name: queryType, exact: true }).click();
  await page.getByRole('button', { name: 'Run Query' }).click();
  return waitForText(page, expected);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describeBrowser(`the Temporal Web UI in a real browser${problem ? ` (skipped: ${problem})` : ''}`, () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(UI_TIMEOUT);
  });
  afterEach(async () => {
    await page?.close();
  });

  describe('on the suite’s dev server', () => {
    let client: Client;
    let worker: RunningWorker | undefined;

    beforeAll(async () => {
      client = await testClient();
    });
    afterAll(async () => {
      await worker?.stop();
      await client?.connection.close();
    });

    it('finds a negotiation awaiting approval by its search attribute, shows its summaries and answers getStatus', async () => {
      const uiUrl = process.env.PARLEY_TEST_UI_URL;
      if (!uiUrl) throw new Error('PARLEY_TEST_UI_URL is not set: the jest global setup should have set it');
      worker = await startTestWorker();
      const run = await runScenario(
        client,
        await quickAgreement(),
        { provider: 'offline' },
        { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
      );
      const waiting = run.outcomes!.find((o) => o.vendor === 'Harbor Apps')!;
      expect(waiting).toMatchObject({ status: 'awaiting_approval', version: 2 });

      // Scoped to this simulation too, since other tests leave negotiations waiting on the same server.
      const query = `ParleyStatus = 'awaiting_approval' AND ParleySimulationId = '${run.simulation.simulationId}'`;
      await openFromList(page, uiUrl, query, waiting.negotiationId, 'web-ui-1-list');

      // The history page: activity summaries on the timeline.
      await waitForText(page, 'Draft proposal V1 (Harbor Apps)');
      await waitForText(page, 'Review proposal V2 (Northwind Foods)');
      await screenshot(page, 'web-ui-2-history');

      // User Metadata: the static summary, the live current details and the summarized events.
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      const metadata = await waitForText(page, 'Northwind Foods ↔ Harbor Apps: Warehouse picking app');
      expect(metadata).toContain('Draft proposal V2 (Harbor Apps)');
      await waitForText(page, /awaiting_approval, round 2 of 4, Proposal V2/);
      const file = await screenshot(page, 'web-ui-3-user-metadata');
      // The README's screenshot; refreshed only on request, so a test run leaves the tree as it was.
      if (process.env.PARLEY_UPDATE_SCREENSHOT === '1')
        copyFileSync(file, path.resolve(__dirname, '../docs/web-ui.png'));

      const answer = await runQueryInUi(page, 'getStatus', '"version": 2');
      expect(answer).toContain('"status": "awaiting_approval"');
      await screenshot(page, 'web-ui-4-query');
    });
  });

  describe('with encryption on and the UI pointed at the codec server', () => {
    const ring = keyRing([{ id: 'web-ui-test', key: randomBytes(32) }]);
    const dataConverter = encryptingDataConverter(ring);
    let codecServer: Server;
    let server: DevServer;
    let client: Client;
    let stopWorker: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      // The codec server must know the UI's origin and the UI the codec server's address, so the UI port comes first.
      const uiPort = await freePort();
      codecServer = createCodecServer({
        codec: new AesGcmCodec(ring),
        origins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
        warn: () => undefined,
      });
      await new Promise<void>((resolve) => codecServer.listen(0, '127.0.0.1', resolve));
      const codecEndpoint = `http://127.0.0.1:${(codecServer.address() as AddressInfo).port}`;
      server = await startDevServer({
        executable: await findTemporalCli(),
        dbFile: null,
        uiPort,
        uiCodecEndpoint: codecEndpoint,
      });
      const connection = await Connection.connect({ address: server.address });
      client = new Client({ connection, namespace: 'default', dataConverter });
    });
    afterAll(async () => {
      await stopWorker?.();
      await client?.connection.close();
      await server?.stop();
      if (codecServer) {
        await new Promise<void>((resolve) => {
          codecServer.close(() => resolve());
          codecServer.closeAllConnections();
        });
      }
    });

    it('shows decoded proposals while the stored history holds none of their text', async () => {
      const taskQueue = `web-ui-${randomUUID()}`;
      const { worker, connection } = await createWorker({
        target: { address: server.address, namespace: 'default' },
        taskQueue,
        resolveModel: resolveModelFromEnv({}),
        dataConverter,
      });
      const running = worker.run();
      stopWorker = async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await connection.close();
      };
      const scenario = await quickAgreement();
      const run = await runScenario(
        client,
        { ...scenario, pairs: scenario.pairs.slice(0, 1) },
        { provider: 'offline' },
        { wait: true, quiet: true, taskQueue, runsDir },
      );
      const id = run.simulation.negotiations[0].negotiationId;
      expect(run.outcomes![0]).toMatchObject({ status: 'awaiting_approval', version: 2 });
      const proposal = await client.workflow.getHandle(id).query(getCurrentProposal);
      // A stretch of the proposal's own text, long enough to be found nowhere else, and free of quotes, which the
      // UI shows escaped.
      const excerpt = proposal!.technical_design
        .split(/["“”\n]/)
        .reduce((longest, part) => (part.length > longest.length ? part : longest), '')
        .trim()
        .slice(0, 60);
      expect(excerpt.length).toBeGreaterThan(30);

      // What the server stores, read with the stock CLI, which knows no codec.
      const { stdout: raw } = await promisify(execFile)(
        await findTemporalCli(),
        ['workflow', 'show', '--workflow-id', id, '--address', server.address, '--output', 'json'],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      const stored = [
        raw,
        ...[...raw.matchAll(/"data":\s*"([^"]*)"/g)].map((m) => Buffer.from(m[1], 'base64').toString('utf8')),
      ].join('\n');
      expect(stored).not.toContain(excerpt);
      expect(stored).not.toContain('a picking flow usable with gloves');
      // The summaries are payloads too.
      expect(stored).not.toContain('Draft proposal V2 (Harbor Apps)');
      expect(stored).not.toContain('Northwind Foods ↔ Harbor Apps');
      expect(raw).toContain(Buffer.from('binary/encrypted').toString('base64'));

      await openFromList(page, server.uiUrl, `ParleyStatus = 'awaiting_approval'`, id, 'web-ui-5-encrypted-list');
      // The workflow's input, decoded by the codec server: the client's needs in clear.
      await waitForText(page, 'a picking flow usable with gloves');
      await waitForText(page, 'Draft proposal V2 (Harbor Apps)');
      await screenshot(page, 'web-ui-6-encrypted-history');
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      await waitForText(page, 'Northwind Foods ↔ Harbor Apps: Warehouse picking app');
      await waitForText(page, /awaiting_approval, round 2 of 4, Proposal V2/);
      await screenshot(page, 'web-ui-7-encrypted-user-metadata');

      const answer = await runQueryInUi(page, 'getCurrentProposal', excerpt);
      expect(answer).toContain('"version": 2');
      await screenshot(page, 'web-ui-8-encrypted-query');
    });
  });
});
