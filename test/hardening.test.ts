import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, MAX_RETRY_AFTER_MS } from '../src/activities';
import { ModelApiError } from '../src/activities/errors';
import type { DraftProposalInput, NegotiationModel } from '../src/activities/types';
import { problemsOf } from './support/scenario-problems';

const rest = `
vendors: [{ name: V, profile: p, baseWeeks: 1 }]
`;
const client = (name: string) =>
  `{ name: "${name}", project: p, brief: b, deadline: { weeks: 1, text: t }, needs: [{ topic: cost, ask: a }] }`;

describe('input that would only fail once a simulation ran', () => {
  it('refuses two names that would make the same workflow id', () => {
    const problems = problemsOf(
      `name: x\nclients: [${client('Acme Inc')}, ${client('acme-inc')}]\n${rest}pairs: [{ client: Acme Inc, vendor: V }]\n`,
    );

    expect(problems).toEqual(['bad.yaml: clients[1].name: gives the same workflow id as "Acme Inc"']);
  });

  it('refuses a name repeated with trailing spaces, one too long, and one without letters or digits', () => {
    const problems = problemsOf(
      `name: x\nclients: [${client('Acme')}, ${client('Acme  ')}, ${client('A'.repeat(81))}, ${client('🚀🚀')}]\n${rest}pairs: [{ client: Acme, vendor: V }]\n`,
    );

    expect(problems).toEqual([
      'bad.yaml: clients[2].name: must be at most 80 characters',
      'bad.yaml: clients[3].name: must contain a letter or a digit',
      'bad.yaml: clients[1].name: repeats the name "Acme"',
    ]);
  });

  it('reports a YAML alias bomb as invalid YAML in the file', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );

    const problems = problemsOf(levels.join('\n'));

    expect(problems).toEqual([expect.stringMatching(/^bad\.yaml: invalid YAML: /)]);
  });
});

describe('a server that asks to be left alone for a day', () => {
  it('gets its Retry-After honoured only up to five minutes', async () => {
    const rateLimited: NegotiationModel = {
      provider: 'openai',
      model: 'm',
      draftProposal: async () => {
        throw new ModelApiError('slow down', {
          code: 'MODEL_RATE_LIMITED',
          isRetryable: true,
          status: 429,
          retryAfterMs: 86_400_000,
        });
      },
      reviewProposal: async () => {
        throw new Error('not called');
      },
    };
    const activities = createActivities(() => rateLimited);

    const input: DraftProposalInput = {
      negotiationId: 'n',
      language: 'en',
      llm: { provider: 'openai' },
      client: { name: 'C', project: 'p', brief: 'b', needs: [], deadline: { weeks: 1, text: 't' } },
      vendor: { name: 'V', profile: 'p', strengths: [], baseWeeks: 1, diligence: 0.5 },
      version: 1,
    };

    const failure = (await new MockActivityEnvironment()
      .run(activities.draftProposal, input)
      .catch((e: unknown) => e)) as ApplicationFailure;

    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.nextRetryDelay).toBe(MAX_RETRY_AFTER_MS);
  });
});
