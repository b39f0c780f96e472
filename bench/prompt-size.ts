import Table from 'cli-table3';
import { getEncoding } from 'js-tiktoken';
import path from 'node:path';
import { draft, review } from '../src/activities/offline-engine';
import { clientMessages, vendorMessages, type PromptMessage } from '../src/activities/prompts';
import type { DraftProposalInput, ReviewProposalInput } from '../src/activities/types';
import { clientBrief } from '../src/negotiation/brief';
import type { Proposal, Review } from '../src/negotiation/documents';
import { loadScenario } from '../src/scenario/load';

export interface PromptSizeRow {
  round: number;
  vendorTokens: number;
  clientTokens: number;
}

/**
 * Prompt tokens per round of a negotiation played by the offline engine, counted with the tokenizer of GPT-4o
 * (o200k_base). The prompts carry the brief, the latest proposal and the latest review, never the whole
 * history, so their size should level off rather than grow with the round.
 */
export async function measurePromptTokens(rounds = 6, pairIndex = 0): Promise<PromptSizeRow[]> {
  // npm scripts and jest both run from the project root, where the compiled copy of this file is not.
  const scenario = await loadScenario(path.resolve(process.cwd(), 'scenarios/seed.yaml'));
  const pair = scenario.pairs[pairIndex];
  const client = scenario.clients.find((c) => c.name === pair.client)!;
  const vendor = scenario.vendors.find((v) => v.name === pair.vendor)!;
  const encoding = getEncoding('o200k_base');
  const tokens = (messages: PromptMessage[]) => messages.reduce((sum, m) => sum + encoding.encode(m.content).length, 0);

  const rows: PromptSizeRow[] = [];
  let proposal: Proposal | undefined;
  let lastReview: Review | undefined;
  for (let round = 1; round <= rounds; round++) {
    const common = {
      negotiationId: 'bench',
      language: scenario.policy.language,
      llm: { provider: 'offline' },
    } as const;
    const drafting: DraftProposalInput = {
      ...common,
      client: clientBrief(client),
      vendor,
      version: round,
      previousProposal: proposal,
      lastReview,
    };
    const vendorTokens = tokens(vendorMessages(drafting));
    proposal = draft(drafting);
    const reviewing: ReviewProposalInput = {
      ...common,
      client,
      vendorName: vendor.name,
      round,
      maxRounds: rounds,
      proposal,
      previousReview: lastReview,
    };
    const clientTokens = tokens(clientMessages(reviewing));
    lastReview = review(reviewing);
    rows.push({ round, vendorTokens, clientTokens });
  }
  return rows;
}

async function main(): Promise<void> {
  const rows = await measurePromptTokens();
  const table = new Table({
    head: ['Round', 'Vendor prompt tokens', 'Client prompt tokens'],
    style: { head: [], border: [] },
  });
  for (const row of rows) table.push([row.round, row.vendorTokens, row.clientTokens]);
  console.log(table.toString());
  const ratio = (pick: (r: PromptSizeRow) => number) => pick(rows[5]) / pick(rows[1]);
  console.log(
    `Round 6 / round 2: vendor ${ratio((r) => r.vendorTokens).toFixed(2)}×, client ${ratio((r) => r.clientTokens).toFixed(2)}× (target ≤ 1.5×)`,
  );
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
