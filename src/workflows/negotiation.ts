import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { NegotiationEvent, NotificationActivities } from '../activities/notify';
import type { CallLlm, LlmChoice, PairRecording, TokenUsage } from '../activities/types';
import { clientBrief } from '../negotiation/brief';
import type { Proposal, Review } from '../negotiation/documents';
import {
  isAcceptance,
  isRejection,
  type GateKind,
  type NegotiationRecord,
  type NegotiationStatus,
  type NegotiationStatusView,
  type TranscriptEntry,
} from '../negotiation/record';
import { costOf } from '../negotiation/pricing';
import type { Client, Policy, Vendor } from '../scenario/schema';
import { countOf } from '../transcript/words';
import {
  ParleyClientKey,
  ParleyRoundKey,
  ParleySatisfactionKey,
  ParleySimulationIdKey,
  ParleyStatusKey,
  ParleyVendorKey,
  ParleyVersionKey,
} from '../temporal/search-attributes';
import {
  decisionKinds,
  decisionSignals,
  decisionUpdates,
  getCurrentProposal,
  getHistory,
  getStatus,
  type DecisionKind,
  type DecisionOutcome,
  type DecisionRequest,
} from './messages';

export interface NegotiationInput {
  simulationId: string;
  negotiationId: string;
  client: Client;
  vendor: Vendor;
  policy: Policy;
  llm: LlmChoice;
  /**
   * Whether the namespace has Parley's search attributes registered. Upserting an unknown attribute would stall
   * the workflow, so the starter checks once and the workflow only indexes itself when they exist.
   */
  indexed?: boolean;
  /** What a previous run of this negotiation handed over when it continued as new. */
  carried?: CarriedState;
}

/** Everything a negotiation needs to pick up where its previous run stopped. */
export interface CarriedState {
  view: NegotiationStatusView;
  entries: TranscriptEntry[];
  currentProposal?: Proposal;
  lastReview?: Review;
  humanRequests: string[];
  decided: [string, DecisionOutcome][];
  nextRound: number;
  maxRounds: number;
}

/**
 * Model calls are slow and flaky, so each gets minutes to answer and a bounded, backed-off retry. Errors the
 * activities mark non-retryable (bad credentials, unknown model, refusals) end the negotiation at once.
 */
const modelCallOptions: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  // The activity heartbeats while it waits for the model, so a call lost with its worker is retried this soon.
  heartbeatTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
};
const { draftProposal, reviewProposal } = proxyActivities<Activities>(modelCallOptions);

/**
 * Webhook deliveries: quick, and given up after a few tries so a dead endpoint never holds a negotiation. They are
 * ordinary activities rather than local ones because local-activity markers keep SDK metadata outside the
 * payload codec, and with encryption on every payload of a negotiation must stay encrypted.
 */
const { notifyWebhook } = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/** Extra rounds one decision may grant, and the most a negotiation may have in all. */
const MAX_EXTRA_ROUNDS = 50;
// Every round's documents travel in the record a negotiation hands over when it continues as new; Temporal
// refuses payloads over 2 MB, which real documents approach in about a hundred rounds.
const MAX_TOTAL_ROUNDS = 100;

/** A decision a person took, checked and waiting for the negotiation loop to act on it. */
interface Decision {
  kind: DecisionKind;
  by: string;
  request: DecisionRequest;
}

/**
 * One client–vendor negotiation: the vendor drafts, the client reviews, the review drives the next draft,
 * until the client accepts, rejects, or the round limit ends it. The workflow numbers the versions, and waits
 * for a person where the policy asks for one.
 */
export async function negotiationWorkflow(input: NegotiationInput): Promise<NegotiationRecord> {
  const { client, vendor, policy, llm, carried } = input;
  const entries: TranscriptEntry[] = carried?.entries ?? [];
  const view: NegotiationStatusView = carried?.view ?? {
    negotiationId: input.negotiationId,
    simulationId: input.simulationId,
    client: client.name,
    vendor: vendor.name,
    status: 'running',
    version: 0,
    round: 0,
    maxRounds: policy.maxRounds,
    phase: 'drafting',
    provider: llm.provider,
    model: llm.provider === 'openai' ? (llm.model ?? '') : llm.provider,
    notices: [],
  };
  let currentProposal: Proposal | undefined = carried?.currentProposal;
  let lastReview: Review | undefined = carried?.lastReview;
  /** Comments people added with `requestRevision`, passed to the vendor with the next feedback. */
  let humanRequests: string[] = carried?.humanRequests ?? [];
  let pendingDecision: Decision | undefined;
  /** Decisions already taken, by request id, so a repeated request changes nothing and gets the same answer. */
  const decided = new Map<string, DecisionOutcome>(carried?.decided ?? []);

  const now = () => new Date().toISOString();
  const event = (actor: string, kind: string, text: string) =>
    entries.push({ type: 'event', at: now(), actor, kind, text });
  const record = (): NegotiationRecord => ({
    ...view,
    notices: [...view.notices],
    entries,
    currentProposal,
    decidedRequests: Object.fromEntries(decided),
  });
  /** Decisions the loop has acted on, with where each led; an update answers once its decision is here. */
  const applied = new Map<Decision, DecisionOutcome>();
  /** Decisions taken by request id and not yet acted on: a repeat of the request waits for the same outcome. */
  const taking = new Map<string, Decision>();
  /**
   * Records that the loop has acted on a decision. Its outcome is kept under its request id at once, so that the
   * record of a negotiation this decision closes already answers a repeat of the request.
   */
  const apply = (decision: Decision) => {
    const outcome: DecisionOutcome = {
      decision: decision.kind,
      by: actorName(decision.by),
      status: view.status,
      message: `${decision.kind} taken at Proposal V${view.version}; the negotiation is now ${view.status}`,
    };
    applied.set(decision, outcome);
    if (decision.request.requestId) {
      decided.set(decision.request.requestId, outcome);
      taking.delete(decision.request.requestId);
    }
  };
  const settle = async (status: NegotiationStatus, actor: string, kind: string, text: string, decision?: Decision) => {
    view.status = status;
    view.phase = 'settled';
    view.pendingGate = undefined;
    event(actor, kind, `${text}${spendText(view)}`);
    if (decision) apply(decision);
    publish();
    // Awaited: a delivery still scheduled when the workflow completes would never be sent.
    await notify('negotiation.settled');
    return record();
  };

  /**
   * Whether this negotiation's workers post webhook events, as the latest model call reported; until one has, and
   * again after a wait for a person (see `afterAWait`), deliveries are attempted.
   */
  let postsEvents = true;
  /** Tells ops tools about a moment that needs them; delivery failures are logged, never fatal. */
  const notify = async (type: NegotiationEvent['type']) => {
    // Histories recorded before notifications existed have no such activity; they replay along the old path.
    if (!patched('webhook-notifications')) return;
    // Without a webhook the delivery would do nothing but cost a round trip to the server at every gate and at the
    // end. Histories recorded before this check scheduled it anyway, and replay along that path.
    if (!postsEvents && patched('skip-events-without-webhook')) return;
    try {
      await notifyWebhook({ type, at: now(), ...eventFields(view) });
    } catch (err) {
      log.warn('Webhook delivery failed', { negotiationId: view.negotiationId, type, error: String(err) });
    }
  };

  /**
   * Shows where the negotiation stands outside the workflow: search attributes for `parley list` and the Web UI's
   * filters, and the current details the Web UI displays. Called whenever the status view changes.
   */
  const publish = () => {
    if (input.indexed) {
      upsertSearchAttributes([
        { key: ParleyStatusKey, value: view.status },
        { key: ParleyClientKey, value: client.name },
        { key: ParleyVendorKey, value: vendor.name },
        { key: ParleySimulationIdKey, value: input.simulationId },
        { key: ParleyVersionKey, value: view.version },
        { key: ParleyRoundKey, value: view.round },
        { key: ParleySatisfactionKey, value: view.lastSatisfaction ?? 'none' },
      ]);
    }
    setCurrentDetails(currentDetails(view, lastReview));
  };

  setHandler(getStatus, () => ({ ...view, notices: [...view.notices] }));
  setHandler(getCurrentProposal, () => currentProposal ?? null);
  setHandler(getHistory, record);

  /** Why a decision cannot be taken now, or undefined when it can. */
  const refusal = (kind: DecisionKind, request: DecisionRequest | undefined): string | undefined => {
    if (!request) return 'the payload must be a JSON object such as {"by": "alice"}';
    if (view.phase === 'settled') return `the negotiation is already decided: ${view.status}`;
    if (!view.pendingGate) return `no decision is pending: the negotiation is ${view.phase} in round ${view.round}`;
    // The first decision at a gate wins; one sent before the loop has acted on it must not silently replace it.
    if (pendingDecision)
      return `another decision is being applied: ${pendingDecision.kind} by ${actorName(pendingDecision.by)}`;
    if (kind === 'reject' && !request.reason) return 'a rejection needs a reason';
    if (kind === 'requestRevision' && !request.comment) return 'a revision request needs a comment';
    if (kind === 'extendRounds') {
      if (view.pendingGate !== 'round_limit') return 'extra rounds can only be granted at the round limit';
      if (!Number.isInteger(request.rounds) || request.rounds! < 1 || request.rounds! > MAX_EXTRA_ROUNDS)
        return `extendRounds needs "rounds", a whole number from 1 to ${MAX_EXTRA_ROUNDS}`;
      if (view.maxRounds + request.rounds! > MAX_TOTAL_ROUNDS)
        return `a negotiation has at most ${MAX_TOTAL_ROUNDS} rounds; it has ${view.maxRounds}`;
    }
    return undefined;
  };

  /** Takes a valid decision: the loop acts on it as soon as it wakes. */
  const take = (kind: DecisionKind, request: DecisionRequest): Decision => {
    const decision = { kind, by: request.by || 'unknown', request };
    pendingDecision = decision;
    if (request.requestId) {
      // Claimed at once, so a retry that arrives before the loop has acted is recognised as the same request.
      taking.set(request.requestId, decision);
      decided.set(request.requestId, {
        decision: kind,
        by: actorName(decision.by),
        status: view.status,
        message: `${kind} received at Proposal V${view.version}`,
      });
    }
    return decision;
  };

  /** Answers an update once the loop has acted on its decision, so the caller learns where it led. */
  const outcomeOf = async (decision: Decision): Promise<DecisionOutcome> => {
    await condition(() => applied.has(decision));
    return applied.get(decision)!;
  };

  for (const kind of decisionKinds) {
    setHandler(decisionSignals[kind], (raw?: unknown) => {
      const request = decisionRequestFrom(raw);
      if (request?.requestId && decided.has(request.requestId)) return;
      const reason = refusal(kind, request);
      if (reason || !request) {
        // A decision nobody is waiting for must not fail the workflow; it is kept where people will see it.
        const notice = `Ignored ${kind} from ${actorName(request?.by)}: ${reason}`;
        view.notices = [...view.notices.slice(-9), notice];
        event('Parley', 'Notice', notice);
        return;
      }
      take(kind, request);
    });
    setHandler(
      decisionUpdates[kind],
      async (raw?: unknown) => {
        // The validator has already refused anything malformed, so the payload is an object here.
        const request = decisionRequestFrom(raw) ?? {};
        const requestId = request.requestId;
        const inFlight = requestId ? taking.get(requestId) : undefined;
        if (inFlight) return outcomeOf(inFlight);
        const earlier = requestId ? decided.get(requestId) : undefined;
        return earlier ?? outcomeOf(take(kind, request));
      },
      {
        validator: (raw?: unknown) => {
          const request = decisionRequestFrom(raw);
          if (request?.requestId && decided.has(request.requestId)) return;
          const reason = refusal(kind, request);
          if (reason) throw new Error(reason);
        },
      },
    );
  }

  /**
   * A wait for a person can last days, and the workers may have been redeployed with a webhook meanwhile: what the
   * latest model call reported no longer says whether they post events, so the next delivery is attempted. Histories
   * recorded before this kept the model call's word, and replay along that path.
   */
  const afterAWait = () => {
    if (patched('events-after-a-wait')) postsEvents = true;
  };

  /** Waits at a gate until a person decides, applying the policy's timeout and what to do when it runs out. */
  const awaitDecision = async (gate: GateKind): Promise<Decision | 'expired'> => {
    view.status = 'awaiting_approval';
    view.pendingGate = gate;
    pendingDecision = undefined;
    publish();
    const delivered = notify('negotiation.awaiting_decision');
    const waitSummary = `Awaiting a decision on Proposal V${view.version} (${gate.replace('_', ' ')})`;
    event(
      'Parley',
      'Gate',
      gate === 'acceptance'
        ? `Awaiting approval of Proposal V${view.version}`
        : `Round limit reached at Proposal V${view.version}; awaiting a decision`,
    );
    for (;;) {
      const decidedInTime = policy.approvalTimeout
        ? await condition(() => pendingDecision !== undefined, policy.approvalTimeout as `${number}s`, {
            summary: waitSummary,
          })
        : await condition(() => pendingDecision !== undefined).then(() => true);
      if (decidedInTime) {
        afterAWait();
        const decision = pendingDecision!;
        pendingDecision = undefined;
        view.pendingGate = undefined;
        view.status = 'running';
        publish();
        await delivered;
        return decision;
      }
      if (policy.onApprovalTimeout === 'remind') {
        event(
          'Parley',
          'Reminder',
          `Still awaiting a decision on Proposal V${view.version} after ${policy.approvalTimeout}`,
        );
        continue;
      }
      afterAWait();
      if (policy.onApprovalTimeout === 'approve') {
        await delivered;
        return {
          kind: 'approve',
          by: 'parley:timeout',
          request: { comment: `no decision within ${policy.approvalTimeout}` },
        };
      }
      await delivered;
      return 'expired';
    }
  };

  let maxRounds = carried?.maxRounds ?? policy.maxRounds;
  const firstRound = carried?.nextRound ?? 1;
  for (let round = firstRound; ; round++) {
    const roundsInThisRun = round - firstRound;
    if (
      roundsInThisRun > 0 &&
      (workflowInfo().continueAsNewSuggested ||
        (policy.continueAsNewAfterRounds !== undefined && roundsInThisRun >= policy.continueAsNewAfterRounds))
    ) {
      // A long negotiation starts a fresh history between rounds, never inside one, so the state it hands over
      // is whole. Decisions still being answered finish first; anything sent meanwhile is replayed into this run.
      await condition(allHandlersFinished);
      await continueAsNew<typeof negotiationWorkflow>({
        ...input,
        carried: {
          view,
          entries,
          currentProposal,
          lastReview,
          humanRequests,
          decided: [...decided],
          nextRound: round,
          maxRounds,
        },
      });
    }

    if (round > maxRounds) {
      if (policy.onRoundLimit === 'end') break;
      const decision = await awaitDecision('round_limit');
      if (decision === 'expired')
        return settle(
          'no_agreement',
          'Parley',
          'Outcome',
          `No agreement with ${vendor.name}: the decision on Proposal V${view.version} expired`,
        );
      const actor = actorName(decision.by);
      view.decidedBy = actor;
      if (decision.kind === 'approve')
        return settle(
          'agreed',
          actor,
          'Approval',
          `Approved Proposal V${view.version} from ${vendor.name}${suffix(decision.request.comment)}`,
          decision,
        );
      if (decision.kind === 'reject')
        return settle(
          'no_agreement',
          actor,
          'Approval',
          `Closed without agreement with ${vendor.name} at Proposal V${view.version}: ${decision.request.reason}`,
          decision,
        );
      const extra = decision.kind === 'extendRounds' ? decision.request.rounds! : 1;
      maxRounds += extra;
      view.maxRounds = maxRounds;
      event(
        actor,
        'Approval',
        decision.kind === 'extendRounds'
          ? `Granted ${countOf(extra, 'more round')}`
          : `Requested revision of Proposal V${view.version}: ${decision.request.comment}`,
      );
      if (decision.kind === 'requestRevision') humanRequests.push(decision.request.comment!);
      apply(decision);
    }

    view.round = round;
    view.phase = 'drafting';
    publish();
    event(vendor.name, 'Action', `Drafting Proposal V${round}...`);
    const feedback =
      lastReview && humanRequests.length
        ? { ...lastReview, additional_requirements: [...lastReview.additional_requirements, ...humanRequests] }
        : lastReview;
    humanRequests = [];

    const draftStep = `drafting proposal V${round}`;
    if (isOverBudget(view, policy)) return settle('budget_exhausted', 'Parley', 'Outcome', budgetText(view, draftStep));
    let drafted;
    try {
      drafted = await draftProposal.executeWithOptions(
        { ...modelCallOptions, summary: `Draft proposal V${round} (${vendor.name})` },
        [
          {
            negotiationId: input.negotiationId,
            language: policy.language,
            llm: callLlm(llm, 'proposals', round),
            client: clientBrief(client),
            vendor,
            version: round,
            previousProposal: currentProposal,
            lastReview: feedback,
          },
        ],
      );
    } catch (err) {
      return settle('failed', vendor.name, 'Outcome', failureText(view, vendor.name, draftStep, err));
    }
    // A model may label its draft with any number (the seed run has a "version": 3 on a second proposal);
    // the round the workflow is in is the only version that counts.
    currentProposal = { ...drafted.proposal, version: round };
    view.version = round;
    view.provider = drafted.provider;
    view.model = drafted.model;
    postsEvents = drafted.postsEvents ?? true;
    countTokens(view, drafted.usage, llm);
    entries.push({
      type: 'document',
      at: now(),
      actor: vendor.name,
      label: 'Proposal',
      version: round,
      body: currentProposal,
    });

    view.phase = 'reviewing';
    publish();
    event(client.name, 'Action', 'Reviewing Proposal...');
    if (isOverBudget(view, policy))
      return settle('budget_exhausted', 'Parley', 'Outcome', budgetText(view, `reviewing proposal V${round}`));
    let reviewed;
    try {
      reviewed = await reviewProposal.executeWithOptions(
        { ...modelCallOptions, summary: `Review proposal V${round} (${client.name})` },
        [
          {
            negotiationId: input.negotiationId,
            language: policy.language,
            llm: callLlm(llm, 'reviews', round),
            client,
            vendorName: vendor.name,
            round,
            maxRounds,
            proposal: currentProposal,
            previousReview: lastReview,
          },
        ],
      );
    } catch (err) {
      return settle(
        'failed',
        client.name,
        'Outcome',
        failureText(view, client.name, `reviewing proposal V${round}`, err),
      );
    }
    lastReview = reviewed.review;
    postsEvents = reviewed.postsEvents ?? true;
    countTokens(view, reviewed.usage, llm);
    view.lastSatisfaction = lastReview.overall_satisfaction;
    entries.push({
      type: 'document',
      at: now(),
      actor: client.name,
      label: 'Review',
      version: round,
      body: lastReview,
    });

    if (isRejection(lastReview)) {
      return settle('rejected', client.name, 'Outcome', `Rejected Proposal V${round} from ${vendor.name}`);
    }
    if (!isAcceptance(lastReview)) {
      event(client.name, 'Feedback', 'Requesting Revisions');
      continue;
    }

    event(client.name, 'Feedback', `Accepted Proposal V${round}`);
    if (policy.approval === 'auto')
      return settle('agreed', client.name, 'Outcome', `Agreed with ${vendor.name} on Proposal V${round}`);
    const decision = await awaitDecision('acceptance');
    if (decision === 'expired')
      return settle(
        'no_agreement',
        'Parley',
        'Outcome',
        `No agreement with ${vendor.name}: approval of Proposal V${round} expired`,
      );
    const actor = actorName(decision.by);
    view.decidedBy = actor;
    if (decision.kind === 'approve')
      return settle(
        'agreed',
        actor,
        'Approval',
        `Approved Proposal V${round} from ${vendor.name}${suffix(decision.request.comment)}`,
        decision,
      );
    if (decision.kind === 'reject')
      return settle(
        'rejected',
        actor,
        'Approval',
        `Rejected Proposal V${round} from ${vendor.name}: ${decision.request.reason}`,
        decision,
      );
    // A person asked for another version of an accepted proposal; it gets a round even past the limit.
    event(actor, 'Approval', `Requested revision of Proposal V${round}: ${decision.request.comment}`);
    humanRequests.push(decision.request.comment!);
    if (round >= maxRounds) view.maxRounds = maxRounds = round + 1;
    apply(decision);
  }

  log.info('Negotiation reached its round limit', { negotiationId: input.negotiationId, rounds: maxRounds });
  return settle(
    'no_agreement',
    client.name,
    'Outcome',
    `No agreement with ${vendor.name} after ${countOf(maxRounds, 'round')}`,
  );
}

/** What a webhook event says of a negotiation: who, where it stands, and what it waits for. */
function eventFields(view: NegotiationStatusView): Omit<NegotiationEvent, 'type' | 'at'> {
  const { negotiationId, simulationId, client, vendor, status, version, round } = view;
  const { pendingGate, lastSatisfaction, failure } = view;
  return {
    negotiationId,
    simulationId,
    client,
    vendor,
    status,
    version,
    round,
    pendingGate,
    lastSatisfaction,
    failure,
  };
}

/** The Web UI's live view of a negotiation: where it stands and what the client still asks for. */
function currentDetails(view: NegotiationStatusView, lastReview: Review | undefined): string {
  const lines = [
    `**${view.client} ↔ ${view.vendor}**: ${view.status}, round ${view.round} of ${view.maxRounds}, Proposal V${view.version}`,
  ];
  if (view.pendingGate)
    lines.push(
      `Waiting for a decision (${view.pendingGate.replace('_', ' ')}): approve, reject, requestRevision or extendRounds.`,
    );
  if (view.lastSatisfaction) lines.push(`Last review: ${view.lastSatisfaction}`);
  if (lastReview?.additional_requirements.length) {
    lines.push('Open requests:', ...lastReview.additional_requirements.slice(0, 10).map((r) => `- ${r}`));
  }
  if (view.failure) lines.push(`Failure: ${view.failure}`);
  return lines.join('\n');
}

/**
 * Reads a decision's payload defensively: it may come from any tool as any JSON, and a malformed one must
 * neither fail the workflow nor smuggle in odd types.
 */
function decisionRequestFrom(raw: unknown): DecisionRequest | undefined {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const fields = raw as Record<string, unknown>;
  const text = (value: unknown) =>
    typeof value === 'string' && value.trim() ? value.trim().slice(0, 2000) : undefined;
  return {
    by: text(fields.by)?.slice(0, 100),
    requestId: text(fields.requestId)?.slice(0, 200),
    comment: text(fields.comment),
    reason: text(fields.reason),
    rounds: typeof fields.rounds === 'number' ? fields.rounds : undefined,
  };
}

/** The transcript's actor for a person: `ops:alice`, unless the name already says where it comes from. */
function actorName(by: string | undefined): string {
  if (!by) return 'ops:unknown';
  return by.includes(':') ? by : `ops:${by}`;
}

function suffix(comment: string | undefined): string {
  return comment ? `: ${comment}` : '';
}

/** What one call uses: the simulation's engine, or, when replaying, the one recorded answer for this step. */
function callLlm(llm: LlmChoice, step: keyof PairRecording, round: number): CallLlm {
  if (llm.provider !== 'replay') return llm;
  // The simulation hands each negotiation only its own pair's recording, under its only key.
  const recording = Object.values(llm.recordings)[0];
  return { provider: 'replay', answer: recording?.[step][String(round)] };
}

function countTokens(view: NegotiationStatusView, usage: TokenUsage | undefined, llm: LlmChoice): void {
  if (!usage) return;
  const tokens = view.tokens ?? { prompt: 0, completion: 0 };
  view.tokens = { prompt: tokens.prompt + usage.promptTokens, completion: tokens.completion + usage.completionTokens };
  if (llm.provider === 'openai' && llm.price) view.costUsd = costOf(view.tokens, llm.price);
}

/** Whether the negotiation has spent its budget; checked before every model call. */
function isOverBudget(view: NegotiationStatusView, policy: Policy): boolean {
  const { budget } = policy;
  if (!budget) return false;
  const tokens = view.tokens ? view.tokens.prompt + view.tokens.completion : 0;
  return (
    (budget.tokens !== undefined && tokens >= budget.tokens) ||
    (budget.usd !== undefined && (view.costUsd ?? 0) >= budget.usd)
  );
}

function budgetText(view: NegotiationStatusView, step: string): string {
  const kept = view.version > 0 ? `; Proposal V${view.version} is the last valid one` : '';
  return `Budget exhausted with ${view.vendor} before ${step}${kept}`;
}

/** What the model calls cost, for outcome lines: nothing for the offline engine, which spends nothing. */
function spendText(view: NegotiationStatusView): string {
  if (!view.tokens) return '';
  const cost = view.costUsd !== undefined ? `, $${view.costUsd.toFixed(4)}` : '';
  return ` (tokens: ${view.tokens.prompt} prompt + ${view.tokens.completion} completion${cost})`;
}

/** One line naming the step, the party and the cause, for the status view and the transcript. */
function failureText(view: NegotiationStatusView, party: string, step: string, err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  const type = cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ` : '';
  const message = cause instanceof Error ? cause.message : String(cause);
  view.failure = `${party} failed ${step}: ${type}${message}`;
  return `Negotiation with ${view.vendor} failed: ${view.failure}`;
}
