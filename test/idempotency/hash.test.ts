import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { base64url, sha256 } from '../../src/idempotency/hash.js';

describe('workflow-safe sha256', () => {
  const samples = [
    '',
    'abc',
    'a'.repeat(55),
    'a'.repeat(56),
    'a'.repeat(64),
    'ünïcödé ✓ 🚀',
    'x'.repeat(1000),
  ];

  it.each(samples)('matches node:crypto for %#', (text) => {
    const expected = createHash('sha256').update(text, 'utf8').digest('base64url');
    expect(base64url(sha256(text))).toBe(expected);
  });

  it('encodes base64url of every length without padding', () => {
    for (let n = 0; n < 8; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 250) & 255);
      expect(base64url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
    }
  });
});
