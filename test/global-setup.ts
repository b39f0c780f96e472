/**
 * Jest global setup: one Temporal dev server (in memory, on free ports) for the whole run, shared through
 * `TEMPORAL_ADDRESS`. Set `TEMPORAL_ADDRESS` and `PARLEY_TEST_USE_EXISTING=1` to run the tests against your own server.
 */
import { isTemporalReachable, startDevServer, type DevServer } from '../src/temporal/dev-server';
import { findTemporalCli } from '../src/temporal/temporal-cli';

/** Where global setup leaves the server for global teardown; jest runs both in the same process. */
export interface ParleyTestGlobals {
  parleyTestServer?: DevServer;
}

export default async function globalSetup(): Promise<void> {
  const existing = process.env.TEMPORAL_ADDRESS;
  if (existing && process.env.PARLEY_TEST_USE_EXISTING === '1') {
    // Fail here with one line rather than with a connection error in every test.
    if (!(await isTemporalReachable(existing, 5_000))) {
      throw new Error(`PARLEY_TEST_USE_EXISTING=1 but no Temporal server answers at TEMPORAL_ADDRESS=${existing}`);
    }
    process.env.PARLEY_TEST_UI_URL ??= 'http://localhost:8233';
    return;
  }
  const executable = await findTemporalCli();
  const server = await startDevServer({ executable, dbFile: null });
  (globalThis as ParleyTestGlobals).parleyTestServer = server;
  process.env.TEMPORAL_ADDRESS = server.address;
  process.env.PARLEY_TEST_UI_URL = server.uiUrl;
}
