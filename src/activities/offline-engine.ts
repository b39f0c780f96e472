import { deadlineAt, needsKnownBy } from '../negotiation/brief';
import type { Proposal, Review, Satisfaction } from '../negotiation/documents';
import { topics, type Deadline, type Language, type Need, type Topic } from '../scenario/schema';
import { phrasebooks, quote, quotes, tag } from './offline-text';
import type { DraftProposalInput, NegotiationModel, ReviewProposalInput } from './types';

/** An ask as the vendor understands it: the client's words and the topic they belong to. */
interface Item {
  topic: Topic;
  ask: string;
}

/**
 * The deterministic negotiation engine: no network, same scenario in, same documents out. The vendor works
 * from what the client has told it (the brief, then each review's requests); the client scores each proposal
 * against the needs it holds by that round, some of which it reveals only later, and against its deadline.
 */
export class OfflineEngine implements NegotiationModel {
  readonly provider = 'offline' as const;
  readonly model = 'offline';

  async draftProposal(input: DraftProposalInput): Promise<Proposal> {
    return draft(input);
  }

  async reviewProposal(input: ReviewProposalInput): Promise<Review> {
    return review(input);
  }
}

export function draft(input: DraftProposalInput): Proposal {
  const { language, vendor, client, version, previousProposal, lastReview } = input;
  const words = sentences[language];
  const book = phrasebooks[language];

  const requested = lastReview ? itemsIn(language, lastReview.additional_requirements) : [];
  const fullBefore = previousProposal ? itemsIn(language, [previousProposal.technical_design]) : [];
  const items = unique([...client.needs.map(({ topic, ask }) => ({ topic, ask })), ...fullBefore, ...requested]);

  // A vendor always writes out its strengths in full, keeps what it already worked out, and works out a share
  // of the client's open requests each round (its diligence), the rest staying an outline.
  const isFull = (item: Item) =>
    vendor.strengths.includes(item.topic) ||
    fullBefore.some((f) => f.ask === item.ask) ||
    (requested.some((r) => r.ask === item.ask) && chance(vendor.name, item.ask, version) < vendor.diligence);
  const full = items.filter(isFull);
  const outline = items.filter((item) => !isFull(item));

  const newlyFull = full.filter(
    (item) => !vendor.strengths.includes(item.topic) && !fullBefore.some((f) => f.ask === item.ask),
  );
  let weeks = (previousProposal && weeksIn(previousProposal.timeline)) || vendor.baseWeeks;
  weeks += newlyFull.length;
  const demanded = lastReview ? demandedWeeks(lastReview.additional_requirements) : undefined;
  if (demanded !== undefined && weeks > demanded) {
    weeks = chance(vendor.name, 'deadline', version) < vendor.diligence ? demanded : Math.max(demanded, weeks - 2);
  }

  // Requests in the client's feedback that the engine did not write itself come from people (`parley revise`);
  // the vendor answers each one in its own words, since it cannot score them.
  const personal = (lastReview?.additional_requirements ?? []).filter(
    (r) => itemsIn(language, [r]).length === 0 && demandedWeeks([r]) === undefined,
  );

  const design = [
    words.designIntro(vendor.name, vendor.profile, client.project),
    ...personal.map((request) => words.personalRequest(request)),
    ...full.map((item) =>
      words.fullItem(tag(language, book[item.topic].label), quote(language, item.ask), book[item.topic].approach),
    ),
    outline.length ? words.outlineNote(outline.map((i) => i.ask)) : '',
  ].filter(Boolean);

  return {
    version,
    technical_design: design.join(words.paragraph),
    feature_list: [...items.map((item) => item.ask), ...personal],
    implementation_plan: words.plan(phases(weeks)),
    timeline: words.timeline(weeks, phases(weeks)),
    risk_analysis: words.risks(
      unique([...outline, ...full.filter((i) => !vendor.strengths.includes(i.topic))]).map((i) =>
        words.riskItem(quote(language, i.ask), book[i.topic].risk),
      ),
    ),
  };
}

export function review(input: ReviewProposalInput): Review {
  const { language, client, round, proposal } = input;
  const words = sentences[language];
  const book = phrasebooks[language];
  const needs = needsKnownBy(client, round);
  const deadline = deadlineAt(client, round);

  const fullInDesign = new Set(itemsIn(language, [proposal.technical_design]).map((i) => i.ask));
  const coverage = (need: Need) =>
    fullInDesign.has(need.ask)
      ? 'full'
      : proposal.feature_list.some((f) => f.includes(need.ask))
        ? 'outline'
        : 'missing';
  const credit = { full: 1, outline: 0.4, missing: 0 } as const;

  const totalWeight = needs.reduce((sum, n) => sum + n.weight, 0);
  const coveredWeight = needs.reduce((sum, n) => sum + n.weight * credit[coverage(n)], 0);
  const weeks = weeksIn(proposal.timeline);
  const meetsDeadline = weeks !== undefined && weeks <= deadline.weeks;
  const score = Math.max(0, coveredWeight / totalWeight - (meetsDeadline ? 0 : 0.2));

  const open = needs
    .filter((n) => coverage(n) !== 'full')
    .sort((a, b) => b.weight - a.weight || needs.indexOf(a) - needs.indexOf(b));
  const satisfaction = judge(score, meetsDeadline, round, client.acceptAt, client.rejectBelow);

  const weaknesses = [
    ...(meetsDeadline ? [] : [words.lateWeakness(weeks, deadline)]),
    ...open.map((n) =>
      coverage(n) === 'missing'
        ? words.missingWeakness(quote(language, n.ask))
        : words.outlineWeakness(quote(language, n.ask)),
    ),
  ];
  const additional_requirements = [
    ...(meetsDeadline ? [] : [words.deadlineRequirement(deadline)]),
    ...open.map((n) => words.needRequirement(quote(language, n.ask), book[n.topic].label)),
  ];
  const revision_priority = [
    ...(meetsDeadline ? [] : [`Critical: ${words.deadlinePriority(deadline)}`]),
    ...open.map((n) => `${n.weight >= 3 ? 'Critical' : n.weight === 2 ? 'High' : 'Medium'}: ${quote(language, n.ask)}`),
  ];

  return {
    overall_satisfaction: satisfaction,
    weaknesses,
    additional_requirements,
    revision_priority,
    expected_improvements: words.expectation(satisfaction, needs.length - open.length, needs.length, score),
  };
}

function judge(
  score: number,
  meetsDeadline: boolean,
  round: number,
  acceptAt: number,
  rejectBelow: number,
): Satisfaction {
  if (score >= acceptAt && meetsDeadline) return 'accepted';
  if (round >= 2 && score < rejectBelow) return 'rejected';
  if (score >= acceptAt - 0.15 && meetsDeadline) return 'needs_minor_revision';
  return 'needs_major_revision';
}

/** The asks quoted in some text, with the topic label written after or before them. */
function itemsIn(language: Language, texts: string[]): Item[] {
  const [open, close] = quotes[language];
  const book = phrasebooks[language];
  const found: Item[] = [];
  for (const text of texts) {
    for (const line of text.split(sentences[language].paragraph)) {
      const match = new RegExp(`${open}([^${close}]+)${close}`).exec(line);
      if (!match) continue;
      const topic = topics.find((t) => line.includes(tag(language, book[t].label).trim()));
      if (topic) found.push({ topic, ask: match[1] });
    }
  }
  return found;
}

function unique(items: Item[]): Item[] {
  const seen = new Set<string>();
  return items.filter((item) => (seen.has(item.ask) ? false : (seen.add(item.ask), true)));
}

/** The project length a timeline states, in weeks: the engine writes it as its first number. */
function weeksIn(timeline: string): number | undefined {
  const match = /(\d+)/.exec(timeline);
  return match ? Number(match[1]) : undefined;
}

/** The deadline a review demands, read from the requirement the client writes for it. */
function demandedWeeks(requirements: string[]): number | undefined {
  for (const requirement of requirements) {
    const match = /(\d+)周内|within (\d+) weeks/.exec(requirement);
    if (match) return Number(match[1] ?? match[2]);
  }
  return undefined;
}

/** A stable number in [0, 1) for one vendor's choice about one ask in one round. */
function chance(...parts: (string | number)[]): number {
  let hash = 0x811c9dc5;
  for (const char of parts.join('\u0000')) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x100000000;
}

interface Phase {
  from: number;
  to: number;
}

/** Four phases in the proportions of the seed's plans: foundations, build, hardening, launch. */
function phases(weeks: number): Phase[] {
  const shares = [0.2, 0.4, 0.25];
  const result: Phase[] = [];
  let from = 1;
  for (const share of shares) {
    const length = Math.max(1, Math.round(weeks * share));
    result.push({ from, to: Math.min(weeks, from + length - 1) });
    from = Math.min(weeks, from + length);
  }
  result.push({ from, to: weeks });
  return result;
}

interface Sentences {
  paragraph: string;
  designIntro(vendor: string, profile: string, project: string): string;
  fullItem(tag: string, ask: string, approach: string): string;
  riskItem(ask: string, risk: string): string;
  personalRequest(request: string): string;
  outlineNote(asks: string[]): string;
  plan(phases: Phase[]): string;
  timeline(weeks: number, phases: Phase[]): string;
  risks(risks: string[]): string;
  lateWeakness(weeks: number | undefined, deadline: Deadline): string;
  missingWeakness(ask: string): string;
  outlineWeakness(ask: string): string;
  deadlineRequirement(deadline: Deadline): string;
  needRequirement(ask: string, label: string): string;
  deadlinePriority(deadline: Deadline): string;
  expectation(satisfaction: Satisfaction, covered: number, total: number, score: number): string;
}

const phaseNamesZh = ['基础架构与技术验证', '核心功能开发', '集成、压测与安全加固', '灰度上线与交付'];
const phaseNamesEn = [
  'Foundations and proof of concept',
  'Core build',
  'Integration, load and security testing',
  'Staged launch and handover',
];

const sentences: Record<Language, Sentences> = {
  zh: {
    paragraph: '\n',
    designIntro: (vendor, profile, project) => `${vendor}针对“${project}”提出以下方案。我们的定位：${profile}。`,
    fullItem: (tag, ask, approach) => `${tag}${ask}：${approach}。`,
    riskItem: (ask, risk) => `${ask}：${risk}`,
    personalRequest: (request) => `针对贵方提出的“${request}”，本版已纳入方案并安排在实施计划中。`,
    outlineNote: (asks) => `此外，方案将覆盖：${asks.join('、')}（实现细节将在后续版本补充）。`,
    plan: (ps) => ps.map((p, i) => `第${i + 1}阶段（第${p.from}-${p.to}周）：${phaseNamesZh[i]}。`).join(''),
    timeline: (weeks, ps) =>
      `总周期${weeks}周。` + ps.map((p, i) => `第${p.from}-${p.to}周：${phaseNamesZh[i]}。`).join(''),
    risks: (risks) =>
      risks.length
        ? risks.map((r, i) => `${i + 1}) ${r}，将在对应阶段设置检查点并准备备选方案。`).join('')
        : '主要风险均已在技术方案中给出应对措施，项目经理每周跟踪风险清单。',
    lateWeakness: (weeks, d) => `交付周期${weeks ?? '未说明'}周，无法满足${d.text}（${d.weeks}周内上线）的要求。`,
    missingWeakness: (ask) => `方案未覆盖${ask}。`,
    outlineWeakness: (ask) => `${ask}只有概述，缺少可落地的实现细节。`,
    deadlineRequirement: (d) => `重新制定项目计划，确保${d.weeks}周内完成上线（${d.text}）。`,
    needRequirement: (ask, label) => `补充${ask}的完整方案${tag('zh', label)}。`,
    deadlinePriority: (d) => `调整时间线以满足${d.text}`,
    expectation: (s, covered, total, score) =>
      s === 'accepted'
        ? `方案完整覆盖了全部${total}项需求并满足上线时间，我们同意以此版本推进合作。`
        : `本版方案完整覆盖了${covered}/${total}项需求（加权完成度${Math.round(score * 100)}%）。` +
          (s === 'rejected'
            ? '差距过大，我们决定终止本次合作洽谈。'
            : '期望下一版逐条回应上述要求，给出可落地、可验证的实现细节，并确保时间计划满足我们的业务目标。'),
  },
  en: {
    paragraph: '\n',
    designIntro: (vendor, profile, project) =>
      `${vendor} proposes the following for "${project}". Who we are: ${profile}.`,
    fullItem: (tag, ask, approach) => `${tag}${ask}: ${approach}.`,
    riskItem: (ask, risk) => `${ask}: ${risk}`,
    personalRequest: (request) => `As you asked ("${request}"), this version adds it to the scope and the plan.`,
    outlineNote: (asks) => `The proposal also covers: ${asks.join('; ')} (details to follow in a later version).`,
    plan: (ps) => ps.map((p, i) => `Phase ${i + 1} (weeks ${p.from}-${p.to}): ${phaseNamesEn[i]}.`).join(' '),
    timeline: (weeks, ps) =>
      `${weeks} weeks in total. ` + ps.map((p, i) => `Weeks ${p.from}-${p.to}: ${phaseNamesEn[i]}.`).join(' '),
    risks: (risks) =>
      risks.length
        ? risks.map((r, i) => `${i + 1}) ${r}; a checkpoint and a fallback are planned for it.`).join(' ')
        : 'Every major risk has a mitigation in the technical design; the project manager reviews the register weekly.',
    lateWeakness: (weeks, d) =>
      `A ${weeks ?? 'unstated'}-week delivery misses ${d.text} (live within ${d.weeks} weeks).`,
    missingWeakness: (ask) => `The proposal does not cover ${ask}.`,
    outlineWeakness: (ask) => `${ask} is only outlined, without an implementation we can verify.`,
    deadlineRequirement: (d) => `Rework the plan to go live within ${d.weeks} weeks (${d.text}).`,
    needRequirement: (ask, label) => `${tag('en', label)}Work out ${ask} in full.`,
    deadlinePriority: (d) => `align the timeline with ${d.text}`,
    expectation: (s, covered, total, score) =>
      s === 'accepted'
        ? `The proposal covers all ${total} of our needs in full and meets the deadline; we are ready to proceed with it.`
        : `This version covers ${covered} of ${total} needs in full (${Math.round(score * 100)}% weighted). ` +
          (s === 'rejected'
            ? 'The gap is too wide; we are ending these talks.'
            : 'We expect the next version to answer each request above with details we can verify, on a timeline that meets our goal.'),
  },
};
