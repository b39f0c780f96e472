import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { negotiationWorkflow } from '../workflows';
import { decisionUpdates, type DecisionKind, type DecisionOutcome, type DecisionRequest } from '../workflows/messages';

/** The negotiation refused the decision; `reason` is the workflow validator's own words. */
export class DecisionRefusedError extends Error {
  readonly code = 'DECISION_REFUSED';

  constructor(
    readonly decision: DecisionKind,
    readonly reason: string,
  ) {
    super(`${decision} refused: ${reason}`);
    this.name = 'DecisionRefusedError';
  }
}

/** No negotiation has the id the decision was sent to. */
export class UnknownNegotiationError extends Error {
  readonly code = 'UNKNOWN_NEGOTIATION';

  constructor(readonly negotiationId: string) {
    super(`no negotiation with id "${negotiationId}"`);
    this.name = 'UnknownNegotiationError';
  }
}

/**
 * Sends a decision as an update, so the caller learns at once whether it was taken and where it led. Shared by
 * the CLI and the ops HTTP API. `retries` bounds how often an update aborted by a closing run is sent again.
 */
export async function sendDecision(
  client: Client,
  negotiationId: string,
  kind: DecisionKind,
  request: DecisionRequest,
  retries = 3,
): Promise<DecisionOutcome> {
  try {
    return await client.workflow.getHandle(negotiationId).executeUpdate(decisionUpdates[kind], { args: [request] });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      // The server answers an update to a closed workflow as "not found"; tell that apart from an unknown id.
      const handle = client.workflow.getHandle<typeof negotiationWorkflow>(negotiationId);
      const closed = await handle.describe().catch(() => undefined);
      if (closed && closed.type !== 'negotiationWorkflow') throw new UnknownNegotiationError(negotiationId);
      if (closed?.status.name === 'RUNNING' && retries > 0) {
        // The update reached a run as it closed (settling, or continuing as new) and was aborted before the close
        // showed: ask again once it has, of the next run or of the closed record.
        await new Promise((resolve) => setTimeout(resolve, 200));
        return sendDecision(client, negotiationId, kind, request, retries - 1);
      }
      if (closed) {
        // A retry of a decision that closed the negotiation gets the answer the first one got.
        const record = closed.status.name === 'COMPLETED' ? await handle.result().catch(() => undefined) : undefined;
        const earlier = request.requestId ? record?.decidedRequests?.[request.requestId] : undefined;
        if (earlier && earlier.decision === kind) return { ...earlier, decision: kind };
        throw new DecisionRefusedError(kind, 'the negotiation is already decided');
      }
      throw new UnknownNegotiationError(negotiationId);
    }
    // A workflow without the decision's handler is not a negotiation (a simulation id, say).
    const messages = err instanceof Error ? `${err.message} ${(err as { cause?: Error }).cause?.message ?? ''}` : '';
    if (/no registered handler for update/i.test(messages)) {
      throw new UnknownNegotiationError(negotiationId);
    }
    if (err instanceof WorkflowUpdateFailedError)
      throw new DecisionRefusedError(kind, err.cause?.message ?? err.message);
    // Updates to a negotiation that has already closed fail as "workflow execution already completed".
    if (err instanceof Error && /already completed/i.test(err.message)) {
      throw new DecisionRefusedError(kind, 'the negotiation is already decided');
    }
    throw err;
  }
}
