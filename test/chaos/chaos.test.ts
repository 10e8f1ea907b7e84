import { describe, expect, inject, it } from 'vitest';
import { FAULTS } from '../../bench/chaos/plan.js';
import { chaosPassed, runChaos } from '../../bench/chaos/run.js';

describe('chaos: a fixed-seed run with every fault', () => {
  it('ends every task explained, with no duplicate effect and no lost compensation', async () => {
    const report = await runChaos({
      runs: 20,
      seed: 2026,
      faults: FAULTS,
      workers: 2,
      concurrency: 8,
      timeoutMs: 120_000,
      env: {
        temporalAddress: inject('temporalAddress'),
        namespace: inject('namespace'),
        databaseUrl: inject('databaseUrl'),
      },
    });
    expect(report.failing).toEqual([]);
    expect(report).toMatchObject({
      duplicates: 0,
      lostCompensations: 0,
      statusDisagreements: 0,
      unfinished: 0,
      stuckClaims: 0,
    });
    expect(report.encrypted).toBe(true); // the npm start default
    expect(report.faults.startAfterDone).toBeGreaterThan(0);
    expect(report.faults.resetPastUndo).toBeGreaterThan(0);
    expect(report.effectsObserved).toBe(report.effectsDistinct);
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);
    expect(chaosPassed(report)).toBe(true);
  }, 600_000);
});
