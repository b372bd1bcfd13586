// One IP budget for every account of a container, against the emulator's IP limit (600 per 5 s, a 403 and
// a ban past it): a fleet clears without one 403; a 403 stops everything at once, in this invocation and the
// next warm one; a sweep and a kill switch together stay inside one budget.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nodeTransport, type Transport } from '../../lib/bybit/transport.ts';
import { killSwitch } from '../../lib/cancel/kill-switch.ts';
import { sweepStaleOrders } from '../../lib/cancel/sweep.ts';
import { IncompleteCancelError } from '../../lib/errors.ts';
import { type App, createApp } from '../../lib/lambda/app.ts';
import { FLEET_BOOK_ORDERS, fleetBook } from '../support/fleet.ts';
import { mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

const ACCOUNTS = Array.from({ length: 40 }, (_, i) => `sub${String(i + 1).padStart(2, '0')}`);
// Bybit's window, written here and never taken from the product (docs/v5/rate-limit/rate-limit.mdx): "600
// requests within a 5-second window per IP".
const BYBIT_IP_WINDOW_MS = 5_000;
const BAN = 'Bybit refused this IP (HTTP 403, rate limit); wait at least 10 minutes before retrying';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startStack({ accounts: ACCOUNTS });
  // The AWS SDK reads its region and endpoint from the process environment.
  Object.assign(process.env, stack.env);
});
afterAll(() => stack.close());
afterEach(() => stack.emulator.reset());

/** The client's side of the wire: when each request left, and when the first 403 came back. */
function watchedTransport() {
  const sentAt: number[] = [];
  let first403: number | undefined;
  const transport: Transport = async (url, init) => {
    sentAt.push(performance.now());
    const response = await nodeTransport(url, init);
    if (response.status === 403) first403 ??= performance.now();
    return response;
  };
  return {
    transport,
    sentAt,
    sentAfter403: () => {
      const at = first403;
      return at === undefined ? 0 : sentAt.filter((t) => t > at).length;
    },
  };
}

/** The emulator shares this process's CPU: a long request timeout keeps a slow answer from being a retry. */
function app(env: Record<string, string> = {}, transport?: Transport): App {
  const production = { BYBIT_REQUEST_TIMEOUT_MS: '20000' };
  return createApp({ env: { ...stack.env, ...production, ...env }, transport, write: () => {} });
}

const key = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;

/** The most requests the emulator received in any window of `windowMs`. */
function busiestWindow(windowMs: number): number {
  const times = stack.emulator.requests.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while ((times[j] as number) - (times[i] as number) >= windowMs) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

describe('one IP budget per container', () => {
  it('clears 40 accounts behind one IP limit with zero 403, zero orders left, and reports success', async () => {
    for (const name of ACCOUNTS) stack.emulator.addOrders(key(name), fleetBook());
    expect(stack.emulator.openOrders()).toHaveLength(ACCOUNTS.length * FLEET_BOOK_ORDERS);
    const { exchange, config, clock, ipBudget } = app();

    const report = await killSwitch(exchange, config.scope, {}, Date.now() + 60_000, clock);

    expect(report).toMatchObject({ ok: true, remaining: 0, failedScopes: [] });
    expect(stack.emulator.openOrders()).toHaveLength(0);
    const requests = stack.emulator.requests;
    expect(requests.filter((r) => r.httpStatus === 403)).toHaveLength(0);
    expect(stack.emulator.ipBannedAt).toBeUndefined();
    expect(busiestWindow(BYBIT_IP_WINDOW_MS)).toBeLessThanOrEqual(ipBudget.requestsPer5s);
    for (const name of ACCOUNTS) {
      expect(requests.filter((r) => r.apiKey === key(name)).length).toBeLessThanOrEqual(25);
    }
  });

  it('stops everything at the first 403: nothing sent after it beyond those in flight, the ban named, the next warm invocation sends nothing', async () => {
    for (const name of ACCOUNTS.slice(0, 12)) stack.emulator.addOrders(key(name), mixedBook(30));
    // The IP already spent most of its window elsewhere: Bybit allows this container 50 more.
    stack.emulator.setIpLimit({ requests: 50 });
    const wire = watchedTransport();
    const { exchange, config, clock, ipBudget } = app({}, wire.transport);
    const accounts = ACCOUNTS.slice(0, 12);

    const error = await killSwitch(exchange, config.scope, { accounts }, Date.now() + 30_000, clock).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(IncompleteCancelError);
    expect((error as Error).message.startsWith(BAN)).toBe(true);
    const report = (error as IncompleteCancelError).report as unknown as {
      ok: boolean;
      scopes: { error?: object }[];
    };
    expect(report.ok).toBe(false);
    expect(report.scopes.some((s) => JSON.stringify(s.error ?? {}).includes(BAN))).toBe(true);
    expect(wire.sentAfter403()).toBe(0);
    expect(stack.emulator.requests.length).toBe(wire.sentAt.length);
    expect(ipBudget.refused?.message).toBe(BAN);

    // The next invocation in the same warm container does not knock on the banned IP at all.
    const before = wire.sentAt.length;
    const again = await killSwitch(exchange, config.scope, { accounts }, Date.now() + 30_000, clock).catch(
      (e: unknown) => e,
    );
    expect((again as Error).message).toContain(BAN);
    expect(wire.sentAt.length).toBe(before);
  });

  it('keeps a sweep and a kill switch running at once in one container within the budget together', async () => {
    const budget = 60;
    // The emulator bans past the container's own budget: one request too many would show as a 403.
    stack.emulator.setIpLimit({ requests: budget });
    const sweepers = ACCOUNTS.slice(0, 3);
    const killed = ACCOUNTS.slice(3, 6);
    const old = Date.now() - 2 * 3600_000;
    for (const name of sweepers) stack.emulator.addOrders(key(name), mixedBook(20, { createdTime: old }));
    for (const name of killed) stack.emulator.addOrders(key(name), mixedBook(20));
    const { exchange, config, clock } = app({ BYBIT_IP_REQUESTS_PER_5S: String(budget) });
    const deadline = Date.now() + 60_000;
    const sweepOptions = { ...config.sweep, accounts: sweepers };

    const [sweep, kill] = await Promise.all([
      sweepStaleOrders(exchange, config.scope, sweepOptions, deadline, clock),
      killSwitch(exchange, config.scope, { accounts: killed }, deadline, clock),
    ]);

    expect(sweep.ok).toBe(true);
    expect(kill.ok).toBe(true);
    expect(stack.emulator.openOrders()).toHaveLength(0);
    expect(stack.emulator.requests.filter((r) => r.httpStatus === 403)).toHaveLength(0);
    // Together they needed more than one window: the budget, not luck, kept them apart.
    expect(stack.emulator.requests.length).toBeGreaterThan(budget);
    expect(busiestWindow(BYBIT_IP_WINDOW_MS)).toBeLessThanOrEqual(budget);
  }, 60_000);
});
