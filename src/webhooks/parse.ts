/**
 * What every provider translator shares: the contract (options in, a result out) and the small
 * readers of untrusted JSON — strings, numbers, times and dedupe hashes. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import type { InboundEvent } from '../core/events.ts';

export type TranslateResult =
  | { ok: true; events: InboundEvent[] }
  | { ok: false; error: string };

export interface TranslateOptions {
  /** Fallback for `occurredAt` when the payload has no parseable time. */
  now?: Date;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty trimmed string, or undefined for anything else. */
export function str(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A string or finite number as a string, for hashing fields whose JSON type may vary. */
export function scalar(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : str(value);
}

/** Drops undefined values so stored event data stays tidy JSON. */
export function compact(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined));
}

/** A dedupe key for payloads without an id: identical payloads (retries) hash identically. */
export function stableHash(parts: ReadonlyArray<string | undefined>): string {
  const hash = createHash('sha256');
  // Length-prefixing keeps ['ab','c'] and ['a','bc'] apart.
  for (const part of parts) hash.update(part === undefined ? '-1:' : `${part.length}:${part}`);
  return hash.digest('hex').slice(0, 32);
}

/**
 * A time a provider reported, if it is one we can store: JavaScript dates reach ±275,760 years,
 * PostgreSQL reads neither a six-digit year nor year 0 and before, so a signed event stamped
 * `+010000-01-01` made every delivery of its batch fail (503, retried forever). Outside
 * 1970–9999 it is no time at all, and the caller falls back to now.
 */
export function validDate(value: Date): Date | undefined {
  const year = value.getUTCFullYear();
  return Number.isFinite(value.getTime()) && year >= 1970 && year <= 9999 ? value : undefined;
}

export function fallbackNow(options: TranslateOptions | undefined): Date {
  const now = options?.now;
  return now instanceof Date && validDate(now) ? now : new Date();
}

/** Keeps the stored reply bounded; the full message stays with the provider. */
export const MAX_REPLY_TEXT = 10_000;

export function clip(text: string | undefined): string | undefined {
  return text === undefined ? undefined : text.slice(0, MAX_REPLY_TEXT);
}
