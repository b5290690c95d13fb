import { createHash } from 'node:crypto';

/**
 * The provider's Retry-After, honoured per cause: the sign-in (flow) whose code redemption was
 * told to wait is not sent again before the time is up, while every other sign-in goes ahead.
 * In memory, per instance, bounded: the oldest holds go first when full.
 */
export class RetryAfterHolds {
  private readonly until = new Map<string, number>();

  constructor(private readonly maxEntries = 10_000) {}

  /** Seconds left to wait for this cause, or undefined when it may go ahead. */
  remainingSeconds(cause: string, now: number = Date.now()): number | undefined {
    const key = keyOf(cause);
    const until = this.until.get(key);
    if (until === undefined) return undefined;
    if (until <= now) {
      this.until.delete(key);
      return undefined;
    }
    return Math.ceil((until - now) / 1000);
  }

  hold(cause: string, seconds: number, now: number = Date.now()): void {
    if (seconds <= 0) return;
    for (const [key, until] of this.until) {
      if (this.until.size < this.maxEntries && until > now) break;
      this.until.delete(key);
    }
    const key = keyOf(cause);
    this.until.delete(key); // re-inserted last: Map order is age order
    this.until.set(key, now + seconds * 1000);
  }

  get size(): number {
    return this.until.size;
  }
}

/** Causes are keyed by hash: the state parameter is not kept in memory as is. */
function keyOf(cause: string): string {
  return createHash('sha256').update(cause).digest('base64url');
}
