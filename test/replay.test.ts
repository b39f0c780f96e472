/**
 * Replays recorded histories of real runs (test/fixtures/histories, written by `npm run fixtures:histories`) against
 * the workflow code of this tree. A change that would make a running negotiation or simulation take another path
 * than the one its history records fails here: guard it with `patched()` (see the README) instead of re-recording.
 */
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import './support/temporal'; // quiets the SDK's logs

const fixtures = path.resolve(__dirname, 'fixtures/histories');
// Top-level files are the current recording; folders keep the recordings made before earlier workflow changes, so
// the old branches of every `patched()` stay covered.
const files = (readdirSync(fixtures, { recursive: true }) as string[]).filter((f) => f.endsWith('.json')).sort();

function load(file: string) {
  const json = JSON.parse(readFileSync(path.join(fixtures, file), 'utf8'));
  return temporal.api.history.v1.History.fromObject(json);
}

describe('replaying recorded histories', () => {
  it('has fixtures of simulations and negotiations, with gates, decisions, retries, a failure and webhook deliveries', () => {
    const histories = files.map((file) => ({ file, events: load(file).events }));
    const types = (name: string) =>
      histories.filter((h) =>
        h.events.some((e) => e.workflowExecutionStartedEventAttributes?.workflowType?.name === name),
      );
    const has = (predicate: (e: temporal.api.history.v1.IHistoryEvent) => boolean) =>
      histories.filter((h) => h.events.some(predicate)).length;

    expect(types('simulationWorkflow').length).toBeGreaterThanOrEqual(3);
    expect(types('negotiationWorkflow').length).toBeGreaterThanOrEqual(5);
    expect(has((e) => !!e.workflowExecutionUpdateAcceptedEventAttributes)).toBeGreaterThan(0);
    expect(has((e) => !!e.workflowExecutionSignaledEventAttributes)).toBeGreaterThan(0);
    expect(has((e) => !!e.timerStartedEventAttributes)).toBeGreaterThan(0);
    expect(has((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1)).toBeGreaterThan(0);
    expect(has((e) => !!e.activityTaskFailedEventAttributes)).toBeGreaterThan(0);
    expect(has((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyWebhook')).toBeGreaterThan(
      0,
    );
  });

  it('replays every fixture without a nondeterminism error', async () => {
    const results = Worker.runReplayHistories(
      { workflowsPath: require.resolve('../src/workflows'), replayName: 'parley-fixtures' },
      // A file is named by its workflow id, which a simulation's replay needs for its children's ids.
      files.map((file) => ({ workflowId: path.basename(file, '.json'), history: load(file) })),
    );
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of results) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }

    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  }, 120_000);
});
