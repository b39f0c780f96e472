import { SearchAttributeType } from '@temporalio/common';
// Exported by the SDK for registering search attributes; the public entry point does not re-export it.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import type { DevServerSearchAttributeType } from './search-attributes';

const sdkTypes: Record<DevServerSearchAttributeType, SearchAttributeType> = {
  Text: SearchAttributeType.TEXT,
  Keyword: SearchAttributeType.KEYWORD,
  Int: SearchAttributeType.INT,
  Double: SearchAttributeType.DOUBLE,
  Bool: SearchAttributeType.BOOL,
  Datetime: SearchAttributeType.DATETIME,
  KeywordList: SearchAttributeType.KEYWORD_LIST,
};

/** The operator service's number for a search attribute type, as `addSearchAttributes` and its listing use it. */
export function indexedValueType(type: DevServerSearchAttributeType): number {
  return encodeSearchAttributeIndexedValueType(sdkTypes[type]) as number;
}

/** The readable name of an operator-service type number, for messages about a type that does not match. */
export function typeName(indexedType: number | null | undefined): string {
  const name = (Object.keys(sdkTypes) as DevServerSearchAttributeType[]).find(
    (t) => indexedValueType(t) === indexedType,
  );
  return name ?? `type #${indexedType}`;
}
