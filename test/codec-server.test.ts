import type { Payload } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AesGcmCodec } from '../src/codec/aes-gcm-codec';
import { createCodecServer } from '../src/codec/codec-server';
import { keyRing } from '../src/codec/keys';

const UI = 'http://localhost:8233';
const TOKEN = 'codec-token-for-tests';

/** A payload as the Web UI sends it: metadata values and data in base64. */
function jsonPayload(text: string) {
  return {
    metadata: { encoding: Buffer.from('json/plain').toString('base64') },
    data: Buffer.from(JSON.stringify(text)).toString('base64'),
  };
}

describe('the codec server for the Web UI', () => {
  const codec = new AesGcmCodec(keyRing([{ id: 'ui-test', key: randomBytes(32) }]));
  let decodeCalls = 0;
  const counting = {
    encode: (payloads: Payload[]) => codec.encode(payloads),
    decode: (payloads: Payload[]) => {
      decodeCalls++;
      return codec.decode(payloads);
    },
  };
  const warnings: string[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createCodecServer({ codec: counting, origins: [UI], token: TOKEN, warn: (m) => warnings.push(m) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  function post(path: string, body: unknown, headers: Record<string, string> = {}) {
    return fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Namespace': 'default',
        Origin: UI,
        Authorization: `Bearer ${TOKEN}`,
        ...headers,
      },
      body: JSON.stringify(body),
    });
  }

  it('encodes and decodes payloads in the remote codec protocol', async () => {
    const original = [jsonPayload('技术方案: 实时推荐'), jsonPayload('technical_design')];
    const encoded = await post('/encode', { payloads: original });
    expect(encoded.status).toBe(200);
    const { payloads: encrypted } = (await encoded.json()) as { payloads: typeof original };
    expect(Buffer.from(encrypted[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encrypted[1].data, 'base64').toString('latin1')).not.toContain('technical_design');

    const decoded = await post('/decode', { payloads: encrypted });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(UI);
    expect(await decoded.json()).toEqual({ payloads: original });
  });

  it('decodes what a worker encrypted, leaves plain payloads as they are, and keeps undecodable ones encoded', async () => {
    const [byWorker] = await codec.encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"bid"') },
    ]);
    const [foreign] = await new AesGcmCodec(keyRing([{ id: 'other', key: randomBytes(32) }])).encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') },
    ]);
    const asJson = (p: Payload) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
      ),
      data: Buffer.from(p.data!).toString('base64'),
    });
    const response = await post('/decode', { payloads: [asJson(byWorker), jsonPayload('plain'), asJson(foreign)] });
    const { payloads } = (await response.json()) as { payloads: { data: string }[] };
    expect(payloads.map((p) => Buffer.from(p.data, 'base64').toString())).toEqual([
      '"bid"',
      '"plain"',
      Buffer.from(foreign.data!).toString(),
    ]);
    expect(warnings.join('\n')).toMatch(/key id "other"/);
  });

  it('answers the preflight with CORS headers for the UI origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${base}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type,x-namespace,authorization',
        },
      });
    const allowed = await preflight(UI);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    const allowedHeaders = allowed.headers.get('access-control-allow-headers')!.toLowerCase();
    for (const header of ['content-type', 'x-namespace', 'authorization']) expect(allowedHeaders).toContain(header);

    const other = await preflight('http://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('access-control-allow-headers')).toBeNull();
    const otherPost = await post('/decode', { payloads: [] }, { Origin: 'http://evil.example' });
    expect(otherPost.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a missing or wrong token with 401 and decodes nothing', async () => {
    const before = decodeCalls;
    const wrong = await post('/decode', { payloads: [jsonPayload('x')] }, { Authorization: 'Bearer not-the-token' });
    const missing = await post('/decode', { payloads: [jsonPayload('x')] }, { Authorization: '' });
    expect(wrong.status).toBe(401);
    expect(missing.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect(await wrong.json()).toEqual({ error: 'unauthorized' });
    expect(decodeCalls).toBe(before);
  });

  it('answers bad requests with 400, 404 and 405', async () => {
    expect((await post('/decode', { nope: true })).status).toBe(400);
    expect((await post('/elsewhere', { payloads: [] })).status).toBe(404);
    expect((await fetch(`${base}/decode`)).status).toBe(405);
  });
});
