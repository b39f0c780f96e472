/**
 * The data converter every Parley worker and client uses: with an encryption key configured, payloads are encrypted
 * with AES-256-GCM; without one, the SDK's default (plain JSON) stands.
 */
import type { DataConverter } from '@temporalio/common';
import { AesGcmCodec } from './aes-gcm-codec';
import { keyRingFromEnv, type KeyRing } from './keys';

/** The codec the environment configures, or undefined when no key is set. Throws EncryptionKeyError on bad keys. */
export function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmCodec | undefined {
  const keys = keyRingFromEnv(env);
  return keys ? new AesGcmCodec(keys) : undefined;
}

/**
 * A data converter that encrypts with the given keys: every payload, and failure messages and stack traces (which the
 * failure converter moves into a payload).
 */
export function encryptingDataConverter(keys: KeyRing): DataConverter {
  return { payloadCodecs: [new AesGcmCodec(keys)], failureConverterPath: require.resolve('./failure-converter') };
}

/**
 * The data converter for workers and clients, from `PARLEY_ENCRYPTION_KEY` / `PARLEY_ENCRYPTION_KEYS`; undefined
 * (the SDK default) when neither is set. Throws EncryptionKeyError on bad key material.
 */
export function parleyDataConverter(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const keys = keyRingFromEnv(env);
  return keys ? encryptingDataConverter(keys) : undefined;
}

/** Whether the environment asks for encryption (without validating the keys). */
export function encryptionConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.PARLEY_ENCRYPTION_KEY?.trim() || env.PARLEY_ENCRYPTION_KEYS?.trim());
}
