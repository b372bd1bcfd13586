// Failures that must not be silent or go the wrong way (issue 14), each through the real handlers in a warm
// container, against the exchange emulator, the Secrets Manager endpoint and hosts that misbehave on the wire:
// a Secrets Manager that never answers, an exchange host that redirects, poisoned rate-limit headers, a sweep
// input that tries to widen the configured prefix, 5xx answers and their metric, a webhook-key rotation, and
// the source-address allowlist.

import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../lib/clock.ts';
import { createApp, route } from '../../lib/lambda/app.ts';
import { type AnyEvent, lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { startPoisoningProxy, startRedirectingHost, startSilentEndpoint } from '../support/hostile-hosts.ts';
import { mixedBook } from '../support/orders.ts';
import { registerSecret } from '../support/secret-registry.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
interface Container {
  cancel: Handler;
  cancelAll: Handler;
}

let stack: LocalStack;
const lines: string[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  stack = await startStack({ accounts: ['main'] });
  // The functions write their JSON log lines and EMF metrics to stdout: keep them to check what they say.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emulator.reset();
  stack.secrets.reset();
  stack.writeExchangeSecret();
  stack.secrets.put(stack.webhookSecretId, {
    webhookSecret: stack.webhookSecret,
    passphrase: stack.passphrase,
  });
  lines.length = 0;
});
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});

/** A fresh copy of the functions' modules is a fresh Lambda container, configured by `env`. */
async function container(env: Record<string, string> = {}): Promise<Container> {
  Object.assign(process.env, stack.env, env);
  vi.resetModules();
  return {
    cancel: (await import('../../handlers/cancel.ts')).handler as Handler,
    cancelAll: (await import('../../handlers/cancel-all.ts')).handler as Handler,
  };
}

const apiKey = () => stack.accounts[0]?.apiKey as string;
const signed = (name: string, body: unknown, key = stack.webhookSecret) => signedHttpEvent(name, body, key);
const single = { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-1' };
const http = async (handler: Handler, event: AnyEvent, remainingMs = 30_000) =>
  (await handler(event, lambdaContext(remainingMs))) as APIGatewayProxyResult;
/** The EMF line written for the invocation that answered `response`. */
const metricsOf = (response: APIGatewayProxyResult) => {
  const { requestId } = JSON.parse(response.body) as { requestId: string };
  const line = lines.find((l) => l.includes('"_aws"') && l.includes(requestId));
  return JSON.parse(line ?? '{}') as { Operation?: string; Failures?: number };
};

describe('a Secrets Manager endpoint that accepts the connection and never answers', () => {
  it('/cancel answers 503 or 504 before its deadline', async () => {
    const silent = await startSilentEndpoint();
    try {
      const { cancel } = await container({ AWS_ENDPOINT_URL_SECRETS_MANAGER: silent.url });
      const remainingMs = 6_000;
      const started = Date.now();
      const response = await http(cancel, signed('http-v2-cancel.json', single), remainingMs);
      const elapsed = Date.now() - started;
      expect(silent.connections()).toBeGreaterThan(0);
      expect([503, 504]).toContain(response.statusCode);
      expect(elapsed).toBeLessThan(remainingMs);
      expect(stack.emulator.requests).toHaveLength(0);
    } finally {
      await silent.close();
    }
  });
});

describe('an exchange host that redirects', () => {
  it('sends nothing to the redirect target and answers a failure', async () => {
    const redirect = await startRedirectingHost(stack.emulator.url);
    try {
      stack.emulator.addOrders(apiKey(), [
        { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-1' },
      ]);
      const { cancel } = await container({ BYBIT_BASE_URL: redirect.url });
      const response = await http(cancel, signed('http-v2-cancel.json', single));
      expect(redirect.hits()).toBeGreaterThan(0);
      // The emulator is the redirect's target: not one request (so not one key or signature) reached it.
      expect(stack.emulator.requests).toHaveLength(0);
      expect(response.statusCode).toBeGreaterThanOrEqual(500);
      expect(stack.emulator.openOrders()).toHaveLength(1);
    } finally {
      await redirect.close();
    }
  });
});

describe('poisoned rate-limit headers', () => {
  it('do not carry into the next kill switch of the same warm container, which clears everything', async () => {
    const proxy = await startPoisoningProxy(stack.emulator.url);
    try {
      const { cancelAll } = await container({ BYBIT_BASE_URL: proxy.url });
      const heapBefore = process.memoryUsage().heapUsed;
      stack.emulator.addOrders(apiKey(), mixedBook(40));
      proxy.poison({
        'X-Bapi-Limit': '3e7',
        'X-Bapi-Limit-Status': '0',
        'X-Bapi-Limit-Reset-Timestamp': String(Date.now() + 86_400_000),
      });
      // Whatever this one manages: it runs under poisoned headers.
      await cancelAll(loadEvent('kill-switch.json'), lambdaContext(5_000)).catch(() => undefined);
      const heapGrowth = process.memoryUsage().heapUsed - heapBefore;

      proxy.poison(null);
      stack.emulator.addOrders(apiKey(), mixedBook(40));
      const outcome = await cancelAll(loadEvent('kill-switch.json'), lambdaContext(20_000)).catch(
        (error: unknown) => error,
      );
      expect(outcome).toMatchObject({ remaining: 0 });
      expect(stack.emulator.openOrders()).toEqual([]);
      // `X-Bapi-Limit: 3e7` taken at its word holds a slot per unit: hundreds of MiB.
      expect(heapGrowth).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await proxy.close();
    }
  });
});

describe('a sweep input cannot widen the configured link-id prefix', () => {
  it('with linkIdPrefix "" under a configured prefix, cancels only the prefixed stale orders', async () => {
    const old = Date.now() - 2 * 3_600_000;
    stack.emulator.addOrders(apiKey(), [
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'bot-1', createdTime: old },
      { category: 'linear', symbol: 'ETHUSDT', orderLinkId: 'bot-2', createdTime: old },
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'manual-1', createdTime: old },
      { category: 'spot', symbol: 'BTCUSDT', createdTime: old },
    ]);
    const { cancel } = await container({ STALE_ORDER_LINK_ID_PREFIX: 'bot-' });
    await cancel({ action: 'sweep', linkIdPrefix: '' }, lambdaContext(120_000));
    const left = stack.emulator.openOrders().map((o) => o.orderLinkId);
    expect(left).not.toContain('bot-1');
    expect(left).not.toContain('bot-2');
    expect(left).toContain('manual-1');
    expect(left).toHaveLength(2);
  });

  it('still lets an input narrow the prefix', async () => {
    const old = Date.now() - 2 * 3_600_000;
    stack.emulator.addOrders(apiKey(), [
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'bot-a-1', createdTime: old },
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'bot-b-1', createdTime: old },
    ]);
    const { cancel } = await container({ STALE_ORDER_LINK_ID_PREFIX: 'bot-' });
    await cancel({ action: 'sweep', linkIdPrefix: 'bot-a-' }, lambdaContext(120_000));
    expect(stack.emulator.openOrders().map((o) => o.orderLinkId)).toEqual(['bot-b-1']);
  });
});

describe('HTTP 5xx answers', () => {
  it('carry only what a caller can act on, and count in Failures under the operation asked for', async () => {
    stack.secrets.put(stack.exchangeSecretId, 'not json at all');
    const { cancel, cancelAll } = await container();
    const cases: [Handler, AnyEvent, string][] = [
      [cancel, signed('http-v2-cancel.json', single), 'cancel'],
      [cancelAll, signed('http-v2-cancel-all.json', { category: 'spot' }), 'cancelAll'],
      [cancelAll, signed('http-v2-kill-switch.json', {}), 'killSwitch'],
    ];
    for (const [handler, event, operation] of cases) {
      const response = await http(handler, event);
      expect(response.statusCode).toBeGreaterThanOrEqual(500);
      const body = JSON.parse(response.body) as Record<string, unknown>;
      expect(body).toMatchObject({ operation });
      expect(Object.keys(body).sort()).toEqual(['error', 'message', 'operation', 'requestId']);
      expect(response.body).not.toContain(stack.exchangeSecretId);
      expect(response.body).not.toContain('JSON');
      expect(metricsOf(response)).toMatchObject({ Operation: operation, Failures: 1 });
    }
    // The details are in the log, under the same request.
    expect(lines.some((l) => l.includes('"request refused"') && l.includes(stack.exchangeSecretId))).toBe(
      true,
    );
  });

  it('name the exchange retCode and retMsg when the exchange refused', async () => {
    stack.emulator.failNext('invalidKey', 5);
    const { cancel } = await container();
    const response = await http(cancel, signed('http-v2-cancel.json', single));
    expect(response.statusCode).toBe(502);
    const body = JSON.parse(response.body) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual([
      'error',
      'message',
      'operation',
      'requestId',
      'retCode',
      'retMsg',
    ]);
    expect(body).toMatchObject({ operation: 'cancel', retCode: 10003 });
  });
});

describe('webhook-key rotation', () => {
  const rotated = 'b'.repeat(20) + 'rotated-webhook-key';
  registerSecret('webhookSecret', rotated);

  it('a warm container accepts the rotated key at once, and the previous one until it is removed', async () => {
    const { cancel } = await container();
    // Warm: the old key is cached (SECRET_CACHE_TTL_SECONDS is 300 s by default).
    expect((await http(cancel, signed('http-v2-cancel.json', single))).statusCode).not.toBe(401);
    stack.secrets.put(stack.webhookSecretId, {
      webhookSecret: rotated,
      previousWebhookSecret: stack.webhookSecret,
    });
    const reads = stack.secrets.reads(stack.webhookSecretId);
    expect((await http(cancel, signed('http-v2-cancel.json', single, rotated))).statusCode).not.toBe(401);
    expect(stack.secrets.reads(stack.webhookSecretId)).toBe(reads + 1);
    // Senders not yet moved over still get through.
    expect((await http(cancel, signed('http-v2-cancel.json', single))).statusCode).not.toBe(401);
    // A forged signature right after costs no further read: at most one per 30 s per container.
    const forged = signedHttpEvent('http-v2-cancel.json', single, 'c'.repeat(32));
    expect((await http(cancel, forged)).statusCode).toBe(401);
    expect(stack.secrets.reads(stack.webhookSecretId)).toBe(reads + 1);
  });

  it('re-reads at most once per 30 s under a flood of wrong signatures', async () => {
    Object.assign(process.env, stack.env);
    let now = Date.now();
    const clock: Clock = { now: () => now, sleep: async () => undefined };
    const app = createApp({ clock });
    const handler = route({ request: async () => ({ ok: true }) }, () => app);
    const forged = () => signedHttpEvent('http-v2-cancel.json', single, 'c'.repeat(32), { now });
    const refused = async () =>
      ((await handler(forged(), lambdaContext())) as APIGatewayProxyResult).statusCode;
    for (let i = 0; i < 20; i++) expect(await refused()).toBe(401);
    // The first read fills the cache, the first mismatch reads once more: then nothing for 30 s.
    expect(stack.secrets.reads(stack.webhookSecretId)).toBe(2);
    now += 29_000;
    expect(await refused()).toBe(401);
    expect(stack.secrets.reads(stack.webhookSecretId)).toBe(2);
    now += 1_000;
    expect(await refused()).toBe(401);
    expect(stack.secrets.reads(stack.webhookSecretId)).toBe(3);
  });
});

describe('WEBHOOK_ALLOWED_SOURCE_IPS', () => {
  const allowlist = { WEBHOOK_ALLOWED_SOURCE_IPS: '203.0.113.0/24, 198.51.100.7, 2001:db8::/32' };
  const from = (name: string, sourceIp: string, headers: Record<string, string> = {}) => {
    const event = signed(name, single);
    if (event.version === '2.0') event.requestContext.http.sourceIp = sourceIp;
    else event.requestContext.identity.sourceIp = sourceIp;
    Object.assign(event.headers, headers);
    return event;
  };

  it('refuses a correctly signed request from another address with 403: no secret read, no exchange call', async () => {
    const { cancel } = await container(allowlist);
    for (const name of ['http-v2-cancel.json', 'http-v1-cancel.json']) {
      // A header a caller sets proves nothing: only API Gateway's own record of the source counts.
      const event = from(name, '52.89.214.238', { 'x-forwarded-for': '203.0.113.9' });
      const response = await http(cancel, event);
      expect(response.statusCode).toBe(403);
    }
    expect(stack.secrets.reads()).toBe(0);
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it.each([
    ['an address in an IPv4 range (HTTP API)', 'http-v2-cancel.json', '203.0.113.77'],
    ['a single IPv4 address (REST API)', 'http-v1-cancel.json', '198.51.100.7'],
    ['an address in an IPv6 range', 'http-v2-cancel.json', '2001:db8:1::5'],
  ])('serves %s', async (_, name, sourceIp) => {
    stack.emulator.addOrders(apiKey(), [{ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-1' }]);
    const { cancel } = await container(allowlist);
    const response = await http(cancel, from(name, sourceIp));
    expect(response.statusCode).toBe(200);
    expect(stack.emulator.openOrders()).toEqual([]);
  });

  it('restricts nothing when empty', async () => {
    stack.emulator.addOrders(apiKey(), [{ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-1' }]);
    const { cancel } = await container();
    expect((await http(cancel, from('http-v2-cancel.json', '52.89.214.238'))).statusCode).toBe(200);
  });
});
