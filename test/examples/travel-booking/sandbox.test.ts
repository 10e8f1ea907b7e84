import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTravelClient,
  startTravelSandbox,
  TravelApiError,
  type ReserveRequest,
  type ResourceKind,
  type TravelClient,
  type TravelSandbox,
} from '../../../examples/travel-booking/sandbox/index.js';

const ref = () => `ref_${randomUUID().slice(0, 12)}`;
const flight = (reference = ref()): ReserveRequest<'flights'> => ({
  reference,
  ...{ from: 'AMS', to: 'LIS', date: '2026-05-04', passenger: 'Ada Lovelace' },
  ...{ price_cents: 18_900, currency: 'EUR' },
});
const hotel = (reference = ref()): ReserveRequest<'hotels'> => ({
  reference,
  ...{ city: 'Lisbon', check_in: '2026-05-04', check_out: '2026-05-07', guest: 'Ada Lovelace' },
  ...{ price_cents: 42_000, currency: 'EUR' },
});
const car = (reference = ref()): ReserveRequest<'cars'> => ({
  reference,
  ...{ city: 'Lisbon', pick_up: '2026-05-04', drop_off: '2026-05-04', driver: 'Ada Lovelace' },
  ...{ price_cents: 5_500, currency: 'EUR' },
});

/** Rejects with the TravelApiError `promise` throws. */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('expected a TravelApiError'),
    (err: unknown) => (expect(err).toBeInstanceOf(TravelApiError), err as TravelApiError),
  );

describe('travel reservations sandbox: the client reference is the idempotency key', () => {
  let sandbox: TravelSandbox;
  let client: TravelClient;
  const post = (path: string, body: unknown, contentType = 'application/json') =>
    fetch(`${sandbox.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const commits = (kind: ResourceKind, reference: string) =>
    sandbox.audit()[kind].references[reference]?.commits ?? 0;

  beforeAll(async () => {
    sandbox = await startTravelSandbox();
    client = createTravelClient(sandbox.url, { timeoutMs: 2_000 });
  });
  afterAll(() => sandbox.close());

  it('listens on 127.0.0.1 on an ephemeral port', () => {
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it.each([
    ['flights', flight(), 'flt_'],
    ['hotels', hotel(), 'htl_'],
    ['cars', car(), 'car_'],
  ] as const)(
    'books %s: 201 with the terms; the same request again replays it (200)',
    async (kind, body, prefix) => {
      const first = await post(`/v1/${kind}/reservations`, body);
      expect(first.status).toBe(201);
      expect(first.headers.get('location')).toBe(`/v1/${kind}/reservations/${body.reference}`);
      const created = (await first.json()) as { id: string; created_at: string };
      expect(created.id).toMatch(new RegExp(`^${prefix}[0-9a-f]{16}$`));
      expect(Date.parse(created.created_at)).not.toBeNaN();
      const { id, created_at } = created;
      expect(created).toEqual({ ...body, id, status: 'confirmed', created_at, cancelled_at: null });
      const again = await post(`/v1/${kind}/reservations`, body);
      expect(again.status).toBe(200);
      expect(again.headers.get('reservation-replayed')).toBe('true');
      expect(await again.json()).toEqual(created);
      expect(await client.get(kind, body.reference)).toEqual(created);
      expect(sandbox.audit()[kind].references[body.reference]).toEqual({
        id: created.id,
        status: 'confirmed',
        commits: 1,
        cancels: 0,
      });
    },
  );

  it('keeps references unique per kind, not across kinds', async () => {
    const reference = ref();
    expect((await client.reserve('flights', flight(reference))).replayed).toBe(false);
    expect((await client.reserve('hotels', hotel(reference))).replayed).toBe(false);
    expect((await client.reserve('flights', flight(reference))).replayed).toBe(true);
  });

  it('refuses the same reference with other terms: 409 reference_conflict, final', async () => {
    const body = flight();
    await client.reserve('flights', body);
    const err = await failure(client.reserve('flights', { ...body, price_cents: 19_900 }));
    expect(err).toMatchObject({ status: 409, type: 'reference_conflict', retryable: false });
    expect(err.reference).toBe(body.reference);
    expect((await client.get('flights', body.reference))?.price_cents).toBe(18_900);
  });

  it('cancels idempotently, 404s an unknown reference, never rebooks a cancelled one', async () => {
    const body = hotel();
    await client.reserve('hotels', body);
    const cancelled = await client.cancel('hotels', body.reference);
    expect(cancelled.status).toBe('cancelled');
    expect(Date.parse(cancelled.cancelled_at ?? '')).not.toBeNaN();
    expect(await client.cancel('hotels', body.reference)).toEqual(cancelled);
    expect(sandbox.audit().hotels.references[body.reference]).toMatchObject({ commits: 1, cancels: 1 });
    const again = await post(`/v1/hotels/reservations`, body);
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({
      error: { type: 'reference_cancelled', reference: body.reference },
    });
    const unknown = await post(`/v1/hotels/reservations/${ref()}/cancel`, '', 'text/plain');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { type: 'reservation_not_found' } });
  });

  it('refuses sold-out bookings with 422 sold_out, commits nothing, and is not retryable', async () => {
    const toNowhere = flight();
    const err = await failure(client.reserve('flights', { ...toNowhere, to: 'XXX' }));
    expect(err).toMatchObject({ status: 422, type: 'sold_out', retryable: false });
    const atlantis = await post('/v1/hotels/reservations', { ...hotel(), city: 'Atlantis' });
    expect(atlantis.status).toBe(422);
    expect(await atlantis.json()).toMatchObject({ error: { type: 'sold_out' } });
    expect(sandbox.audit().flights.references[toNowhere.reference]).toBeUndefined();
  });

  it.each([
    ['flights', { ...flight(), reference: undefined }, 'reference'],
    ['flights', flight('has space'), 'reference'],
    ['flights', flight('x'.repeat(65)), 'reference'],
    ['flights', { ...flight(), from: 'ams' }, 'from'],
    ['flights', { ...flight(), to: 'AMS' }, 'to'],
    ['flights', { ...flight(), date: '2026-02-30' }, 'date'],
    ['flights', { ...flight(), passenger: ' ' }, 'passenger'],
    ['flights', { ...flight(), price_cents: 10.5 }, 'price_cents'],
    ['flights', { ...flight(), price_cents: undefined }, 'price_cents'],
    ['flights', { ...flight(), currency: 'eur' }, 'currency'],
    ['flights', { ...flight(), seat: '12A' }, 'seat'],
    ['hotels', { ...hotel(), check_out: '2026-05-04' }, 'check_out'],
    ['cars', { ...car(), drop_off: '2026-05-03' }, 'drop_off'],
    ['cars', { ...car(), price_cents: -1 }, 'price_cents'],
  ] as const)('%s: 400 invalid_request naming the field (%#: %s)', async (kind, body, param) => {
    const before = sandbox.audit()[kind].reservations;
    const response = await post(`/v1/${kind}/reservations`, body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { type: string; param: string; message: string } };
    expect(error).toMatchObject({ type: 'invalid_request', param });
    expect(error.message).toContain(param);
    expect(sandbox.audit()[kind].reservations).toBe(before);
  });

  it('answers malformed JSON 400, a non-JSON body 415 and a body over 1 MB 413 (drained)', async () => {
    const bad = await post('/v1/cars/reservations', '{"reference":');
    expect([bad.status, ((await bad.json()) as { error: { type: string } }).error.type]).toEqual([
      400,
      'invalid_request',
    ]);
    const form = await post('/v1/cars/reservations', 'reference=abc', 'application/x-www-form-urlencoded');
    expect(form.status).toBe(415);
    expect(await form.json()).toMatchObject({ error: { type: 'unsupported_media_type' } });
    const big = { ...car(), driver: 'x'.repeat(1024 * 1024) };
    const huge = await post('/v1/cars/reservations', big);
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: { type: 'payload_too_large' } });
    expect(sandbox.audit().cars.references[big.reference]).toBeUndefined();
    expect((await client.reserve('cars', car())).replayed).toBe(false);
  });

  it('answers unknown routes 404 and wrong methods 405 with Allow', async () => {
    for (const path of ['/v1/trains/reservations', '/v2/flights/reservations', '/', '/v1/flights/x/y/z']) {
      const response = await fetch(`${sandbox.url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ error: { type: 'not_found' } });
    }
    for (const [method, path, allow] of [
      ['DELETE', '/v1/flights/reservations', 'GET, POST'],
      ['POST', '/v1/hotels/reservations/abc', 'GET'],
      ['GET', '/v1/cars/reservations/abc/cancel', 'POST'],
    ] as const) {
      const response = await fetch(`${sandbox.url}${path}`, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow')).toBe(allow);
      expect(await response.json()).toMatchObject({ error: { type: 'method_not_allowed' } });
    }
  });

  it('gets by reference (404 when unknown) and lists by status (400 on a bad status)', async () => {
    const kept = await client.reserve('cars', car());
    const gone = car();
    await client.reserve('cars', gone);
    await client.cancel('cars', gone.reference);
    expect(await client.get('cars', ref())).toBeUndefined();
    const missing = await fetch(`${sandbox.url}/v1/cars/reservations/${ref()}`);
    expect(missing.status).toBe(404);
    const refs = async (status?: 'confirmed' | 'cancelled') =>
      (await client.list('cars', status)).map((r) => r.reference);
    expect(await refs('confirmed')).toContain(kept.reservation.reference);
    expect(await refs('confirmed')).not.toContain(gone.reference);
    expect(await refs('cancelled')).toEqual(expect.arrayContaining([gone.reference]));
    expect(await refs()).toEqual(expect.arrayContaining([kept.reservation.reference, gone.reference]));
    const err = await failure(client.list('cars', 'pending' as 'confirmed'));
    expect(err).toMatchObject({ status: 400, param: 'status' });
  });

  describe('fault injection: one-shot, per kind', () => {
    it('drops the response after commit; a retry with the same reference replays it, one commit', async () => {
      const body = flight();
      sandbox.faults.dropNextResponseAfterCommit('flights');
      const err = await failure(client.reserve('flights', body));
      expect(err).toMatchObject({ status: 0, type: 'connection_error', retryable: true });
      expect(commits('flights', body.reference)).toBe(1);
      const retry = await post('/v1/flights/reservations', body);
      expect(retry.status).toBe(200);
      expect(retry.headers.get('reservation-replayed')).toBe('true');
      expect(commits('flights', body.reference)).toBe(1);
      expect(sandbox.faults.pending()).toBe(0);
    });

    it('books exactly once under five concurrent identical POSTs: one 201, four replays', async () => {
      const body = hotel();
      sandbox.faults.delayNext('hotels', 50);
      const responses = await Promise.all(
        Array.from({ length: 5 }, () => post('/v1/hotels/reservations', body)),
      );
      expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 201]);
      const ids = await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id));
      expect(new Set(ids).size).toBe(1);
      expect(commits('hotels', body.reference)).toBe(1);
      expect(sandbox.audit().hotels.references[body.reference]?.id).toBe(ids[0]);
    });

    it('fails the next write with 5xx or 429 before committing; retryable, and the retry books', async () => {
      const body = car();
      sandbox.faults.failNext('cars');
      sandbox.faults.failNext('cars', 429);
      expect(await failure(client.reserve('cars', body))).toMatchObject({
        status: 503,
        type: 'service_unavailable',
        retryable: true,
      });
      expect(await failure(client.reserve('cars', body))).toMatchObject({ status: 429, retryable: true });
      expect(commits('cars', body.reference)).toBe(0);
      expect((await client.reserve('cars', body)).replayed).toBe(false);
      expect(commits('cars', body.reference)).toBe(1);
      expect(() => sandbox.faults.failNext('cars', 404)).toThrow(RangeError);
    });

    it('delays the next write: a client timing out retries into a replay', async () => {
      const body = flight();
      sandbox.faults.delayNext('flights', 400);
      const impatient = createTravelClient(sandbox.url, { timeoutMs: 100 });
      const err = await failure(impatient.reserve('flights', body));
      expect(err).toMatchObject({ status: 0, type: 'timeout', retryable: true });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(commits('flights', body.reference)).toBe(1);
      expect((await client.reserve('flights', body)).replayed).toBe(true);
    });

    it('can drop a cancel after it commits; cancelling again answers the same cancellation', async () => {
      const body = car();
      await client.reserve('cars', body);
      sandbox.faults.dropNextResponseAfterCommit('cars', 'cancel');
      expect(await failure(client.cancel('cars', body.reference))).toMatchObject({ retryable: true });
      const cancelled = await client.cancel('cars', body.reference);
      expect(cancelled.status).toBe('cancelled');
      expect(sandbox.audit().cars.references[body.reference]).toMatchObject({ commits: 1, cancels: 1 });
      expect(sandbox.faults.injected()).toMatchObject({ drop_after_commit: 2 });
    });

    it('leaves reads and other kinds alone', async () => {
      const body = hotel();
      sandbox.faults.failNext('flights');
      expect((await client.reserve('hotels', body)).replayed).toBe(false);
      expect(await client.get('hotels', body.reference)).toBeDefined();
      expect(sandbox.faults.pending()).toBe(1);
      sandbox.faults.clear();
      expect(sandbox.faults.pending()).toBe(0);
    });
  });
});
