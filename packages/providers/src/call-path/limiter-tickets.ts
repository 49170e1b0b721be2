// The tickets of the rate limiter (see limiter-math.ts admit), per job: the worker runs each sync
// inside withLimiterTicket with a box holding the ticket from the job's data; the call path takes
// it for the first call to that bucket, and when the limiter denies a call it leaves the new
// ticket in the box for the worker to store with the job. AsyncLocalStorage carries the box
// through the provider code, into a batch or coalesced call the job starts: a batch denied as a
// whole leaves its ticket with the job that started it only, so no slot is ever used twice.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LimiterTicketRef } from '@herdless/core';
import type { LimiterTicket } from './limiter-math.js';

export interface TicketBox {
  /** The ticket the job brought back, until its call takes it. */
  ticket?: LimiterTicketRef | undefined;
  /** The ticket for the slot reserved when this job's call was denied. */
  denied?: LimiterTicketRef | undefined;
}

const boxes = new AsyncLocalStorage<TicketBox>();

/** Runs one sync with its job's ticket box. */
export function withLimiterTicket<T>(box: TicketBox, run: () => Promise<T>): Promise<T> {
  return boxes.run(box, run);
}

/** The ticket for this bucket, once: a second call to the same bucket asks for its own slot. */
export function takeLimiterTicket(bucket: string): LimiterTicket | undefined {
  const box = boxes.getStore();
  const t = box?.ticket;
  if (!box || !t || t.bucket !== bucket) return undefined;
  box.ticket = undefined;
  return { slotMs: t.slotMs, epoch: t.epoch };
}

/** True when a job's box is there to keep a ticket (the limiter may then reserve a slot). */
export function canKeepLimiterTicket(): boolean {
  return boxes.getStore() !== undefined;
}

/** Leaves the ticket of a denied call with the job whose context made it. */
export function keepLimiterTicket(ticket: LimiterTicketRef): void {
  const box = boxes.getStore();
  if (box) box.denied = ticket;
}
