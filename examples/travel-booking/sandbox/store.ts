import { randomBytes } from 'node:crypto';
import { sameTerms, termsOf } from './validate.js';
import {
  RESOURCE_KINDS,
  type Reservation,
  type ReservationStatus,
  type ResourceKind,
  type ReserveRequest,
} from './types.js';

/** How `reserve` ended: a booking (new or replayed) or a refusal, each mapped to one HTTP answer. */
export type ReserveOutcome =
  | { outcome: 'created' | 'replayed'; reservation: Reservation }
  | { outcome: 'reference_conflict' | 'reference_cancelled' | 'sold_out'; message: string };

/** One reference in {@link TravelAudit}. */
export interface ReferenceAudit {
  id: string;
  status: ReservationStatus;
  /** How many times a new reservation was committed under this reference: must always be 1. */
  commits: number;
  /** How many times a cancel changed it from confirmed to cancelled: 0 or 1. */
  cancels: number;
}

/** One kind in {@link TravelAudit}. */
export interface KindAudit {
  reservations: number;
  confirmed: number;
  cancelled: number;
  references: Record<string, ReferenceAudit>;
}

/** What the service holds, per kind: for tests asserting one effect downstream. */
export type TravelAudit = Record<ResourceKind, KindAudit>;

const ID_PREFIX: Record<ResourceKind, string> = { flights: 'flt', hotels: 'htl', cars: 'car' };

/** The business refusal: no seats to `XXX`, no rooms in Atlantis. Terminal, never retryable. */
function soldOut(kind: ResourceKind, request: Record<string, unknown>): string | undefined {
  if (kind === 'flights' && request.to === 'XXX') return 'no seats left on flights to XXX';
  if (kind === 'hotels' && request.city === 'Atlantis') return 'no rooms left in Atlantis';
  return undefined;
}

interface Entry {
  reservation: Reservation;
  cancels: number;
}

/**
 * The in-memory reservations of one sandbox. Every operation is synchronous, so two concurrent
 * requests with the same reference cannot both commit: the first creates, the rest replay.
 */
export class ReservationStore {
  private readonly byKind = new Map<ResourceKind, Map<string, Entry>>(
    RESOURCE_KINDS.map((kind) => [kind, new Map()]),
  );
  /** New reservations committed per `kind/reference`, counted apart from the entries themselves. */
  private readonly commits = new Map<string, number>();

  private entries(kind: ResourceKind): Map<string, Entry> {
    const map = this.byKind.get(kind);
    if (!map) throw new Error(`unknown resource kind ${kind}`);
    return map;
  }

  /**
   * Books `request` under its reference. A known reference replays its reservation when the terms are
   * identical and the booking is still confirmed; otherwise it is refused (conflict, or cancelled).
   */
  reserve(kind: ResourceKind, request: ReserveRequest): ReserveOutcome {
    const entries = this.entries(kind);
    const req = request as unknown as Record<string, unknown>;
    const existing = entries.get(request.reference);
    if (existing) {
      if (existing.reservation.status === 'cancelled') {
        const message = `reservation ${request.reference} was cancelled; book again under a new reference`;
        return { outcome: 'reference_cancelled', message };
      }
      const stored = existing.reservation as unknown as Record<string, unknown>;
      if (!sameTerms(kind, stored, req)) {
        const message = `reference ${request.reference} is already booked with other terms`;
        return { outcome: 'reference_conflict', message };
      }
      return { outcome: 'replayed', reservation: structuredClone(existing.reservation) };
    }
    const refusal = soldOut(kind, req);
    if (refusal !== undefined) return { outcome: 'sold_out', message: refusal };
    const reservation = {
      id: `${ID_PREFIX[kind]}_${randomBytes(8).toString('hex')}`,
      reference: request.reference,
      status: 'confirmed',
      ...termsOf(kind, req),
      created_at: new Date().toISOString(),
      cancelled_at: null,
    } as Reservation;
    entries.set(request.reference, { reservation, cancels: 0 });
    const counted = `${kind}/${request.reference}`;
    this.commits.set(counted, (this.commits.get(counted) ?? 0) + 1);
    return { outcome: 'created', reservation: structuredClone(reservation) };
  }

  /** The reservation under `reference`, if any. */
  get(kind: ResourceKind, reference: string): Reservation | undefined {
    const entry = this.entries(kind).get(reference);
    return entry && structuredClone(entry.reservation);
  }

  /** Every reservation of `kind` (optionally of one status), oldest first. */
  list(kind: ResourceKind, status?: ReservationStatus): Reservation[] {
    return [...this.entries(kind).values()]
      .map((entry) => entry.reservation)
      .filter((reservation) => status === undefined || reservation.status === status)
      .map((reservation) => structuredClone(reservation));
  }

  /** Cancels the reservation under `reference` (again: no change); undefined when there is none. */
  cancel(kind: ResourceKind, reference: string): Reservation | undefined {
    const entry = this.entries(kind).get(reference);
    if (!entry) return undefined;
    if (entry.reservation.status === 'confirmed') {
      entry.reservation.status = 'cancelled';
      entry.reservation.cancelled_at = new Date().toISOString();
      entry.cancels++;
    }
    return structuredClone(entry.reservation);
  }

  /** Counts per kind and per reference. */
  audit(): TravelAudit {
    const audit = {} as TravelAudit;
    for (const kind of RESOURCE_KINDS) {
      const entries = [...this.entries(kind).values()];
      const count = (status: ReservationStatus) =>
        entries.filter((entry) => entry.reservation.status === status).length;
      audit[kind] = {
        reservations: entries.length,
        confirmed: count('confirmed'),
        cancelled: count('cancelled'),
        references: Object.fromEntries(
          entries.map(({ reservation, cancels }) => [
            reservation.reference,
            {
              id: reservation.id,
              status: reservation.status,
              commits: this.commits.get(`${kind}/${reservation.reference}`) ?? 0,
              cancels,
            },
          ]),
        ),
      };
    }
    return audit;
  }
}
