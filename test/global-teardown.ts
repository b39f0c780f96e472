/** Jest global teardown: stops the dev server that global setup started, if it started one. */
import type { ParleyTestGlobals } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const globals = globalThis as ParleyTestGlobals;
  await globals.parleyTestServer?.stop();
  globals.parleyTestServer = undefined;
}
