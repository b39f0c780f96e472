import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveModelFromEnv } from '../src/worker';
import { AesGcmCodec, ENCRYPTED_ENCODING, PayloadDecryptionError, isEncrypted } from '../src/codec/aes-gcm-codec';
import { createCodecServer } from '../src/codec/codec-server';
import { encryptingDataConverter, parleyDataConverter } from '../src/codec/data-converter';
import { EncryptionKeyError, derivedKeyId, keyRing, keyRingFromEnv, type EncryptionKey } from '../src/codec/keys';
import { runScenario } from '../src/cli/run-scenario';
import { negotiationStatus } from '../src/cli/simulations';
import { transcriptOf } from '../src/cli/transcripts';
import { loadScenario } from '../src/scenario/load';
import type { Policy, Scenario } from '../src/scenario/schema';
import { findTemporalCli } from '../src/temporal/temporal-cli';
import { decisionUpdates } from '../src/workflows/messages';
import { FakeOpenAiServer, faults } from './support/fake-openai-server';
import { startTestWorker, testAddress, testClient, type RunningWorker } from './support/temporal';

const runsDir = mkdtempSync(path.join(os.tmpdir(), 'parley-encryption-'));
/** A need of the tender's client: it reaches the proposals, so it must never be stored in clear. */
const ASK = 'a picking flow usable with gloves';

function newKey(id: string): EncryptionKey {
  return { id, key: randomBytes(32) };
}

async function tender(policy: Partial<Policy> = {}): Promise<Scenario> {
  const scenario = await loadScenario(path.resolve(__dirname, '../scenarios/quick-agreement.yaml'));
  return { ...scenario, policy: { ...scenario.policy, ...policy }, pairs: scenario.pairs.slice(0, 1) };
}

/** The history exactly as the server stores it, through the Temporal CLI (which knows no codec). */
async function storedHistory(
  workflowId: string,
  codecEndpoint?: string,
): Promise<{ raw: string; payloads: Payload[] }> {
  const { stdout } = await promisify(execFile)(
    await findTemporalCli(),
    [
      ...['workflow', 'show', '--workflow-id', workflowId, '--address', testAddress(), '--output', 'json'],
      ...(codecEndpoint ? ['--codec-endpoint', codecEndpoint] : []),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const payloads: Payload[] = [];
  // Search attributes are never encrypted (the server indexes them); they, like everything, are checked as raw text.
  const visit = (node: unknown, key = ''): void => {
    if (key === 'searchAttributes') return;
    if (Array.isArray(node)) return node.forEach((item) => visit(item));
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    // The SDK writes its patch markers itself (a patch id, no Parley data), outside the codec.
    if (record.markerName === 'core_patch') return;
    if (typeof record.data === 'string' && record.metadata && typeof record.metadata === 'object') {
      payloads.push({
        metadata: Object.fromEntries(
          Object.entries(record.metadata as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
        ),
        data: Buffer.from(record.data, 'base64'),
      });
    }
    Object.entries(record).forEach(([k, v]) => visit(v, k));
  };
  visit(JSON.parse(stdout));
  return { raw: stdout, payloads };
}

/** Everything a reader of the stored history could see: the JSON, and every payload's bytes as text. */
function readable(history: { raw: string; payloads: Payload[] }): string {
  return [history.raw, ...history.payloads.map((p) => Buffer.from(p.data ?? []).toString('utf8'))].join('\n');
}

/** Fails with a short excerpt around the first occurrence, rather than the whole history. */
function expectAbsent(text: string, needle: string): void {
  const at = text.indexOf(needle);
  if (at >= 0)
    throw new Error(`found "${needle}" in the stored history: ...${text.slice(Math.max(0, at - 150), at + 150)}...`);
}

function metadataText(payload: Payload, key: string): string | undefined {
  const value = payload.metadata?.[key];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}

describe('encryption keys from the environment', () => {
  const base64Key = randomBytes(32).toString('base64');
  const hexKey = randomBytes(32).toString('hex');

  it('reads one key as base64 or hex, with a derived id or its own', () => {
    const derived = keyRingFromEnv({ PARLEY_ENCRYPTION_KEY: base64Key })!;
    expect(derived.primary.id).toBe(derivedKeyId(Buffer.from(base64Key, 'base64')));
    expect(derived.primary.key.toString('base64')).toBe(base64Key);
    expect(keyRingFromEnv({ PARLEY_ENCRYPTION_KEY: `2025-06:${hexKey}` })!.primary).toEqual({
      id: '2025-06',
      key: Buffer.from(hexKey, 'hex'),
    });
    expect(keyRingFromEnv({})).toBeUndefined();
    expect(parleyDataConverter({ PARLEY_ENCRYPTION_KEY: ' ' })).toBeUndefined();
  });

  it('takes several keys: the first (or PARLEY_ENCRYPTION_KEY) encrypts, all decrypt', () => {
    const ring = keyRingFromEnv({ PARLEY_ENCRYPTION_KEYS: `new:${base64Key}, old:${hexKey}` })!;
    expect(ring.primary.id).toBe('new');
    expect([...ring.byId.keys()]).toEqual(['new', 'old']);
    const both = keyRingFromEnv({
      PARLEY_ENCRYPTION_KEY: `now:${hexKey}`,
      PARLEY_ENCRYPTION_KEYS: `was:${base64Key}`,
    })!;
    expect(both.primary.id).toBe('now');
    expect([...both.byId.keys()]).toEqual(['now', 'was']);
  });

  it.each([
    [{ PARLEY_ENCRYPTION_KEY: 'c2VjcmV0LXRvby1zaG9ydA==' }, /^PARLEY_ENCRYPTION_KEY: expected a 32-byte key/],
    [{ PARLEY_ENCRYPTION_KEY: `bad id!:${base64Key}` }, /^PARLEY_ENCRYPTION_KEY: the key id must be/],
    [{ PARLEY_ENCRYPTION_KEYS: `a:${base64Key} ${hexKey}` }, /^PARLEY_ENCRYPTION_KEYS \(entry 2\): expected "id:key"/],
    [{ PARLEY_ENCRYPTION_KEYS: `a:${base64Key},a:${hexKey}` }, /the key id "a" is given twice/],
  ])('refuses bad key material in one line that names the variable and not the key (%#)', (env, message) => {
    const error = (() => {
      try {
        keyRingFromEnv(env);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(EncryptionKeyError);
    expect(error!.message).toMatch(message);
    expect(error!.message).not.toContain('\n');
    for (const secret of ['c2VjcmV0LXRvby1zaG9ydA', base64Key, hexKey]) expect(error!.message).not.toContain(secret);
  });
});

describe('the AES-GCM payload codec', () => {
  const a = newKey('a');
  const b = newKey('b');
  const plain: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"secret":"bid"}') };

  it('round-trips a payload, with a fresh IV each time and the key id in the metadata', async () => {
    const codec = new AesGcmCodec(keyRing([a]));
    const [one, two] = await codec.encode([plain, plain]);
    expect(metadataText(one, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(metadataText(one, 'encryption-key-id')).toBe('a');
    expect(Buffer.from(one.data!).equals(Buffer.from(two.data!))).toBe(false);
    expect(Buffer.from(one.data!).toString('latin1')).not.toContain('secret');
    const [decoded] = await codec.decode([one]);
    expect(Buffer.from(decoded.data!).toString()).toBe('{"secret":"bid"}');
    expect(metadataText(decoded, 'encoding')).toBe('json/plain');
  });

  it('leaves plain payloads as they are, and refuses unknown keys and altered data', async () => {
    const [byA] = await new AesGcmCodec(keyRing([a])).encode([plain]);
    const onlyB = new AesGcmCodec(keyRing([b]));
    expect(await onlyB.decode([plain])).toEqual([plain]);
    await expect(onlyB.decode([byA])).rejects.toThrow(/key id "a", which is not among the keys configured/);
    const wrongKeySameId = new AesGcmCodec(keyRing([{ id: 'a', key: b.key }]));
    await expect(wrongKeySameId.decode([byA])).rejects.toBeInstanceOf(PayloadDecryptionError);
    const altered = { ...byA, data: Buffer.from(byA.data!).fill(0, 20, 21) };
    await expect(new AesGcmCodec(keyRing([a])).decode([altered])).rejects.toThrow(/does not authenticate/);
    // The key id is authenticated too: relabelling a payload for another key fails.
    const relabelled = { ...byA, metadata: { ...byA.metadata, 'encryption-key-id': Buffer.from('b') } };
    await expect(new AesGcmCodec(keyRing([a, { id: 'b', key: a.key }])).decode([relabelled])).rejects.toThrow(
      /does not authenticate/,
    );
  });
});

describe('confidential bids on a real Temporal server', () => {
  const keyA = newKey('key-a');
  const keyB = newKey('key-b');
  let clientA: Client;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    clientA = await testClient(encryptingDataConverter(keyRing([keyA])));
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });
  afterAll(async () => {
    await clientA.connection.close();
  });

  it('stores no plaintext of any proposal, yet Parley reads it, also after a key change', async () => {
    worker = await startTestWorker(undefined, undefined, { dataConverter: encryptingDataConverter(keyRing([keyA])) });
    const taskQueue = worker.taskQueue;
    const run = await runScenario(
      clientA,
      await tender(),
      { provider: 'offline' },
      { wait: true, quiet: true, taskQueue, runsDir },
    );
    const [outcome] = run.outcomes!;
    // The client's agent accepted; the negotiation now waits for a person, with its history written under key A.
    expect(outcome.status).toBe('awaiting_approval');
    const id = outcome.negotiationId;

    const stored = await storedHistory(id);
    const text = readable(stored);
    expectAbsent(text, ASK);
    expectAbsent(text, 'technical_design');
    const encoded = stored.payloads.filter((p) => metadataText(p, 'encoding') !== undefined);
    expect(encoded.length).toBeGreaterThan(5);
    expect(encoded.filter((p) => !isEncrypted(p))).toEqual([]);
    expect(new Set(encoded.map((p) => metadataText(p, 'encryption-key-id')))).toEqual(new Set(['key-a']));
    // The check can see plaintext: the same stored payloads, decrypted, hold the proposal.
    const decrypted = await new AesGcmCodec(keyRing([keyA])).decode(encoded);
    const decryptedText = decrypted.map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('\n');
    expect(decryptedText).toContain(ASK);
    expect(decryptedText).toContain('technical_design');

    // Temporal's own tools read it through the codec server, as the Web UI does.
    const codecServer = createCodecServer({ codec: new AesGcmCodec(keyRing([keyA])), origins: [] });
    await new Promise<void>((resolve) => codecServer.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(codecServer.address() as AddressInfo).port}`;
      expect(readable(await storedHistory(id, endpoint))).toContain(ASK);
    } finally {
      await new Promise((resolve) => codecServer.close(resolve));
    }

    // Parley's own reads decrypt: a query answered by the worker, rendered as the transcript.
    expect(await transcriptOf(clientA, id)).toMatch(/"technical_design"/);
    // Without the key, nothing is readable.
    const plainClient = await testClient(undefined);
    try {
      await expect(transcriptOf(plainClient, id)).rejects.toThrow();
    } finally {
      await plainClient.connection.close();
    }

    // Key rotation: B encrypts from now on, A still decrypts. A fresh worker replays the history written under A.
    await worker.stop();
    const rotated = encryptingDataConverter(keyRing([keyB, keyA]));
    worker = await startTestWorker(undefined, taskQueue, { dataConverter: rotated });
    const clientBA = await testClient(rotated);
    const clientB = await testClient(encryptingDataConverter(keyRing([keyB])));
    try {
      expect(await transcriptOf(clientBA, id)).toContain(ASK);
      const decision = await clientBA.workflow
        .getHandle(id)
        .executeUpdate(decisionUpdates.approve, { args: [{ by: 'rotation' }] });
      expect(decision.status).toBe('agreed');
      await clientBA.workflow.getHandle(run.simulation.simulationId).result();
      expect(await negotiationStatus(clientBA, id)).toMatchObject({ status: 'agreed', decidedBy: 'ops:rotation' });
      const transcript = await transcriptOf(clientBA, run.simulation.simulationId);
      expect(transcript).toContain('Approved Proposal V');
      expect(transcript).toContain('"technical_design"');

      const after = await storedHistory(id);
      expectAbsent(readable(after), ASK);
      expectAbsent(readable(after), 'technical_design');
      const ids = new Set(after.payloads.filter(isEncrypted).map((p) => metadataText(p, 'encryption-key-id')));
      expect(ids).toEqual(new Set(['key-a', 'key-b']));
      // The result was written under B, so a reader with only A cannot read it; a reader with only B cannot read what
      // was written before the change (the memo, the input).
      await expect(clientA.workflow.getHandle(id).result()).rejects.toThrow(/key id "key-b"/);
      await expect(clientB.workflow.getHandle(id).result()).resolves.toMatchObject({ status: 'agreed' });
      // A simulation's log still renders; the pair it cannot read says why, naming the missing key.
      expect(await transcriptOf(clientB, run.simulation.simulationId)).toMatch(/\| Notice \| .*key id "key-a"/);
    } finally {
      await clientBA.connection.close();
      await clientB.connection.close();
    }
  });

  it('never puts the model API key into a history or a transcript', async () => {
    const apiKey = `sk-parley-encryption-test-${randomBytes(8).toString('hex')}`;
    const fake = await FakeOpenAiServer.start();
    try {
      worker = await startTestWorker(
        resolveModelFromEnv({ OPENAI_API_KEY: apiKey, OPENAI_BASE_URL: fake.baseURL }),
        undefined,
        {
          dataConverter: encryptingDataConverter(keyRing([keyA])),
        },
      );
      // One failed attempt first: its error message is kept in the history, and is encrypted too.
      fake.enqueue(faults.serverError());
      const scenario = await tender({ maxRounds: 1, approval: 'auto' });
      const run = await runScenario(
        clientA,
        scenario,
        { provider: 'openai', model: 'test-model' },
        { wait: true, quiet: true, taskQueue: worker.taskQueue, runsDir },
      );
      expect(fake.requests.length).toBeGreaterThanOrEqual(2);
      expect(fake.requests[0].headers.authorization).toBe(`Bearer ${apiKey}`);

      const ids = [run.simulation.simulationId, ...run.simulation.negotiations.map((n) => n.negotiationId)];
      for (const workflowId of ids) {
        const stored = await storedHistory(workflowId);
        const decrypted = await new AesGcmCodec(keyRing([keyA])).decode(stored.payloads);
        const everything =
          readable(stored) + decrypted.map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('\n');
        expectAbsent(everything, apiKey);
        expectAbsent(everything, apiKey.slice(-16));
      }
      expect(await transcriptOf(clientA, run.simulation.simulationId)).not.toContain(apiKey);

      const negotiation = await storedHistory(run.simulation.negotiations[0].negotiationId);
      expect(negotiation.raw).toContain('"lastFailure"');
      expect(negotiation.raw).toContain('Encoded failure');
      expectAbsent(readable(negotiation), 'server had an error');
    } finally {
      await fake.close();
    }
  });
});
