/**
 * Encryption keys from the environment.
 *
 * - `PARLEY_ENCRYPTION_KEY`: one key, 32 bytes as base64 or hex, optionally `id:key`. Without an id, the id is derived
 *   from a hash of the key, so every process configured with the same key agrees on it.
 * - `PARLEY_ENCRYPTION_KEYS`: several `id:key` entries separated by commas or whitespace, so histories written with an
 *   older key stay readable after a change.
 *
 * The primary key (the one that encrypts) is `PARLEY_ENCRYPTION_KEY` when set, else the first entry of
 * `PARLEY_ENCRYPTION_KEYS`; every configured key decrypts. No key at all means no encryption.
 *
 * Errors name the variable and the entry, never the key material.
 */
import { createHash } from 'node:crypto';

export const KEY_VARIABLE = 'PARLEY_ENCRYPTION_KEY';
export const KEYS_VARIABLE = 'PARLEY_ENCRYPTION_KEYS';

/** AES-256 needs 32 bytes of key. */
export const KEY_BYTES = 32;

export interface EncryptionKey {
  /** Travels in every payload's metadata (`encryption-key-id`), so the right key is found when decrypting. */
  readonly id: string;
  readonly key: Buffer;
}

export interface KeyRing {
  /** Encrypts every new payload. */
  readonly primary: EncryptionKey;
  /** Every key that decrypts, by id; includes the primary. */
  readonly byId: ReadonlyMap<string, EncryptionKey>;
}

/** Bad key material in the environment; the message is one line that names the variable and never the key. */
export class EncryptionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionKeyError';
  }
}

const ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** The key ring the environment configures, or undefined when neither variable is set. */
export function keyRingFromEnv(env: NodeJS.ProcessEnv = process.env): KeyRing | undefined {
  const single = env[KEY_VARIABLE]?.trim();
  const several = env[KEYS_VARIABLE]?.trim();
  const keys: EncryptionKey[] = [];
  if (single) keys.push(parseEntry(single, KEY_VARIABLE));
  if (several) {
    several
      .split(/[\s,]+/)
      .filter(Boolean)
      .forEach((entry, index) => keys.push(parseEntry(entry, `${KEYS_VARIABLE} (entry ${index + 1})`, true)));
  }
  if (keys.length === 0) return undefined;
  return keyRing(keys);
}

/** A key ring from keys already parsed; the first one is the primary. */
export function keyRing(keys: readonly EncryptionKey[]): KeyRing {
  if (keys.length === 0) throw new EncryptionKeyError('no encryption key given');
  const byId = new Map<string, EncryptionKey>();
  for (const key of keys) {
    const known = byId.get(key.id);
    if (known && !known.key.equals(key.key)) {
      throw new EncryptionKeyError(
        `${KEY_VARIABLE}/${KEYS_VARIABLE}: the key id "${key.id}" is given twice with different keys`,
      );
    }
    byId.set(key.id, key);
  }
  return { primary: keys[0], byId };
}

/** The id Parley gives a key that was configured without one: a short hash of the key. */
export function derivedKeyId(key: Buffer): string {
  return `k${createHash('sha256').update('parley-key-id').update(key).digest('hex').slice(0, 12)}`;
}

/** Parses `key` or `id:key`; `where` names the variable (and entry) in errors. */
export function parseEntry(entry: string, where: string, idRequired = false): EncryptionKey {
  const colon = entry.indexOf(':');
  const id = colon >= 0 ? entry.slice(0, colon).trim() : undefined;
  const material = (colon >= 0 ? entry.slice(colon + 1) : entry).trim();
  if (id !== undefined && !ID_PATTERN.test(id)) {
    throw new EncryptionKeyError(
      `${where}: the key id must be 1 to 64 letters, digits, dots, dashes or underscores before the ":"`,
    );
  }
  if (idRequired && id === undefined) {
    throw new EncryptionKeyError(`${where}: expected "id:key", e.g. "2025-06:<32 bytes as base64 or hex>"`);
  }
  const key = decodeKey(material);
  if (!key) {
    throw new EncryptionKeyError(
      `${where}: expected a ${KEY_BYTES}-byte key as base64 (44 characters) or hex (64 characters)` +
        (id === undefined ? ', optionally prefixed with "id:"' : '') +
        `; got ${describeMaterial(material)} (generate one with: openssl rand -base64 32)`,
    );
  }
  return { id: id ?? derivedKeyId(key), key };
}

function decodeKey(material: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(material)) return Buffer.from(material, 'hex');
  // Standard or URL-safe base64, with or without padding.
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(material)) {
    const key = Buffer.from(material.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  return undefined;
}

/** What the material looks like, without revealing any of it. */
function describeMaterial(material: string): string {
  if (material.length === 0) return 'nothing';
  return `${material.length} characters`;
}
