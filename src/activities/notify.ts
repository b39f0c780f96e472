import { ApplicationFailure } from '@temporalio/activity';
import type { NegotiationStatusView, NegotiationSummary } from '../negotiation/record';

/**
 * What an ops tool hears from a negotiation: it waits for a decision, or it has ended. It carries what a list of
 * negotiations shows of each, and the gate it waits at.
 */
export type NegotiationEvent = {
  type: 'negotiation.awaiting_decision' | 'negotiation.settled';
  at: string;
} & NegotiationSummary &
  Pick<NegotiationStatusView, 'pendingGate'>;

/**
 * Posts negotiation events to `PARLEY_WEBHOOK_URL` when the worker has one. A failed delivery is retried by
 * Temporal like any activity; a URL that answers 4xx (other than 408 and 429) will not accept it later either.
 */
export function createNotificationActivities(webhookUrl: string | undefined) {
  return {
    async notifyWebhook(event: NegotiationEvent): Promise<boolean> {
      if (!webhookUrl) return false;
      let response: Response;
      try {
        response = await fetch(webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'parley-webhook' },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err) {
        throw ApplicationFailure.retryable(`webhook unreachable: ${(err as Error).message}`, 'WEBHOOK_UNREACHABLE');
      }
      if (response.ok) return true;
      const permanent = response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
      throw ApplicationFailure.create({
        type: 'WEBHOOK_REFUSED',
        message: `webhook answered ${response.status}`,
        nonRetryable: permanent,
      });
    },
  };
}

export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
