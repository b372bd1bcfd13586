// Secrets Manager throttling (a regional brownout, or another workload spending the account's quota), through
// the real handlers against the loopback Secrets Manager endpoint. A warm container keeps the keys it read:
// a failed read serves the value read before (for up to an hour), with a warning and a metric, and a forged
// signature that forces a re-read of the webhook key never takes the key away.

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';
import { captureStdout } from '../support/stdout.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
let stack: LocalStack;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'hedge'] });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emulator.reset();
  stack.secrets.reset();
});

/** A fresh container of the cancelAll function: its own module instance, so its own app and cache. */
async function container(env: Record<string, string> = {}): Promise<Handler> {
  Object.assign(process.env, stack.env, { LOG_LEVEL: 'warn', SECRET_CACHE_TTL_SECONDS: '300' }, env);
  vi.resetModules();
  return (await import('../../handlers/cancel-all.ts')).handler as Handler;
}

const status = (answer: unknown) => (answer as { statusCode: number }).statusCode;
const key = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;

describe('a warm container during a Secrets Manager brownout', () => {
  it('runs the kill switch with the keys it read before the TTL ended, and says it did (warning and metric)', async () => {
    for (const a of stack.accounts) stack.emulator.addOrders(a.apiKey, mixedBook(20));
    // SECRET_CACHE_TTL_SECONDS=1 stands for the default 300 s having passed.
    const cancelAll = await container({ SECRET_CACHE_TTL_SECONDS: '1' });
    // Warm: a scoped cancel-all reads the keys.
    await cancelAll({ category: 'option', account: 'main' }, lambdaContext());
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    stack.secrets.failNext('throttling', 1000);
    const open = stack.emulator.openOrders().length;

    const lines = await captureStdout(async () => {
      const report = await cancelAll(loadEvent('kill-switch.json'), lambdaContext(60_000));
      expect(report).toMatchObject({ ok: true, remaining: 0 });
    });

    expect(open).toBeGreaterThan(30);
    expect(stack.emulator.openOrders()).toHaveLength(0);
    const warning = lines.find((l) => l.message === 'secret read failed: the value read before is served');
    expect(warning).toMatchObject({
      level: 'warn',
      secretId: stack.exchangeSecretId,
      errorType: 'SecretUnavailableError',
    });
    expect(warning?.ageMs).toBeGreaterThanOrEqual(1_000);
    const metric = lines.find((l) => 'SecretsServedStale' in l);
    expect(metric).toMatchObject({ SecretsServedStale: 1 });
    expect(metric?._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'SecretsServedStale', Unit: 'Count' },
    ]);
  });

  for (const forged of [false, true]) {
    it(`serves a signed request while reads fail${forged ? ', after a forged signature forced a re-read (answered 401, not 503)' : ' (control)'}`, async () => {
      stack.emulator.addOrders(key('main'), mixedBook(10));
      const cancelAll = await container();
      const scoped = { category: 'linear', settleCoin: 'USDT', account: 'main' };
      const signed = () => signedHttpEvent('http-v2-cancel-all.json', scoped, stack.webhookSecret);
      expect(status(await cancelAll(signed(), lambdaContext()))).toBe(200);
      stack.secrets.failNext('throttling', 1000);
      if (forged) {
        const forgery = signedHttpEvent('http-v2-cancel-all.json', scoped, 'not-the-key-0123456789');
        expect(status(await cancelAll(forgery, lambdaContext()))).toBe(401);
      }
      expect(status(await cancelAll(signed(), lambdaContext()))).toBe(200);
    });
  }
});
