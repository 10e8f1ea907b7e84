import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/idempotency/canonical.js';

describe('canonicalJson', () => {
  it('sorts object keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, 2], c: true } })).toBe('{"a":{"c":true,"d":[3,1,2]},"b":1}');
    expect(canonicalJson({ a: { c: true, d: [3, 1, 2] }, b: 1 })).toBe(
      canonicalJson({ b: 1, a: { d: [3, 1, 2], c: true } }),
    );
  });

  it('treats an undefined property as absent', () => {
    expect(canonicalJson({ a: 1, note: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('writes 1.0 as 1, -0 as 0 and a bigint as its integer', () => {
    expect(canonicalJson({ amount: 1.0 })).toBe('{"amount":1}');
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson({ amount: 4200n })).toBe(canonicalJson({ amount: 4200 }));
  });

  it('NFC-normalises string values and keys', () => {
    const nfd = 'Jose\u0301';
    const nfc = 'Jos\u00e9';
    expect(canonicalJson({ [nfd]: nfd })).toBe(canonicalJson({ [nfc]: nfc }));
  });

  it('writes undefined array elements as null, as JSON does', () => {
    expect(canonicalJson([1, undefined, 3])).toBe('[1,null,3]');
  });

  it('serialises a Date through toJSON', () => {
    expect(canonicalJson({ at: new Date('2024-01-02T03:04:05Z') })).toBe('{"at":"2024-01-02T03:04:05.000Z"}');
  });

  it('refuses values without a faithful JSON form', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ a: Infinity })).toThrow(/finite/);
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson(new Map([['a', 1]]))).toThrow(/Map/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
    expect(() => canonicalJson({ 'Jose\u0301': 1, 'Jos\u00e9': 2 })).toThrow(/NFC/);
  });

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { id: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"id":1},"b":{"id":1}}');
  });
});
