import { seededRandom } from '../random.js';

/**
 * What a fault does to a matching request. `slow_stream`, `hang_mid_stream` and `error_mid_stream` are
 * for the model's streamed answers (`stream: true`); on a plain request they act as `latency`, `hang`
 * and `fail_before_commit`.
 */
export type FaultKind =
  | 'latency'
  | 'fail_before_commit'
  | 'drop_after_commit'
  | 'delay_after_commit'
  | 'hang'
  | 'slow_stream'
  | 'hang_mid_stream'
  | 'error_mid_stream';

/** One fault-injection rule. */
export interface FaultRule {
  match?: {
    method?: string;
    /** Path prefix, e.g. `/v1/payment_intents`. */
    path?: string;
    idempotencyKey?: string;
    messageId?: string;
    scenario?: string;
    /** MCP tool name (the MCP sandbox's `tools/call`), e.g. `create_ticket`. */
    tool?: string;
  };
  fault: FaultKind;
  /** For `latency` and `delay_after_commit`; for `slow_stream`, the pause between two streamed events. */
  latencyMs?: number;
  /** How many matching requests it hits; default 1. */
  times?: number;
  /** Chance (0..1) that a matching request is hit, drawn from the seeded PRNG; default 1. */
  probability?: number;
}

/** The request attributes rules match on. */
export interface FaultSubject {
  method?: string;
  path?: string;
  idempotencyKey?: string | undefined;
  messageId?: string | undefined;
  scenario?: string | undefined;
  tool?: string | undefined;
}

const KINDS: readonly FaultKind[] = [
  'latency',
  'fail_before_commit',
  'drop_after_commit',
  'delay_after_commit',
  'hang',
  'slow_stream',
  'hang_mid_stream',
  'error_mid_stream',
];

/** The kinds that mean nothing without a `latencyMs`. */
const NEEDS_LATENCY: readonly FaultKind[] = ['latency', 'delay_after_commit', 'slow_stream'];

/** A rule set that does not validate; the admin endpoint answers it with 400 and this message. */
export class FaultRuleError extends Error {}

function validate(raw: unknown): FaultRule {
  if (typeof raw !== 'object' || raw === null) throw new FaultRuleError('each rule must be an object');
  const rule = raw as Record<string, unknown>;
  if (!KINDS.includes(rule.fault as FaultKind)) {
    throw new FaultRuleError(`fault must be one of ${KINDS.join(', ')}; got ${JSON.stringify(rule.fault)}`);
  }
  for (const field of ['latencyMs', 'times'] as const) {
    const v = rule[field];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
      throw new FaultRuleError(`${field} must be a non-negative integer`);
    }
  }
  const p = rule.probability;
  if (p !== undefined && (typeof p !== 'number' || p < 0 || p > 1)) {
    throw new FaultRuleError('probability must be a number between 0 and 1');
  }
  if (NEEDS_LATENCY.includes(rule.fault as FaultKind) && rule.latencyMs === undefined) {
    throw new FaultRuleError(`${String(rule.fault)} needs latencyMs`);
  }
  if (rule.match !== undefined && (typeof rule.match !== 'object' || rule.match === null)) {
    throw new FaultRuleError('match must be an object');
  }
  return rule as unknown as FaultRule;
}

/**
 * The fault rules of one service. Rules are consumed in order: the first matching rule with hits left
 * (and winning its probability draw) applies to the request.
 */
export class FaultController {
  private rules: { rule: FaultRule; left: number }[] = [];
  private readonly counts: Record<string, number> = {};
  private random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  /** Replaces the rules (validated; throws {@link FaultRuleError}). */
  set(rules: unknown, seed?: number): void {
    if (!Array.isArray(rules)) throw new FaultRuleError('rules must be an array');
    const valid = rules.map(validate);
    this.rules = valid.map((rule) => ({ rule, left: rule.times ?? 1 }));
    if (seed !== undefined) this.random = seededRandom(seed);
  }

  /** Adds rules after the current ones (validated; throws {@link FaultRuleError}). */
  add(rules: unknown): void {
    if (!Array.isArray(rules)) throw new FaultRuleError('rules must be an array');
    this.rules.push(...rules.map(validate).map((rule) => ({ rule, left: rule.times ?? 1 })));
  }

  clear(): void {
    this.rules = [];
  }

  /** Faults injected so far, by kind. */
  injected(): Record<string, number> {
    return { ...this.counts };
  }

  /** The fault for this request, if any; consumes one hit of its rule. */
  take(subject: FaultSubject): FaultRule | undefined {
    for (const entry of this.rules) {
      if (entry.left <= 0) continue;
      const m = entry.rule.match ?? {};
      if (m.method && m.method.toUpperCase() !== subject.method?.toUpperCase()) continue;
      if (m.path && !subject.path?.startsWith(m.path)) continue;
      if (m.idempotencyKey && m.idempotencyKey !== subject.idempotencyKey) continue;
      if (m.messageId && m.messageId !== subject.messageId) continue;
      if (m.scenario && m.scenario !== subject.scenario) continue;
      if (m.tool && m.tool !== subject.tool) continue;
      if (entry.rule.probability !== undefined && this.random() >= entry.rule.probability) continue;
      entry.left--;
      this.counts[entry.rule.fault] = (this.counts[entry.rule.fault] ?? 0) + 1;
      return entry.rule;
    }
    return undefined;
  }
}
