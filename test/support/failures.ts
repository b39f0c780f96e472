import type { ModelError } from '../../src/activities/errors';

/** The rejection of `promise`, as the model error a test expects; fails the test if it resolves. */
export async function failureOf(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (err) {
    return err as ModelError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
