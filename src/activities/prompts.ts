import { satisfactionLevels, type Proposal, type Review, type Satisfaction } from '../negotiation/documents';
import type { Client, Deadline, Language, Need } from '../scenario/schema';
import type { DraftProposalInput, ReviewProposalInput } from './types';

/**
 * The chat messages of one model call. Each step gets only what it needs (the parties, the needs, the latest
 * proposal and review), never the history of the negotiation, so a prompt's size does not grow with the round.
 */
export interface PromptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * The turn that asks the model to fix its previous answer: the answer itself, as the model's own turn, then
 * what was wrong with it. Sent on the attempt after an answer that was not JSON, had text around the JSON or
 * broke the schema.
 */
export function repairTurn(answer: string, problems: string[]): PromptMessage[] {
  const listed = problems.length > 0 ? problems.join('; ') : 'it is not a valid JSON object';
  return [
    { role: 'assistant', content: answer },
    {
      role: 'user',
      content:
        `Your answer was invalid: ${listed}. ` +
        'Answer again with valid JSON only: a single JSON object with exactly the fields asked for, ' +
        'no text before or after it and no code fence.',
    },
  ];
}

/**
 * What servers without structured output are told instead: the JSON schema, in the system message. The
 * answer is validated against the full schema all the same.
 */
export function withSchemaInPrompt(messages: PromptMessage[], schema: unknown): PromptMessage[] {
  const instruction = `The JSON object must match this JSON schema:\n${JSON.stringify(schema)}`;
  return messages.map((message, index) =>
    index === 0 && message.role === 'system'
      ? { ...message, content: `${message.content}\n\n${instruction}` }
      : message,
  );
}

/** The messages that ask the vendor for proposal `input.version`, revising the last one when there is one. */
export function vendorMessages(input: DraftProposalInput): PromptMessage[] {
  const { vendor, client, version, previousProposal, lastReview, language } = input;

  const system = lines(
    `You are ${vendor.name}, a technology vendor competing to win a client's project.`,
    `About you: ${vendor.profile}`,
    vendor.strengths.length > 0 ? `Your particular strengths: ${vendor.strengths.map(label).join(', ')}.` : undefined,
    'You write formal business proposals that answer every stated need concretely (architecture, figures, phases,',
    'risks) and stay credible: promise nothing you could not deliver, and say so when a demand cannot be met in full.',
    '',
    'Answer with a single JSON object and nothing else, with exactly these fields:',
    '- version: integer, the version number you are asked to write',
    '- technical_design: string, the architecture and how it meets each need',
    '- feature_list: array of strings, one deliverable feature each',
    '- implementation_plan: string, the phases and what each one delivers',
    "- timeline: string, the length of each phase and the total in weeks, set against the client's deadline",
    '- risk_analysis: string, the main risks and how you will mitigate each',
    writeIn(language),
  );

  const brief = lines(
    `Client: ${client.name}`,
    `Project: ${client.project}`,
    `Brief: ${client.brief}`,
    'Needs (priority from 1 to 5, 5 the most important):',
    ...client.needs.map((need) => needLine(need)),
    `Deadline: ${deadlineText(client.deadline)}`,
  );

  const revising = previousProposal !== undefined || lastReview !== undefined;
  const user = lines(
    brief,
    previousProposal
      ? `\nYour latest proposal (version ${previousProposal.version}):\n${json(previousProposal)}`
      : undefined,
    lastReview ? `\nThe client's review of it:\n${reviewText(lastReview)}` : undefined,
    '',
    revising
      ? `Write proposal version ${version}: a complete proposal that stands on its own (not a list of changes), ` +
          'fixes every weakness, meets every additional requirement in the order of the revision priorities, ' +
          'keeps what the client did not criticise and fits the deadline.'
      : `Write proposal version ${version}, your first proposal to this client.`,
  );

  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

/** When to choose each satisfaction level; the model sees these words, the workflow acts on the level. */
const satisfactionMeaning: Record<Satisfaction, string> = {
  accepted: 'the proposal meets all your needs and your deadline well enough to sign it as it stands',
  needs_minor_revision: 'the proposal is sound and meets your key needs; only small gaps or clarifications remain',
  needs_major_revision:
    'important needs are missing or unconvincing, or the deadline is missed, but this vendor could fix it',
  rejected:
    'the proposal is fundamentally unsuitable, or the vendor ignored your earlier feedback, and another round is not worth it',
};

/** The messages that ask the client to review `input.proposal` in round `input.round`. */
export function clientMessages(input: ReviewProposalInput): PromptMessage[] {
  const { client, vendorName, round, maxRounds, proposal, previousReview, language } = input;
  const known = needsKnownBy(client, round);
  const deadline = deadlineAt(client, round);
  const lastRound = round >= maxRounds;

  const system = lines(
    `You are ${client.name}, the client commissioning this project: ${client.project}`,
    `Brief: ${client.brief}`,
    'What you need (priority from 1 to 5, 5 the most important):',
    ...known.map(({ need, revealedIn }) =>
      needLine(need, revealedIn === round ? 'new this round: ask for it in additional_requirements' : undefined),
    ),
    `Deadline: ${deadlineText(deadline.deadline)}${
      deadline.revealedIn === round ? ' — changed this round: state the new deadline in additional_requirements' : ''
    }`,
    '',
    `You are reviewing a proposal from ${vendorName}. This is round ${round} of at most ${maxRounds}.`,
    lastRound
      ? 'There is no further round: accept only a proposal you would sign; any other verdict ends the negotiation without an agreement.'
      : undefined,
    'Judge it as a demanding but fair buyer: check every need, the deadline and the risks, and be specific.',
    '',
    'overall_satisfaction must be one of:',
    ...satisfactionLevels.map((level) => `- ${level}: ${satisfactionMeaning[level]}`),
    '',
    'Answer with a single JSON object and nothing else, with exactly these fields:',
    '- overall_satisfaction: one of the values above',
    '- weaknesses: array of strings, concrete shortcomings of this proposal (empty if there are none)',
    '- additional_requirements: array of strings, what the next version must add (empty if there is nothing)',
    '- revision_priority: array of strings, what to revise first, most important first (empty if accepted)',
    '- expected_improvements: string, what you expect of the next version, or why you accept or reject',
    writeIn(language, 'overall_satisfaction'),
  );

  const user = lines(
    `Proposal version ${proposal.version} from ${vendorName}:\n${json(proposal)}`,
    previousReview
      ? `\nYour review of the previous version, to check what the vendor addressed:\n${reviewText(previousReview)}`
      : undefined,
    '',
    'Write your review of this proposal.',
  );

  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

/** The needs a client holds by `round`, each with the round it was disclosed in (1 for the brief). */
function needsKnownBy(client: Client, round: number): { need: Need; revealedIn: number }[] {
  return [
    ...client.needs.map((need) => ({ need, revealedIn: 1 })),
    ...client.reveals
      .filter((reveal) => reveal.round <= round)
      .sort((a, b) => a.round - b.round)
      .flatMap((reveal) => reveal.needs.map((need) => ({ need, revealedIn: reveal.round }))),
  ];
}

/** The deadline a client insists on in `round`: the latest one revealed by then, as clients move them. */
function deadlineAt(client: Client, round: number): { deadline: Deadline; revealedIn: number } {
  let current = { deadline: client.deadline, revealedIn: 1 };
  for (const reveal of [...client.reveals].sort((a, b) => a.round - b.round)) {
    if (reveal.round <= round && reveal.deadline) current = { deadline: reveal.deadline, revealedIn: reveal.round };
  }
  return current;
}

/**
 * The scenario language decides the language of the documents. The instructions stay in English, which models
 * follow well; only the text they write is asked for in Chinese, with field names and enum values untouched.
 */
function writeIn(language: Language, enumField?: string): string {
  const keep = enumField ? `the JSON field names and the value of ${enumField}` : 'the JSON field names';
  return language === 'zh'
    ? `Write every text value in Simplified Chinese (简体中文); keep ${keep} in English exactly as given.`
    : `Write every text value in English; keep ${keep} exactly as given.`;
}

function needLine(need: Need, note?: string): string {
  return `- [priority ${need.weight}] ${need.ask} (${label(need.topic)})${note ? ` — ${note}` : ''}`;
}

function deadlineText(deadline: Deadline): string {
  return `${deadline.text} (${deadline.weeks} weeks)`;
}

function reviewText(review: Review): string {
  return lines(
    `Overall: ${review.overall_satisfaction}`,
    'Weaknesses:',
    ...bullets(review.weaknesses),
    'Additional requirements:',
    ...bullets(review.additional_requirements),
    'Revision priorities (most important first):',
    ...(review.revision_priority.length > 0
      ? review.revision_priority.map((item, index) => `${index + 1}. ${item}`)
      : ['(none)']),
    `Expected improvements: ${review.expected_improvements}`,
  );
}

function bullets(items: string[]): string[] {
  return items.length > 0 ? items.map((item) => `- ${item}`) : ['(none)'];
}

function json(document: Proposal): string {
  return JSON.stringify(document, null, 2);
}

function label(topic: string): string {
  return topic.replace(/_/g, ' ');
}

/** Joins the lines that are present; `undefined` marks a line the situation does not call for. */
function lines(...parts: (string | undefined)[]): string {
  return parts.filter((part): part is string => part !== undefined).join('\n');
}
