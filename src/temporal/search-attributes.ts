/**
 * Parley's custom search attributes: the typed keys that workflows upsert, and the `{ name, type }` list that the
 * dev server registers at start-up.
 *
 * Workflow code imports this module, so it must only import `@temporalio/common` (anything else would drag Node APIs
 * into the workflow sandbox). The keys are the single source of truth; the list is derived from them, so a new key
 * cannot be upserted by a workflow without also being registered on the server.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Where a negotiation stands (open, settled, failed...), for `ParleyStatus = "settled"` queries in the Web UI. */
export const ParleyStatusKey = defineSearchAttributeKey('ParleyStatus', SearchAttributeType.KEYWORD);
/** The client party of a negotiation. */
export const ParleyClientKey = defineSearchAttributeKey('ParleyClient', SearchAttributeType.KEYWORD);
/** The vendor party of a negotiation. */
export const ParleyVendorKey = defineSearchAttributeKey('ParleyVendor', SearchAttributeType.KEYWORD);
/** The version number of the latest proposal document. */
export const ParleyVersionKey = defineSearchAttributeKey('ParleyVersion', SearchAttributeType.INT);
/** The current negotiation round. */
export const ParleyRoundKey = defineSearchAttributeKey('ParleyRound', SearchAttributeType.INT);
/** The client's satisfaction with the latest proposal, as a keyword. */
export const ParleySatisfactionKey = defineSearchAttributeKey('ParleySatisfaction', SearchAttributeType.KEYWORD);
/** The simulation a negotiation belongs to, so all negotiations of one run can be listed together. */
export const ParleySimulationIdKey = defineSearchAttributeKey('ParleySimulationId', SearchAttributeType.KEYWORD);

/** A search attribute type as `temporal server start-dev --search-attribute Name=Type` spells it. */
export type DevServerSearchAttributeType = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/** One custom search attribute the server must know before a workflow can upsert it. */
export interface SearchAttributeDefinition {
  readonly name: string;
  readonly type: DevServerSearchAttributeType;
}

// The SDK names types in SCREAMING_CASE; the dev server's flag wants the CamelCase names of the server's enum.
const devServerTypeNames: Record<SearchAttributeType, DevServerSearchAttributeType> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** Every Parley search attribute, in the form the dev server's `--search-attribute Name=Type` flag expects. */
export const PARLEY_SEARCH_ATTRIBUTES: readonly SearchAttributeDefinition[] = Object.freeze(
  [
    ParleyStatusKey,
    ParleyClientKey,
    ParleyVendorKey,
    ParleyVersionKey,
    ParleyRoundKey,
    ParleySatisfactionKey,
    ParleySimulationIdKey,
  ].map((key) => Object.freeze({ name: key.name, type: devServerTypeNames[key.type] })),
);
