import type { Client } from '@temporalio/client';
import type { LlmChoice } from '../activities/types';
import { connectClient, temporalTarget, type TemporalTarget } from '../temporal/connection';
import { CliError, EXIT_BAD_INPUT } from './errors';
import { DEFAULT_OPENAI_MODEL } from '../activities/openai-model';
import { priceTableFromEnv } from '../negotiation/price-table';

/** Connects to Temporal, or fails with one line saying where it looked and what to do. */
export async function connectOrExplain(target: TemporalTarget = temporalTarget()): Promise<Client> {
  try {
    return await connectClient(target);
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${target.address} (${(err as Error).message.split('\n')[0]}); ` +
        'start one with "parley server" or point TEMPORAL_ADDRESS at yours',
    );
  }
}

/** Closes the client's connection; every command that connects calls it in `finally`. */
export async function closeClient(client: Client | undefined): Promise<void> {
  await client?.connection.close();
}

/** The engine a run asks for: the flag, else OpenAI when a key is set, else the offline engine. */
export function llmChoice(flag: string | undefined, model: string | undefined, env = process.env): LlmChoice {
  const provider = flag ?? (env.OPENAI_API_KEY ? 'openai' : 'offline');
  if (provider === 'offline') return { provider };
  if (provider === 'openai') {
    const name = model ?? env.PARLEY_MODEL?.trim() ?? DEFAULT_OPENAI_MODEL;
    let prices;
    try {
      prices = priceTableFromEnv(env);
    } catch (err) {
      throw new CliError((err as Error).message, EXIT_BAD_INPUT);
    }
    // The price travels with the simulation so budgets and costs do not depend on where the workflow runs.
    return { provider, model: name, price: prices[name] };
  }
  throw new CliError(`--llm: expected "offline", "openai" or "replay:FILE", got "${provider}"`, EXIT_BAD_INPUT);
}
