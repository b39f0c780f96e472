import { ActivityFailure, ApplicationFailure, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { LlmChoice } from '../activities/types';
import { clientBrief } from '../negotiation/brief';
import { isAcceptance, isRejection, type Proposal, type Review } from '../negotiation/documents';
import type {
  NegotiationRecord,
  NegotiationStatus,
  NegotiationStatusView,
  TranscriptEntry,
} from '../negotiation/record';
import type { Client, Policy, Vendor } from '../scenario/schema';
import { getCurrentProposal, getHistory, getStatus } from './messages';

export interface NegotiationInput {
  simulationId: string;
  negotiationId: string;
  client: Client;
  vendor: Vendor;
  policy: Policy;
  llm: LlmChoice;
}

/**
 * Model calls are slow and flaky, so each gets minutes to answer and a bounded, backed-off retry. Errors the
 * activities mark non-retryable (bad credentials, unknown model, refusals) end the negotiation at once.
 */
const { draftProposal, reviewProposal } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * One client–vendor negotiation: the vendor drafts, the client reviews, the review drives the next draft,
 * until the client accepts, rejects, or the round limit ends it. The workflow numbers the versions.
 */
export async function negotiationWorkflow(input: NegotiationInput): Promise<NegotiationRecord> {
  const { client, vendor, policy, llm } = input;
  const entries: TranscriptEntry[] = [];
  const view: NegotiationStatusView = {
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
    model: llm.provider === 'offline' ? 'offline' : (llm.model ?? ''),
  };
  let currentProposal: Proposal | undefined;
  let lastReview: Review | undefined;

  const now = () => new Date().toISOString();
  const event = (actor: string, kind: string, text: string) =>
    entries.push({ type: 'event', at: now(), actor, kind, text });
  const record = (): NegotiationRecord => ({ ...view, entries, currentProposal });
  const settle = (status: NegotiationStatus, actor: string, kind: string, text: string) => {
    view.status = status;
    view.phase = 'settled';
    event(actor, kind, text);
    return record();
  };

  setHandler(getStatus, () => ({ ...view }));
  setHandler(getCurrentProposal, () => currentProposal ?? null);
  setHandler(getHistory, record);

  for (let round = 1; round <= policy.maxRounds; round++) {
    view.round = round;
    view.phase = 'drafting';
    event(vendor.name, 'Action', `Drafting Proposal V${round}...`);

    let drafted;
    try {
      drafted = await draftProposal({
        negotiationId: input.negotiationId,
        language: policy.language,
        llm,
        client: clientBrief(client),
        vendor,
        version: round,
        previousProposal: currentProposal,
        lastReview,
      });
    } catch (err) {
      return settle('failed', vendor.name, 'Outcome', failureText(view, vendor.name, `drafting proposal V${round}`, err));
    }
    // A model may label its draft with any number (the seed run has a "version": 3 on a second proposal);
    // the round the workflow is in is the only version that counts.
    currentProposal = { ...drafted.proposal, version: round };
    view.version = round;
    view.provider = drafted.provider;
    view.model = drafted.model;
    entries.push({ type: 'document', at: now(), actor: vendor.name, label: 'Proposal', version: round, body: currentProposal });

    view.phase = 'reviewing';
    event(client.name, 'Action', 'Reviewing Proposal...');
    let reviewed;
    try {
      reviewed = await reviewProposal({
        negotiationId: input.negotiationId,
        language: policy.language,
        llm,
        client,
        vendorName: vendor.name,
        round,
        maxRounds: policy.maxRounds,
        proposal: currentProposal,
        previousReview: lastReview,
      });
    } catch (err) {
      return settle('failed', client.name, 'Outcome', failureText(view, client.name, `reviewing proposal V${round}`, err));
    }
    lastReview = reviewed.review;
    view.lastSatisfaction = lastReview.overall_satisfaction;
    entries.push({ type: 'document', at: now(), actor: client.name, label: 'Review', version: round, body: lastReview });

    if (isAcceptance(lastReview)) {
      return settle('agreed', client.name, 'Outcome', `Accepted Proposal V${round}`);
    }
    if (isRejection(lastReview)) {
      return settle('rejected', client.name, 'Outcome', `Rejected Proposal V${round}`);
    }
    event(client.name, 'Feedback', 'Requesting Revisions');
  }

  log.info('Negotiation reached its round limit', { negotiationId: input.negotiationId, rounds: policy.maxRounds });
  return settle('no_agreement', client.name, 'Outcome', `No agreement after ${policy.maxRounds} rounds`);
}

/** One line naming the step, the party and the cause, for the status view and the transcript. */
function failureText(view: NegotiationStatusView, party: string, step: string, err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  const type = cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ` : '';
  const message = cause instanceof Error ? cause.message : String(cause);
  view.failure = `${party} failed ${step}: ${type}${message}`;
  return `Failed: ${view.failure}`;
}
