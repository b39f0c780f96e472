/**
 * A codec server for the Temporal Web UI: `POST /encode` and `POST /decode` take and return
 * `{"payloads": [{"metadata": {"<key>": "<base64>"}, "data": "<base64>"}]}`, as the UI's remote codec endpoint
 * expects. CORS answers only the configured UI origins; a bearer token, when set, is required on every POST.
 */
import type { Payload, PayloadCodec } from '@temporalio/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Browser origins allowed to call the server, e.g. `http://localhost:8233`. */
  origins: readonly string[];
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest request body accepted; 32 MiB by default. */
  maxBodyBytes?: number;
  /** Where failures to decode a payload are reported; stderr by default. */
  warn?: (message: string) => void;
}

/** The headers the Web UI sends with its codec requests. */
const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** An HTTP server (not yet listening) that encodes and decodes payloads with `codec`. */
export function createCodecServer(options: CodecServerOptions): Server {
  const origins = new Set(options.origins.map(normalizeOrigin));
  const maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
  const tokenDigest = options.token ? sha256(options.token) : undefined;

  return createServer((req, res) => {
    const origin = req.headers.origin;
    if (origin && origins.has(normalizeOrigin(origin))) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.setHeader('Vary', 'Origin');

    const path = (req.url ?? '/').split('?')[0].replace(/\/+$/, '');
    const operation = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;

    if (req.method === 'OPTIONS') {
      // A preflight never carries credentials; an origin outside the list gets no CORS headers, so the browser refuses.
      res.writeHead(204).end();
      return;
    }
    if (!operation) return reply(res, 404, { error: 'not found: POST /encode or /decode' });
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      return reply(res, 405, { error: 'method not allowed: use POST' });
    }
    if (tokenDigest && !authorized(req, tokenDigest)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      // Drain the body so the connection can be reused, but never look at it.
      req.resume();
      return reply(res, 401, { error: 'unauthorized' });
    }

    readBody(req, maxBodyBytes)
      .then(async (body) => {
        if (body === 'too-large') return reply(res, 413, { error: `request body over ${maxBodyBytes} bytes` });
        let payloads: Payload[];
        try {
          payloads = parsePayloads(body);
        } catch (error) {
          return reply(res, 400, { error: (error as Error).message });
        }
        const result =
          operation === 'encode'
            ? await options.codec.encode(payloads)
            : await decodeEach(options.codec, payloads, warn);
        reply(res, 200, { payloads: result.map(toJson) });
      })
      .catch((error: unknown) => {
        warn(`codec server: ${operation} failed: ${(error as Error).message}`);
        if (!res.headersSent) reply(res, 500, { error: `${operation} failed` });
      });
  });
}

/**
 * Decodes payload by payload: one that cannot be decrypted (an unknown key id, say) is returned as it is, so the UI
 * still shows everything else.
 */
async function decodeEach(
  codec: PayloadCodec,
  payloads: Payload[],
  warn: (message: string) => void,
): Promise<Payload[]> {
  return Promise.all(
    payloads.map(async (payload) => {
      try {
        return (await codec.decode([payload]))[0];
      } catch (error) {
        warn(`codec server: left a payload encoded: ${(error as Error).message}`);
        return payload;
      }
    }),
  );
}

function authorized(req: IncomingMessage, tokenDigest: Buffer): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match !== null && timingSafeEqual(sha256(match[1].trim()), tokenDigest);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function normalizeOrigin(origin: string): string {
  return origin.trim().replace(/\/+$/, '').toLowerCase();
}

function readBody(req: IncomingMessage, limit: number): Promise<string | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parsePayloads(body: string): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error('expected a JSON body');
  }
  const payloads = (parsed as { payloads?: unknown })?.payloads;
  if (!Array.isArray(payloads)) throw new Error('expected {"payloads": [...]}');
  return payloads.map((payload: JsonPayload, index) => {
    if (typeof payload !== 'object' || payload === null) throw new Error(`payloads[${index}]: expected an object`);
    const metadata: Record<string, Uint8Array> = {};
    for (const [key, value] of Object.entries(payload.metadata ?? {})) {
      if (typeof value !== 'string') throw new Error(`payloads[${index}].metadata.${key}: expected base64 text`);
      metadata[key] = Buffer.from(value, 'base64');
    }
    if (payload.data !== undefined && typeof payload.data !== 'string') {
      throw new Error(`payloads[${index}].data: expected base64 text`);
    }
    return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
  });
}

function toJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    if (value) metadata[key] = Buffer.from(value).toString('base64');
  }
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}
