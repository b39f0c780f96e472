import { z } from 'zod';

/**
 * The vendor's proposal, with the field names of the seed transcript. The workflow owns `version`:
 * whatever number a model writes there is overwritten with the round the workflow is in.
 */
export const proposalSchema = z
  .object({
    version: z.number().int().positive(),
    technical_design: z.string().min(1),
    feature_list: z.array(z.string().min(1)).min(1),
    implementation_plan: z.string().min(1),
    timeline: z.string().min(1),
    risk_analysis: z.string().min(1),
  })
  .strict();
export type Proposal = z.infer<typeof proposalSchema>;

/** How the client judges a proposal, from best to worst. Only `accepted` ends the negotiation with an agreement. */
export const satisfactionLevels = ['accepted', 'needs_minor_revision', 'needs_major_revision', 'rejected'] as const;
export type Satisfaction = (typeof satisfactionLevels)[number];

/** The client's review of one proposal, with the field names of the seed transcript. */
export const reviewSchema = z
  .object({
    overall_satisfaction: z.enum(satisfactionLevels),
    weaknesses: z.array(z.string().min(1)),
    additional_requirements: z.array(z.string().min(1)),
    revision_priority: z.array(z.string().min(1)),
    expected_improvements: z.string().min(1),
  })
  .strict();
export type Review = z.infer<typeof reviewSchema>;
