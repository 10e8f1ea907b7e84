import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { codecFromEnv } from '../../src/codec/aes-gcm.js';
import { encryptedKeyIds, missingKeyProblem } from '../../src/codec/history-keys.js';

const keyEnv = (...ids: string[]) =>
  codecFromEnv({
    ONCEFLOW_CODEC_KEY: ids.map((id) => `${id}:${randomBytes(32).toString('base64')}`).join(','),
  })!;

describe('which keys a history needs, read without decrypting', () => {
  it('finds the key ids of encrypted payloads nested anywhere in history events', async () => {
    const [old] = await keyEnv('k1').encode([defaultPayloadConverter.toPayload('a')]);
    const [current] = await keyEnv('k2').encode([defaultPayloadConverter.toPayload('b')]);
    const events = [
      { eventId: 1, workflowExecutionStartedEventAttributes: { input: { payloads: [old] } } },
      { eventId: 2, activityTaskCompletedEventAttributes: { result: { payloads: [current] } } },
      {
        eventId: 3,
        markerRecordedEventAttributes: {
          details: { x: { payloads: [defaultPayloadConverter.toPayload(1)] } },
        },
      },
    ];
    expect([...encryptedKeyIds(events)].sort()).toEqual(['k1', 'k2']);
    expect(
      encryptedKeyIds([{ input: { payloads: [defaultPayloadConverter.toPayload('plain')] } }]).size,
    ).toBe(0);
  });

  it('names what to set when no key or not the right key is configured', () => {
    expect(missingKeyProblem(new Set(), undefined)).toBeUndefined();
    expect(missingKeyProblem(new Set(['k1']), undefined)).toMatch(/encrypted \(key k1\).*ONCEFLOW_CODEC_KEY/);
    expect(missingKeyProblem(new Set(['k1']), ['k2'])).toMatch(
      /key k1, not among the configured keys \(k2\)/,
    );
    expect(missingKeyProblem(new Set(['k1']), keyEnv('k2', 'k1').keyIds)).toBeUndefined();
    expect(keyEnv('k2', 'k1').keyIds).toEqual(['k2', 'k1']);
  });
});
