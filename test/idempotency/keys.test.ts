import { describe, expect, it } from 'vitest';
import {
  compensationKey,
  deriveIntent,
  fingerprint,
  intentKey,
  KEY_VERSION,
  normalizeEmail,
  shortKey,
} from '../../src/idempotency/keys.js';

const charge = {
  scope: 'task-42',
  tool: 'charge_card',
  identityFields: ['orderId'],
  stableFields: ['amount', 'currency'],
} as const;

describe('intent keys', () => {
  it('is ik_ plus 32 base64url characters, safe in headers and URLs', () => {
    const key = intentKey({ scope: 'task-1', tool: 'charge_card', identity: { orderId: 'o-1' } });
    expect(key).toMatch(/^ik_[A-Za-z0-9_-]{32}$/);
    expect(fingerprint({ amount: 1 })).toMatch(/^fp_[A-Za-z0-9_-]{32}$/);
    expect(KEY_VERSION).toBe(1);
  });

  it('is the same for the same intent and differs by scope, tool and identity', () => {
    const base = { scope: 'task-1', tool: 'charge_card', identity: { orderId: 'o-1' } };
    const key = intentKey(base);
    expect(intentKey({ ...base })).toBe(key);
    expect(intentKey({ ...base, scope: 'task-2' })).not.toBe(key);
    expect(intentKey({ ...base, tool: 'refund' })).not.toBe(key);
    expect(intentKey({ ...base, identity: { orderId: 'o-2' } })).not.toBe(key);
  });

  it('derives compensation keys from the step key', () => {
    expect(compensationKey('ik_abc')).toBe('ik_abc:undo');
  });

  it('normalises emails by trimming and lower-casing', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM ')).toBe('ada.lovelace@example.com');
  });

  it('shortens keys for summaries and keeps the undo suffix', () => {
    const key = intentKey({ scope: 's', tool: 't', identity: {} });
    expect(shortKey(key)).toBe(`${key.slice(0, 10)}…`);
    expect(shortKey(compensationKey(key))).toBe(`${key.slice(0, 10)}…:undo`);
    expect(shortKey('ik_short')).toBe('ik_short');
  });
});

describe('deriveIntent', () => {
  const input = { orderId: 'o-42', amount: 4200, currency: 'EUR', reason: 'first try' };

  it('gives equal keys and fingerprints whatever the property order', () => {
    const a = deriveIntent({ ...charge, input });
    const b = deriveIntent({
      ...charge,
      input: { reason: 'first try', currency: 'EUR', amount: 4200, orderId: 'o-42' },
    });
    expect(b).toEqual(a);
  });

  it('treats 1.0 and 1 as the same amount', () => {
    expect(deriveIntent({ ...charge, input: { ...input, amount: 1.0 } })).toEqual(
      deriveIntent({ ...charge, input: { ...input, amount: 1 } }),
    );
  });

  it('treats NFC and NFD spellings of an identity field as the same', () => {
    const nfc = deriveIntent({ ...charge, input: { ...input, orderId: 'caf\u00e9-1' } });
    const nfd = deriveIntent({ ...charge, input: { ...input, orderId: 'cafe\u0301-1' } });
    expect(nfd).toEqual(nfc);
  });

  it('treats an absent field and an undefined one as the same', () => {
    const spec = { ...charge, stableFields: ['amount', 'currency', 'coupon'] };
    expect(deriveIntent({ ...spec, input: { ...input, coupon: undefined } })).toEqual(
      deriveIntent({ ...spec, input }),
    );
  });

  it('ignores case and surrounding whitespace in email-valued fields', () => {
    const email = {
      scope: 't',
      tool: 'send_email',
      identityFields: ['orderId', 'template', 'to'],
      stableFields: [],
    };
    const a = deriveIntent({
      ...email,
      input: { orderId: 'o-1', template: 'receipt', to: 'Ada@Example.com' },
    });
    const b = deriveIntent({
      ...email,
      input: { orderId: 'o-1', template: 'receipt', to: '  ada@example.COM ' },
    });
    expect(b).toEqual(a);
    const c = deriveIntent({
      ...email,
      input: { orderId: 'o-1', template: 'receipt', to: 'bob@example.com' },
    });
    expect(c.key).not.toBe(a.key);
  });

  it('normalises customerEmail-style fields, arrays of recipients and extra declared email fields', () => {
    const spec = {
      scope: 't',
      tool: 'notify',
      identityFields: ['customerEmail', 'cc', 'owner'],
      stableFields: [],
    };
    const a = deriveIntent({
      ...spec,
      emailFields: ['owner'],
      input: { customerEmail: 'A@X.io', cc: ['B@X.io'], owner: 'C@X.io' },
    });
    const b = deriveIntent({
      ...spec,
      emailFields: ['owner'],
      input: { customerEmail: 'a@x.io', cc: [' b@x.io'], owner: 'c@x.io' },
    });
    expect(b).toEqual(a);
  });

  it('gives a new key when an identity field changes', () => {
    const a = deriveIntent({ ...charge, input });
    const b = deriveIntent({ ...charge, input: { ...input, orderId: 'o-43' } });
    expect(b.key).not.toBe(a.key);
  });

  it('keeps the key but changes the fingerprint when a stable field changes under the same identity', () => {
    const a = deriveIntent({ ...charge, input });
    const b = deriveIntent({ ...charge, input: { ...input, amount: 9900 } });
    expect(b.key).toBe(a.key);
    expect(b.fingerprint).not.toBe(a.fingerprint);
  });

  it('changes neither key nor fingerprint when only free text changes', () => {
    const a = deriveIntent({ ...charge, input });
    const b = deriveIntent({ ...charge, input: { ...input, reason: 'the customer asked again, politely' } });
    const c = deriveIntent({ ...charge, input: { orderId: 'o-42', amount: 4200, currency: 'EUR' } });
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('gives different keys to the same identity in different tasks', () => {
    expect(deriveIntent({ ...charge, scope: 'task-1', input }).key).not.toBe(
      deriveIntent({ ...charge, scope: 'task-2', input }).key,
    );
  });
});
