import { z } from 'zod';
import type { Price } from './pricing';

const priceSchema = z
  .object({
    promptPerMillion: z.number().min(0),
    completionPerMillion: z.number().min(0),
  })
  .strict() satisfies z.ZodType<Price>;

const priceTableSchema = z.record(z.string().min(1), priceSchema);
export type PriceTable = Record<string, Price>;

/**
 * List prices of common OpenAI models when this table was written; `PARLEY_PRICES` (a JSON object of the same
 * shape) adds models or overrides these, for other providers or newer prices.
 */
export const defaultPrices: PriceTable = {
  'gpt-4o-mini': { promptPerMillion: 0.15, completionPerMillion: 0.6 },
  'gpt-4o': { promptPerMillion: 2.5, completionPerMillion: 10 },
  'gpt-4.1': { promptPerMillion: 2, completionPerMillion: 8 },
  'gpt-4.1-mini': { promptPerMillion: 0.4, completionPerMillion: 1.6 },
  'gpt-4.1-nano': { promptPerMillion: 0.1, completionPerMillion: 0.4 },
  offline: { promptPerMillion: 0, completionPerMillion: 0 },
};

/** The default table with `PARLEY_PRICES` laid over it; a malformed override is one clear error. */
export function priceTableFromEnv(env: NodeJS.ProcessEnv = process.env): PriceTable {
  const raw = env.PARLEY_PRICES?.trim();
  if (!raw) return defaultPrices;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(
      'PARLEY_PRICES: expected a JSON object such as {"my-model": {"promptPerMillion": 1, "completionPerMillion": 2}}',
    );
  }
  const result = priceTableSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`PARLEY_PRICES: ${issue.path.join('.')}: ${issue.message}`);
  }
  return { ...defaultPrices, ...result.data };
}
