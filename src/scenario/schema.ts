import { z } from 'zod';
import { slug } from '../negotiation/ids';

// Names become part of workflow ids, which Temporal limits in length, and must keep letters or digits.
const name = z
  .string()
  .trim()
  .min(1, 'must be a non-empty name')
  .max(80, 'must be at most 80 characters')
  .regex(/[\p{L}\p{N}]/u, 'must contain a letter or a digit');

/** Topics tie a client's needs to a vendor's strengths; the offline engine writes its text from them. */
export const topics = [
  'performance',
  'scalability',
  'security',
  'compliance',
  'cost',
  'business_value',
  'schedule',
  'disaster_recovery',
  'observability',
  'user_experience',
  'machine_learning',
  'data',
  'integration',
  'access_control',
] as const;
export type Topic = (typeof topics)[number];

export const needSchema = z
  .object({
    topic: z.enum(topics),
    ask: z.string().trim().min(1, 'must say what the client asks for'),
    weight: z.number().int().min(1).max(5).default(2),
  })
  .strict();
export type Need = z.infer<typeof needSchema>;

export const deadlineSchema = z
  .object({
    weeks: z.number().int().positive(),
    text: z.string().trim().min(1),
  })
  .strict();
export type Deadline = z.infer<typeof deadlineSchema>;

/** What a client discloses only from a given round on, as real clients did in the seed run. */
export const revealSchema = z
  .object({
    // Round 1 reveals are held back from the brief but count from the first review, as in the seed run.
    round: z.number().int().min(1),
    needs: z.array(needSchema).default([]),
    deadline: deadlineSchema.optional(),
  })
  .strict();
export type Reveal = z.infer<typeof revealSchema>;

export const clientSchema = z
  .object({
    name,
    project: z.string().trim().min(1),
    brief: z.string().trim().min(1),
    needs: z.array(needSchema).min(1, 'must list at least one need'),
    deadline: deadlineSchema,
    reveals: z.array(revealSchema).default([]),
    /** Share of weighted needs a proposal must cover in full before the client accepts it. */
    acceptAt: z.number().min(0).max(1).default(0.85),
    /** Below this share, from round 2 on, the client walks away. */
    rejectBelow: z.number().min(0).max(1).default(0.25),
  })
  .strict();
export type Client = z.infer<typeof clientSchema>;

export const vendorSchema = z
  .object({
    name,
    profile: z.string().trim().min(1),
    strengths: z.array(z.enum(topics)).default([]),
    /** The vendor's own estimate of the project's length before any feedback. */
    baseWeeks: z.number().int().positive(),
    /** Share of the client's open requests the vendor works out in full each round. */
    diligence: z.number().min(0).max(1).default(0.5),
  })
  .strict();
export type Vendor = z.infer<typeof vendorSchema>;

export const languages = ['zh', 'en'] as const;
export type Language = (typeof languages)[number];

/** A duration the way Temporal timers take it: `90s`, `30m`, `12h`, `7d`, `2 weeks`. */
const duration = z
  .string()
  .trim()
  .regex(
    /^\d+(\.\d+)?\s*(ms|s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)$/,
    'must be a duration such as 90s, 30m, 12h or 7d',
  );

export const policySchema = z
  .object({
    maxRounds: z.number().int().min(1).max(50).default(3),
    language: z.enum(languages).default('en'),
    /** Whether a client's acceptance waits for a person (`required`) or stands on its own (`auto`). */
    approval: z.enum(['required', 'auto']).default('required'),
    /** At the round limit without agreement: end at once (`end`) or wait for a person to close or extend (`ask`). */
    onRoundLimit: z.enum(['end', 'ask']).default('end'),
    /** How long a gate waits for a decision; without it, a gate waits as long as it takes. */
    approvalTimeout: duration.optional(),
    /** What happens when a gate's wait runs out: end without agreement, approve, or remind and keep waiting. */
    onApprovalTimeout: z.enum(['expire', 'approve', 'remind']).default('expire'),
    /**
     * Start a fresh workflow history after this many rounds. Temporal's own suggestion (a history near its size
     * limit) triggers it too; this bound keeps histories short for negotiations with many rounds.
     */
    continueAsNewAfterRounds: z.number().int().min(1).optional(),
    /**
     * What one negotiation may spend on model calls, checked before each call; when it is used up the
     * negotiation ends as `budget_exhausted` and keeps its last valid proposal.
     */
    budget: z
      .object({
        tokens: z.number().int().positive().optional(),
        usd: z.number().positive().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Policy = z.infer<typeof policySchema>;

export const scenarioSchema = z
  .object({
    name: z
      .string()
      .trim()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes')
      .max(60, 'must be at most 60 characters'),
    title: z.string().trim().optional(),
    policy: policySchema.prefault({}),
    clients: z.array(clientSchema).min(1, 'must name at least one client'),
    vendors: z.array(vendorSchema).min(1, 'must name at least one vendor'),
    pairs: z
      .array(z.object({ client: name, vendor: name }).strict())
      .min(1, 'must pair at least one client with a vendor'),
  })
  .strict();
export type Scenario = z.infer<typeof scenarioSchema>;

/** A problem the schema cannot see on its own: a name that refers to nothing, or one used twice. */
export interface CrossReferenceIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Checks that pairs name known parties and that names are unique. It reads the raw document loosely, so these
 * problems are reported together with the schema's own, not only once everything else is fixed.
 */
export function crossReferenceIssues(raw: unknown): CrossReferenceIssue[] {
  const issues: CrossReferenceIssue[] = [];
  const doc = (raw ?? {}) as { clients?: unknown; vendors?: unknown; pairs?: unknown };
  const names = (list: unknown) =>
    Array.isArray(list)
      ? list.map((p) => {
          const value = (p as { name?: unknown })?.name;
          return typeof value === 'string' ? value.trim() : value;
        })
      : [];
  const clientNames = names(doc.clients);
  const vendorNames = names(doc.vendors);

  for (const [label, list] of [
    ['clients', clientNames],
    ['vendors', vendorNames],
  ] as const) {
    list.forEach((name, index) => {
      if (typeof name !== 'string') return;
      if (list.indexOf(name) !== index) {
        issues.push({ path: [label, index, 'name'], message: `repeats the name "${name}"` });
        return;
      }
      // Two names that read differently can still make the same workflow id ("Acme Inc" and "acme-inc").
      const clash = list.find((other, i) => i < index && typeof other === 'string' && slug(other) === slug(name));
      if (clash !== undefined && slug(name) !== '') {
        issues.push({ path: [label, index, 'name'], message: `gives the same workflow id as "${String(clash)}"` });
      }
    });
  }
  if (!Array.isArray(doc.pairs)) return issues;
  const seenPairs = new Set<string>();
  doc.pairs.forEach((raw, index) => {
    const loose = (raw ?? {}) as { client?: unknown; vendor?: unknown };
    const trimmed = (value: unknown) => (typeof value === 'string' ? value.trim() : value);
    const pair = { client: trimmed(loose.client), vendor: trimmed(loose.vendor) };
    if (typeof pair.client === 'string' && !clientNames.includes(pair.client)) {
      issues.push({ path: ['pairs', index, 'client'], message: `names no client: "${pair.client}"` });
    }
    if (typeof pair.vendor === 'string' && !vendorNames.includes(pair.vendor)) {
      issues.push({ path: ['pairs', index, 'vendor'], message: `names no vendor: "${pair.vendor}"` });
    }
    const key = `${String(pair.client)}\u0000${String(pair.vendor)}`;
    if (seenPairs.has(key)) issues.push({ path: ['pairs', index], message: 'repeats an earlier pair' });
    seenPairs.add(key);
  });
  return issues;
}
