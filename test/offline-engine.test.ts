import path from 'node:path';
import { draft, review } from '../src/activities/offline-engine';
import type { DraftProposalInput, ReviewProposalInput } from '../src/activities/types';
import { clientBrief } from '../src/negotiation/brief';
import type { Proposal, Review } from '../src/negotiation/documents';
import { loadScenario } from '../src/scenario/load';
import type { Scenario } from '../src/scenario/schema';

const seedScenario = path.resolve(__dirname, '../scenarios/seed.yaml');
const agreementScenario = path.resolve(__dirname, '../scenarios/quick-agreement.yaml');

/** Plays one pair of a scenario through the engine alone, round by round, as the workflow would. */
function negotiate(scenario: Scenario, pairIndex: number): { proposals: Proposal[]; reviews: Review[] } {
  const pair = scenario.pairs[pairIndex];
  const client = scenario.clients.find((c) => c.name === pair.client)!;
  const vendor = scenario.vendors.find((v) => v.name === pair.vendor)!;
  const proposals: Proposal[] = [];
  const reviews: Review[] = [];
  for (let round = 1; round <= scenario.policy.maxRounds; round++) {
    const common = { negotiationId: 'n', language: scenario.policy.language, llm: { provider: 'offline' } } as const;
    const drafting: DraftProposalInput = {
      ...common,
      client: clientBrief(client),
      vendor,
      version: round,
      previousProposal: proposals.at(-1),
      lastReview: reviews.at(-1),
    };
    proposals.push(draft(drafting));
    const reviewing: ReviewProposalInput = {
      ...common,
      client,
      vendorName: vendor.name,
      round,
      maxRounds: scenario.policy.maxRounds,
      proposal: proposals.at(-1)!,
      previousReview: reviews.at(-1),
    };
    reviews.push(review(reviewing));
    if (['accepted', 'rejected'].includes(reviews.at(-1)!.overall_satisfaction)) break;
  }
  return { proposals, reviews };
}

describe('the offline negotiation engine', () => {
  it('writes the same documents for the same scenario', async () => {
    const scenario = await loadScenario(seedScenario);

    expect(negotiate(scenario, 0)).toEqual(negotiate(scenario, 0));
  });

  it('asks for major revisions in every round of the seed, as the reference run did', async () => {
    const scenario = await loadScenario(seedScenario);

    for (const index of [0, 1, 2]) {
      const { reviews } = negotiate(scenario, index);
      expect(reviews.map((r) => r.overall_satisfaction)).toEqual([
        'needs_major_revision',
        'needs_major_revision',
        'needs_major_revision',
      ]);
    }
  });

  it('raises in its first review a need the client held back from the brief', async () => {
    const scenario = await loadScenario(seedScenario);

    const { proposals, reviews } = negotiate(scenario, 1);

    expect(proposals[0].feature_list.some((f) => f.includes('历史轨迹回放'))).toBe(false);
    expect(reviews[0].weaknesses).toContain('方案未覆盖「历史轨迹回放与分析」。');
    expect(proposals[1].feature_list).toContain('历史轨迹回放与分析');
  });

  it('complains when the client moves its deadline below the proposed timeline', async () => {
    const scenario = await loadScenario(seedScenario);

    const { reviews } = negotiate(scenario, 1);

    expect(reviews[2].additional_requirements[0]).toMatch(/^重新制定项目计划，确保16周内完成上线/);
  });

  it('reaches an agreement when the vendor is strong in what the client needs', async () => {
    const scenario = await loadScenario(agreementScenario);

    const { reviews } = negotiate(scenario, 0);

    expect(reviews.at(-1)!.overall_satisfaction).toBe('accepted');
  });

  it('lets a client walk away from a vendor that cannot cover its needs', async () => {
    const scenario = await loadScenario(agreementScenario);

    const { reviews } = negotiate(scenario, 1);

    expect(reviews.at(-1)!.overall_satisfaction).toBe('rejected');
  });

  it('scores the same proposal lower when it omits a need the client holds', async () => {
    const scenario = await loadScenario(agreementScenario);
    const { proposals } = negotiate(scenario, 0);
    const client = scenario.clients[0];
    const full = proposals[0];
    const trimmed = {
      ...full,
      feature_list: full.feature_list.slice(1),
      technical_design: full.technical_design
        .split('\n')
        .filter((l) => !l.includes(full.feature_list[0]))
        .join('\n'),
    };
    const input = {
      negotiationId: 'n',
      language: scenario.policy.language,
      llm: { provider: 'offline' },
      client,
      vendorName: 'V',
      round: 1,
      maxRounds: 3,
    } as const;

    const weaknessesFull = review({ ...input, proposal: full }).weaknesses;
    const weaknessesTrimmed = review({ ...input, proposal: trimmed }).weaknesses;

    expect(weaknessesTrimmed.length).toBeGreaterThan(weaknessesFull.length);
    expect(weaknessesTrimmed).toContain(`The proposal does not cover “${full.feature_list[0]}”.`);
  });
});
