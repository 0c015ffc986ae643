import type { Clock } from '../clock.js';
import { TeacherApiError } from './errors.js';

/**
 * Retry semantics of openai-node: retry what `TeacherApiError.retryable` says (408, 409, 429, 5xx,
 * connection errors and timeouts, or whatever x-should-retry orders); wait what the server asks
 * (retry-after-ms, then Retry-After in seconds or as an HTTP date) when that is 60 s or less;
 * otherwise back off exponentially from 0.5 s up to 8 s, shortened by up to 25% jitter.
 * A longer requested wait is not replaced by a short backoff (that only earns another 429): the
 * request fails with a fatal error so the run stops cleanly and can be resumed later.
 */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 means exactly one attempt, also for 429. */
  maxRetries: number;
  clock: Clock;
  /** Uniform [0, 1); jitter source. */
  random?: () => number;
  onRetry?: (info: { retry: number; delayMs: number; error: TeacherApiError }) => void;
}

export const maxServerDelayMs = 60_000;
const initialDelaySeconds = 0.5;
const maxDelaySeconds = 8;

/** Delay the server asked for, in ms, or undefined when it asked for nothing usable. */
export function serverRequestedDelayMs(headers: Record<string, string>, now: number): number | undefined {
  const ms = headers['retry-after-ms'];
  if (ms !== undefined) {
    const value = parseFloat(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers['retry-after'];
  if (after !== undefined) {
    const seconds = Number(after.trim());
    if (after.trim() !== '' && Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return undefined;
}

/** Exponential backoff for the n-th retry (0-based): 0.5 s, 1 s, 2 s, 4 s, 8 s, 8 s ... minus up to 25%. */
export function backoffDelayMs(retry: number, random: () => number = Math.random): number {
  const seconds = Math.min(initialDelaySeconds * 2 ** retry, maxDelaySeconds);
  return seconds * (1 - random() * 0.25) * 1000;
}

export async function withRetries<T>(send: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  const random = policy.random ?? Math.random;
  for (let retry = 0; ; retry++) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof TeacherApiError) || !err.retryable || retry >= policy.maxRetries) throw err;
      const requested = serverRequestedDelayMs(err.headers, policy.clock.now());
      if (requested !== undefined && requested > maxServerDelayMs) {
        throw new TeacherApiError(err.kind, `${err.message}; the server asks to wait ${Math.round(requested / 1000)} s (over 60 s): stopping, re-run later`, {
          status: err.status,
          headers: err.headers,
          fatal: true,
          cause: err,
        });
      }
      const delayMs = requested ?? backoffDelayMs(retry, random);
      policy.onRetry?.({ retry: retry + 1, delayMs, error: err });
      await policy.clock.sleep(delayMs);
    }
  }
}
