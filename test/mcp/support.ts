import { ApplicationFailure } from '@temporalio/common';
import { expect } from 'vitest';

/** The Temporal failure an MCP activity threw: its type, whether retryable, its details. */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}
