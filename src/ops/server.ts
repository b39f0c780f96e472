import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { DecisionRefusedError, sendDecision, UnknownNegotiationError } from '../cli/decisions';
import { listNegotiations, negotiationStatus } from '../cli/simulations';
import { CliError } from '../cli/errors';
import { negotiationStatuses } from '../negotiation/record';
import type { DecisionKind, DecisionRequest } from '../workflows/messages';

/** The URL verbs of the ops API and the decision each sends. */
const decisionRoutes: Record<string, DecisionKind> = {
  approve: 'approve',
  reject: 'reject',
  revise: 'requestRevision',
  extend: 'extendRounds',
};

/**
 * A small HTTP API for ops tools and chat bots. Every request needs `Authorization: Bearer <token>`; a request
 * without the right token is answered 401 before anything reaches Temporal.
 */
export function buildOpsServer(client: Client, token: string): FastifyInstance {
  if (!token) throw new Error('the ops server needs a bearer token');
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
  const expected = Buffer.from(`Bearer ${token}`);

  // Every error, the framework's own included (a body that is not JSON, one too large), answers as `{"error"}`.
  app.setErrorHandler(async (err: { statusCode?: number; message: string }, _request, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) console.error('ops-server:', err);
    await reply.code(status).send({ error: status === 500 ? 'internal error' : err.message });
  });

  app.addHook('onRequest', async (request, reply) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      await reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'a valid bearer token is required' });
    }
  });

  app.get<{ Querystring: { status?: string; simulationId?: string; limit?: string } }>(
    '/negotiations',
    async (request, reply) => {
      const { status, simulationId, limit } = request.query;
      const max = limit === undefined ? undefined : Number(limit);
      if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 1000)) {
        return reply.code(400).send({ error: 'limit must be a whole number from 1 to 1000' });
      }
      if (status && !(negotiationStatuses as readonly string[]).includes(status)) {
        return reply.code(400).send({ error: `status must be one of ${negotiationStatuses.join(', ')}` });
      }
      return {
        negotiations: await listNegotiations(client, {
          status,
          simulationId,
          limit: max,
        }),
      };
    },
  );

  app.get<{ Params: { id: string } }>('/negotiations/:id', async (request, reply) => {
    try {
      return await negotiationStatus(client, request.params.id);
    } catch (err) {
      if (err instanceof CliError) return reply.code(404).send({ error: err.message });
      throw err;
    }
  });

  app.post<{ Params: { id: string; verb: string }; Body: unknown }>(
    '/negotiations/:id/:verb',
    async (request, reply) => {
      const kind = decisionRoutes[request.params.verb];
      if (!kind)
        return reply
          .code(404)
          .send({ error: `unknown decision "${request.params.verb}"; use approve, reject, revise or extend` });
      const body = request.body ?? {};
      if (typeof body !== 'object' || Array.isArray(body))
        return reply.code(400).send({ error: 'the body must be a JSON object' });
      try {
        return await sendDecision(client, request.params.id, kind, body as DecisionRequest);
      } catch (err) {
        if (err instanceof UnknownNegotiationError) return reply.code(404).send({ error: err.message });
        if (err instanceof DecisionRefusedError) return reply.code(409).send({ error: err.reason });
        throw err;
      }
    },
  );

  return app;
}
