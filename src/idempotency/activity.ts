import { Context } from '@temporalio/activity';
import { toApplicationFailure } from './failure.js';
import { deriveIntent } from './keys.js';
import type { Ledger, OnceResult, PerformContext, RecoveryPolicy, VerifyResult } from './ledger.js';

/** What {@link runOnce} needs to guard one side effect inside a Temporal activity. */
export interface RunOnceOptions<T> {
  ledger: Ledger;
  /** The tool (operation) name; part of the key. */
  tool: string;
  /** Fields of `input` that make the key (see `deriveIntent`). */
  identityFields: readonly string[];
  /** Further fields of `input` that make the fingerprint only (amount, currency). */
  stableFields: readonly string[];
  /** What to do when an earlier attempt crashed. */
  recovery: RecoveryPolicy;
  /** The tool input. Fields in neither list (free text) change neither key nor fingerprint. */
  input: Record<string, unknown>;
  /** The business task. Default: the workflow ID of the activity's workflow. */
  scope?: string;
  /** Asks the downstream whether the effect with this key happened. Required for recovery `verify`. */
  verify?: (key: string) => Promise<VerifyResult<T>>;
  /**
   * Lease of the claim in ms. Default: the attempt's start-to-close timeout plus 5 s (past it Temporal has
   * given up on the attempt, so a later one may recover it), or the ledger's default when there is none.
   */
  leaseMs?: number;
  /** See `OnceRequest.claimFirst`. Default false. */
  claimFirst?: boolean;
}

const LEASE_MARGIN_MS = 5_000;

/**
 * The lease a claim made inside this activity attempt should carry: the attempt's start-to-close
 * timeout plus a margin (past it Temporal has given up on the attempt, so a later one may recover the
 * claim), or undefined when there is no timeout (the ledger's default applies).
 */
export function attemptLeaseMs(info: { startToCloseTimeoutMs: number }): number | undefined {
  return info.startToCloseTimeoutMs > 0 ? info.startToCloseTimeoutMs + LEASE_MARGIN_MS : undefined;
}

/**
 * Inside a Temporal activity: derives the intent key and fingerprint from `input`, runs `perform(key,
 * ctx)` through `ledger.once` (see its doc for retry, crash and conflict semantics), and converts a
 * onceflow error to an `ApplicationFailure` (`type = code`, non-retryable unless the error is), once,
 * here at the activity boundary. `perform` must hand `key` to the downstream (Idempotency-Key,
 * Message-ID, a unique column) so that a resumed attempt is deduplicated there too.
 */
export async function runOnce<T>(
  options: RunOnceOptions<T>,
  perform: (key: string, ctx: PerformContext) => Promise<T>,
): Promise<OnceResult<T>> {
  try {
    const info = Context.current().info;
    const scope = options.scope ?? info.workflowExecution?.workflowId;
    if (scope === undefined) {
      throw new TypeError(`runOnce(${options.tool}): no scope given and the activity has no workflow`);
    }
    const { key, fingerprint } = deriveIntent({
      scope,
      tool: options.tool,
      input: options.input,
      identityFields: options.identityFields,
      stableFields: options.stableFields,
    });
    const { verify } = options;
    const leaseMs = options.leaseMs ?? attemptLeaseMs(info);
    return await options.ledger.once<T>(
      {
        key,
        scope,
        operation: options.tool,
        fingerprint,
        recovery: options.recovery,
        ...(leaseMs !== undefined ? { leaseMs } : {}),
        ...(options.claimFirst ? { claimFirst: true } : {}),
        ...(verify ? { verify: () => verify(key) } : {}),
      },
      (ctx) => perform(key, ctx),
    );
  } catch (err) {
    throw toApplicationFailure(err);
  }
}

/** The static part of {@link RunOnceOptions}: everything but the input. */
export type GuardedActivityDefinition<T> = Omit<RunOnceOptions<T>, 'input' | 'scope'>;

/**
 * Builds an activity function from a tool definition: `(input) => runOnce({ ...definition, input }, perform)`.
 * The scope is the calling workflow's ID.
 */
export function guardedActivity<I extends Record<string, unknown>, T>(
  definition: GuardedActivityDefinition<T>,
  perform: (key: string, ctx: PerformContext, input: I) => Promise<T>,
): (input: I) => Promise<OnceResult<T>> {
  return (input) => runOnce({ ...definition, input }, (key, ctx) => perform(key, ctx, input));
}
