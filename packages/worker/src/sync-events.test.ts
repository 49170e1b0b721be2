import { expect, test } from 'vitest';
import { EventRateLimiter, eventForTransition } from './sync-events.js';

const ready = { type: 'Ready', status: 'True' as const, reason: 'SecretSynced' };
const failing = (reason: string) => ({ type: 'Ready', status: 'False' as const, reason, message: 'm' });

test('a failure is an Event when it starts or changes reason, not on each retry', () => {
  expect(eventForTransition(ready, { status: 'False', reason: 'ProviderUnavailable', message: 'endpoint answered 500' })).toEqual({
    type: 'Warning',
    reason: 'UpdateFailed',
    message: 'ProviderUnavailable: endpoint answered 500',
  });
  expect(eventForTransition(undefined, { status: 'False', reason: 'RemoteKeyNotFound', message: 'x' })?.type).toBe('Warning');
  expect(eventForTransition(failing('ProviderUnavailable'), { status: 'False', reason: 'ProviderUnavailable', message: 'again' })).toBeUndefined();
  expect(eventForTransition(failing('ProviderUnavailable'), { status: 'False', reason: 'RemoteKeyNotFound', message: 'x' })?.reason).toBe('UpdateFailed');
});

test('a recovery is an Event; a sync that was never failing is not', () => {
  expect(eventForTransition(failing('ProviderUnavailable'), { status: 'True', reason: 'updated', message: '' })).toEqual({
    type: 'Normal',
    reason: 'Recovered',
    message: 'synced again after ProviderUnavailable',
  });
  expect(eventForTransition(ready, { status: 'True', reason: 'updated', message: '' })).toBeUndefined();
  expect(eventForTransition(undefined, { status: 'True', reason: 'created', message: '' })).toBeUndefined();
});

test('one object gets its burst of Events, then one per refill; the others keep theirs', () => {
  let now = 0;
  const limiter = new EventRateLimiter({ perObjectBurst: 3, perObjectRps: 1 / 60, totalBurst: 1000, totalRps: 1000 }, () => now);
  const sent = Array.from({ length: 10 }, () => limiter.allow('ns/flapping')).filter(Boolean).length;
  expect(sent).toBe(3);
  expect(limiter.allow('ns/other')).toBe(true);
  now += 59_000;
  expect(limiter.allow('ns/flapping')).toBe(false);
  now += 1_000;
  expect(limiter.allow('ns/flapping')).toBe(true);
});

test('a storm of failures over many objects sends the total burst, then the total rate', () => {
  let now = 0;
  const limiter = new EventRateLimiter({ perObjectBurst: 5, perObjectRps: 1, totalBurst: 20, totalRps: 2 }, () => now);
  const first = Array.from({ length: 1000 }, (_, i) => limiter.allow(`ns/es-${i}`)).filter(Boolean).length;
  expect(first).toBe(20);
  now += 10_000;
  const next = Array.from({ length: 1000 }, (_, i) => limiter.allow(`ns/es-${i}`)).filter(Boolean).length;
  expect(next).toBe(20);
});
