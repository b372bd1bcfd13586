// Bybit's IP limit, over every key and every path (docs/v5/rate-limit/rate-limit.mdx): "You are allowed to
// send 600 requests within a 5-second window per IP by default ... If you encounter the error '403, access
// too frequent', it indicates that your IP has exceeded the allowed request frequency. In this case, you
// should terminate all HTTP sessions and wait for at least 10 minutes." The emulator's ban lasts for the
// rest of the run (until reset()): no test runs ten minutes, and a client that retries into it shows.

export interface IpLimit {
  /** Requests allowed in any window. Default 600. */
  requests?: number;
  /** Default 5000 ms. */
  windowMs?: number;
}

const DEFAULT_REQUESTS = 600;
const DEFAULT_WINDOW_MS = 5000;

/** The body of Bybit's answer past the limit, as the docs quote it. */
export const IP_BAN_TEXT = '403 Forbidden: access too frequent';

export class IpLimiter {
  #limit: Required<IpLimit> | undefined;
  #arrivals: number[] = [];
  #bannedAt: number | undefined;

  constructor(limit: IpLimit | false | undefined) {
    this.set(limit);
  }

  /** `false` turns the limit off. */
  set(limit: IpLimit | false | undefined): void {
    this.#limit =
      limit === false
        ? undefined
        : {
            requests: limit?.requests ?? DEFAULT_REQUESTS,
            windowMs: limit?.windowMs ?? DEFAULT_WINDOW_MS,
          };
  }

  /** When the IP was banned (epoch ms), if it was. */
  get bannedAt(): number | undefined {
    return this.#bannedAt;
  }

  /** Counts one request; false when it is refused (past the limit now, or banned before). */
  admit(now: number): boolean {
    if (this.#bannedAt !== undefined) return false;
    const limit = this.#limit;
    if (!limit) return true;
    const since = now - limit.windowMs;
    while (this.#arrivals.length > 0 && (this.#arrivals[0] as number) <= since) this.#arrivals.shift();
    if (this.#arrivals.length >= limit.requests) {
      this.#bannedAt = now;
      return false;
    }
    this.#arrivals.push(now);
    return true;
  }

  clear(): void {
    this.#arrivals = [];
    this.#bannedAt = undefined;
  }
}
