import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * The workflow sandbox evaluates a negotiation's modules again for every workflow it starts or replays, so whatever
 * workflow code imports is paid for by every negotiation. Only Temporal's own packages belong in the bundle.
 */
describe('the workflow bundle', () => {
  it('holds Parley workflow code and Temporal packages, and no other library', async () => {
    const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: silent });
    const packages = new Set([...code.matchAll(/node_modules\/((?:@[^/"]+\/)?[^/"]+)\//g)].map((match) => match[1]));

    expect(packages.has('@temporalio/workflow')).toBe(true);
    const allowed = new Set([
      '@temporalio/workflow',
      '@temporalio/common',
      '@temporalio/proto',
      'nexus-rpc',
      'ms',
      'long',
    ]);
    expect([...packages].filter((name) => !allowed.has(name))).toEqual([]);
    expect(code).toContain('negotiationWorkflow');
  }, 60_000);
});
