/**
 * The marker an activity failure carries when its error class says the model should be told (see
 * `OnceflowError.toldToModel`). Plain data, so workflow code reads it without importing error classes.
 */
export const TOLD_TO_MODEL = { onceflow: 'told_to_model' } as const;

/** True when a failure's details carry {@link TOLD_TO_MODEL}. */
export function carriesToldToModel(details: readonly unknown[] | undefined): boolean {
  return (details ?? []).some(
    (d) =>
      typeof d === 'object' &&
      d !== null &&
      (d as { onceflow?: unknown }).onceflow === TOLD_TO_MODEL.onceflow,
  );
}
