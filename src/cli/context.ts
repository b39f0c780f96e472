import type { Client } from '@temporalio/client';
import type { LlmChoice } from '../activities/types';
import { connectClient, temporalTarget, type TemporalTarget } from '../temporal/connection';
import { CliError, EXIT_BAD_INPUT } from './errors';

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
  if (provider === 'openai') return { provider, model: model ?? env.PARLEY_MODEL };
  throw new CliError(`--llm: expected "offline" or "openai", got "${provider}"`, EXIT_BAD_INPUT);
}
