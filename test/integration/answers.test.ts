// What callers are told, and what is sent on their behalf: per-scope errors in answers carry a type and a
// fixed text (the rest is logged under the request id); an empty listing right after the run's own
// acknowledged cancels is confirmed by a second one; identifiers Bybit could never have issued never reach
// it; a 403 that is not Bybit's documented IP-limit answer refuses one request, not the container; and a
// report never claims "at least 0 open" when no listing could verify it.

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { nodeTransport, type Transport, type WireResponse } from '../../lib/bybit/transport.ts';
import { cancelOrder } from '../../lib/cancel/cancel-order.ts';
import { killSwitch } from '../../lib/cancel/kill-switch.ts';
import { sweepStaleOrders } from '../../lib/cancel/sweep.ts';
import { IncompleteCancelError } from '../../lib/errors.ts';
import { createApp } from '../../lib/lambda/app.ts';
import { lambdaContext, signedHttpEvent } from '../support/events.ts';
import { mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
let stack: LocalStack;
const key = () => stack.accounts[0]?.apiKey as string;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main'] });
  Object.assign(process.env, stack.env);
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emulator.reset();
  stack.writeExchangeSecret();
});

/** A fresh container of a function (its own app), with every log line it writes. */
async function container(
  file: 'cancel' | 'cancel-all',
): Promise<{ handler: Handler; lines: () => Record<string, unknown>[] }> {
  vi.resetModules();
  const handler = (await import(`../../handlers/${file}.ts`)).handler as Handler;
  const written: string[] = [];
  const wrapped: Handler = async (event, context) => {
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) =>
      written.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      return await handler(event, context);
    } finally {
      process.stdout.write = write;
    }
  };
  const lines = () =>
    written
      .flatMap((l) => l.split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { handler: wrapped, lines };
}

const answer = (status: number, text: string): Promise<WireResponse> =>
  Promise.resolve({ status, headers: { get: () => null }, text: () => Promise.resolve(text) });
const app = (transport?: Transport, env: Record<string, string> = {}) =>
  createApp({ env: { ...stack.env, ...env }, transport, write: () => undefined });

describe('per-scope errors in an answer', () => {
  it('carry a type and a fixed text: no secret id, no crypto or TypeError cause; the log has them under the request id', async () => {
    stack.emulator.addOrders(key(), mixedBook(10));
    const a = stack.accounts[0] as { apiKey: string; apiSecret: string };
    stack.secrets.put(stack.exchangeSecretId, {
      accounts: {
        main: { apiKey: a.apiKey, apiSecret: a.apiSecret },
        rsa: {
          apiKey: 'k-rsa',
          privateKey: '-----BEGIN PRIVATE KEY-----\nnot-base64\n-----END PRIVATE KEY-----',
        },
      },
    });
    const { handler, lines } = await container('cancel-all');
    const context = lambdaContext(60_000);
    const response = (await handler(
      signedHttpEvent('http-v2-kill-switch.json', {}, stack.webhookSecret),
      context,
    )) as { statusCode: number; body: string };

    expect(response.statusCode).toBe(502);
    expect(response.body).not.toContain(stack.exchangeSecretId);
    expect(response.body).not.toMatch(/DECODER|cause|TypeError/);
    const body = JSON.parse(response.body) as {
      requestId: string;
      scopes: { account: string; error?: unknown }[];
    };
    expect(body.scopes.find((s) => s.account === 'rsa')?.error).toEqual({
      errorType: 'SecretError',
      errorMessage: "the account's entry in the exchange secret is unusable",
    });
    // The operator finds the whole of it in the log line of this request.
    const logged = lines().find(
      (l) => l.message === 'request refused' && l.requestId === context.awsRequestId,
    );
    expect(body.requestId).toBe(context.awsRequestId);
    expect(logged?.scopes).toEqual([
      expect.objectContaining({
        account: 'rsa',
        scope: '*',
        errorType: 'SecretError',
        secretId: stack.exchangeSecretId,
        cause: expect.stringContaining('DECODER'),
      }),
    ]);
  });
});

describe("an empty listing after the run's own acknowledged cancels", () => {
  /** Answers the first listing of each widest listing with an empty page, as a stale read would. */
  function staleFirstPage(): Transport {
    const seen = new Set<string>();
    return (url, init) => {
      const u = new URL(url);
      const listing = `${u.searchParams.get('category')} ${u.searchParams.get('settleCoin') ?? ''}`;
      if (u.pathname !== '/v5/order/realtime' || seen.has(listing)) return nodeTransport(url, init);
      seen.add(listing);
      return answer(
        200,
        JSON.stringify({
          retCode: 0,
          retMsg: 'OK',
          result: { list: [], nextPageCursor: '' },
          time: Date.now(),
        }),
      );
    };
  }

  it('is not proof: with cancels that do not take and one stale empty page per listing, the report says what is open', async () => {
    // Linear, spot and option (inverse is also listed alongside the first wave, which would see them).
    const seeded = stack.emulator.addOrders(
      key(),
      mixedBook(15).filter((o) => o.category !== 'inverse'),
    );
    stack.emulator.setSurvivors({ orderIds: seeded.map((o) => o.orderId) });
    const { exchange, config, clock } = app(staleFirstPage());

    const outcome = await killSwitch(exchange, config.scope, {}, Date.now() + 3_000, clock).catch(
      (e: unknown) => e,
    );

    expect(outcome).toBeInstanceOf(IncompleteCancelError);
    const report = (outcome as IncompleteCancelError).report;
    expect(report).toMatchObject({ ok: false, remaining: seeded.length });
    expect(stack.emulator.openOrders(key())).toHaveLength(seeded.length);
  });

  it('is proof once a second listing, a short pause later, is empty too', async () => {
    // Each cancel is acknowledged and does not take once; the second try takes.
    const seeded = stack.emulator.addOrders(
      key(),
      mixedBook(15).filter((o) => o.category !== 'inverse'),
    );
    stack.emulator.setSurvivors({ orderIds: seeded.map((o) => o.orderId), times: 1 });
    const { exchange, config, clock } = app(staleFirstPage());

    const report = await killSwitch(exchange, config.scope, {}, Date.now() + 20_000, clock);

    expect(report).toMatchObject({ ok: true, remaining: 0 });
    expect(stack.emulator.openOrders(key())).toHaveLength(0);
    // Every listing with acknowledged cancels was read empty twice at the end.
    const listings = stack.emulator.requests.filter((r) => r.path === '/v5/order/realtime');
    expect(listings.length).toBeGreaterThanOrEqual(2 * 4);
  });
});

describe('identifiers', () => {
  /** A signed single cancel naming the order by `field`, through a fresh cancel function. */
  const cancelBy = async (field: string, value: string) => {
    const { handler } = await container('cancel');
    return (await handler(
      signedHttpEvent(
        'http-v2-cancel.json',
        { category: 'linear', symbol: 'BTCUSDT', [field]: value },
        stack.webhookSecret,
      ),
      lambdaContext(),
    )) as { statusCode: number; body: string };
  };

  it.each([
    ['orderLinkId', '<script>x</script>'],
    ['orderLinkId', 'x'.repeat(37)],
    ['orderLinkId', '../../v5/asset/transfer'],
    ['orderId', 'abc'],
    ['orderId', '1838591702357416704/../x'],
  ])('refuses %s %j as Bybit could never have issued it: a 400, and nothing sent', async (field, value) => {
    const response = await cancelBy(field, value);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'ValidationError', field });
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it.each([
    ['orderLinkId', 'x'.repeat(36)],
    ['orderLinkId', 'tv_BTC-long-1'],
    ['orderId', '1838591702357416704'],
    ['orderId', 'fd4300ae-7847-404e-b947-b46980a4d140'],
  ])('sends %s %j, a form Bybit issues, to the exchange', async (field, value) => {
    const response = await cancelBy(field, value);
    // No such order here: the exchange was asked, and said so.
    expect(response.statusCode).toBe(404);
    expect(stack.emulator.requests.map((r) => `${r.method} ${r.path}`)[0]).toBe('POST /v5/order/cancel');
  });
});

describe('a 403 on one request', () => {
  const blocked = '<html><h1>403 ERROR</h1>Request blocked. Generated by cloudfront (CloudFront)</html>';

  it("without Bybit's IP-limit text refuses that request only: the next sweep in the container lists and cancels", async () => {
    const old = Date.now() - 2 * 3600_000;
    stack.emulator.addOrders(key(), mixedBook(10, { createdTime: old }));
    let refused = 0;
    const transport: Transport = (url, init) =>
      new URL(url).pathname === '/v5/order/cancel' && refused++ === 0
        ? answer(403, blocked)
        : nodeTransport(url, init);
    const { exchange, config, clock } = app(transport, { BYBIT_IP_REQUESTS_PER_5S: '40' });

    const error = await cancelOrder(
      exchange,
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-1' },
      Date.now() + 10_000,
      clock,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ExchangeUnavailableError', httpStatus: 403 });
    expect((error as Error).message).not.toContain('refused this IP');

    const sweep = await sweepStaleOrders(exchange, config.scope, config.sweep, Date.now() + 60_000, clock);
    expect(sweep).toMatchObject({ ok: true, cancelled: 10, remaining: 0 });
    expect(stack.emulator.openOrders()).toHaveLength(0);
  });

  it('with Bybit\'s IP-limit text closes the container, and the next sweep says it could count nothing, never "at least 0"', async () => {
    const old = Date.now() - 2 * 3600_000;
    stack.emulator.addOrders(key(), mixedBook(10, { createdTime: old }));
    const transport: Transport = (url, init) =>
      new URL(url).pathname === '/v5/order/cancel'
        ? answer(403, '403, access too frequent')
        : nodeTransport(url, init);
    const { exchange, config, clock } = app(transport, { BYBIT_IP_REQUESTS_PER_5S: '40' });
    await cancelOrder(
      exchange,
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-1' },
      Date.now() + 10_000,
      clock,
    ).catch(() => undefined);
    const sent = stack.emulator.requests.length;

    const error = (await sweepStaleOrders(
      exchange,
      config.scope,
      config.sweep,
      Date.now() + 60_000,
      clock,
    ).catch((e: unknown) => e)) as Error;

    expect(error.message).toMatch(/^Bybit refused this IP \(HTTP 403, rate limit\)/);
    expect(error.message).toContain(
      'no scope could be verified by a listing, so how many orders are still open is unknown',
    );
    expect(error.message).not.toContain('at least 0');
    expect(stack.emulator.requests.length).toBe(sent);
    expect(stack.emulator.openOrders()).toHaveLength(10);
  });
});
