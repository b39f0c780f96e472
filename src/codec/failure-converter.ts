/**
 * The failure converter used with encryption: a failure's message and stack trace move into its encoded attributes,
 * a payload, so the payload codec encrypts them too (a model error can quote a bid). Loaded by path, both by clients
 * and inside the workflow sandbox, so it must import nothing but `@temporalio/common`.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
