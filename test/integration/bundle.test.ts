// The packaged bundle of each function, loaded from its zip in a fresh Node 22 process, against the
// emulator and the Secrets Manager endpoint: what would be deployed is what is tested.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { invokeBundle as runBundle } from '../support/bundle.ts';
import { loadEvent, signedHttpEvent } from '../support/events.ts';
import { inspectOutput } from '../support/secret-hygiene.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

let stack: LocalStack;
const service = inject('packaged');

beforeAll(async () => {
  stack = await startStack({ accounts: ['main'], rsa: ['main'] });
});
afterAll(() => stack.close());
beforeEach(() => stack.emulator.reset());

const apiKey = () => stack.accounts[0]?.apiKey as string;

/** Runs a bundle in its own process; what it printed and answered goes through the secret-hygiene check too. */
async function invokeBundle(...args: Parameters<typeof runBundle>) {
  const outcome = await runBundle(...args);
  for (const line of outcome.logs) inspectOutput('log', line);
  inspectOutput(outcome.error ? 'error' : 'response', outcome.error ?? outcome.result);
  return outcome;
}
const bundle = (fn: 'cancel' | 'cancelAll') =>
  join(service.functions[fn] as string, 'handlers', fn === 'cancel' ? 'cancel.mjs' : 'cancel-all.mjs');

describe('the packaged bundles', () => {
  it('are single small ESM files without the AWS SDK', () => {
    for (const fn of ['cancel', 'cancelAll'] as const) {
      const size = statSync(bundle(fn)).size;
      expect(size).toBeGreaterThan(10_000);
      expect(size).toBeLessThan(150 * 1024);
    }
  });

  const body = { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-long-1' };
  it.each([
    ['an HTTP API 2.0 event', 'http-v2-cancel.json'],
    ['a REST API 1.0 event', 'http-v1-cancel.json'],
  ])('cancel: cancels on the emulator for %s (RSA key)', async (_, name) => {
    stack.emulator.addOrders(apiKey(), [
      { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-btc-long-1' },
    ]);
    const outcome = await invokeBundle(
      bundle('cancel'),
      signedHttpEvent(name, body, stack.webhookSecret),
      stack.env,
    );
    expect(outcome.result).toMatchObject({ statusCode: 200 });
    expect(stack.emulator.openOrders(apiKey())).toHaveLength(0);
  });

  it('cancel: cancels on a direct invocation', async () => {
    stack.emulator.addOrders(apiKey(), [
      { category: 'spot', symbol: 'ETHUSDT', orderId: '1838591702357416704' },
    ]);
    const outcome = await invokeBundle(bundle('cancel'), loadEvent('direct-cancel.json'), stack.env);
    expect(outcome.result).toMatchObject({
      orderId: '1838591702357416704',
      orderStatus: 'Cancelled',
      confirmed: true,
    });
    expect(stack.emulator.openOrders(apiKey())).toHaveLength(0);
  });

  it.each([
    ['an HTTP API 2.0 event', 'http-v2-cancel-all.json'],
    ['a REST API 1.0 event', 'http-v1-cancel-all.json'],
  ])('cancel-all: cancels the scope on the emulator for %s', async (_, name) => {
    stack.emulator.addOrders(apiKey(), [
      { category: 'linear', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'BTCUSDT', kind: 'StopOrder' },
      { category: 'linear', symbol: 'ETHUSDT' },
    ]);
    const event = signedHttpEvent(name, { category: 'linear', symbol: 'BTCUSDT' }, stack.webhookSecret);
    const outcome = await invokeBundle(bundle('cancelAll'), event, stack.env);
    expect(outcome.result).toMatchObject({ statusCode: 200 });
    expect(JSON.parse((outcome.result as { body: string }).body)).toMatchObject({
      cancelled: 2,
      remaining: 0,
    });
    expect(stack.emulator.openOrders(apiKey()).map((o) => o.symbol)).toEqual(['ETHUSDT']);
  });

  it('cancel-all: cancels on a direct invocation', async () => {
    stack.emulator.addOrders(apiKey(), [
      { category: 'spot', symbol: 'ETHUSDT', kind: 'tpslOrder' },
      { category: 'spot', symbol: 'ETHUSDT' },
    ]);
    const outcome = await invokeBundle(bundle('cancelAll'), loadEvent('direct-cancel-all.json'), stack.env);
    expect(outcome.result).toMatchObject({ cancelled: 1, remaining: 0 });
    expect(stack.emulator.openOrders(apiKey()).map((o) => o.kind)).toEqual(['Order']);
  });

  it('cancel-all: runs the kill switch from the EventBridge event and reports it', async () => {
    stack.emulator.addOrders(apiKey(), [
      { category: 'inverse', symbol: 'BTCUSD' },
      { category: 'option', symbol: 'BTC-27DEC26-100000-C' },
      { category: 'spot', symbol: 'BTCUSDT', kind: 'OcoOrder' },
    ]);
    const outcome = await invokeBundle(bundle('cancelAll'), loadEvent('kill-switch.json'), stack.env);
    expect(outcome.result).toMatchObject({ ok: true, cancelled: 3, remaining: 0 });
    expect(stack.emulator.openOrders(apiKey())).toHaveLength(0);
  });

  it('fails the invocation, as Lambda reports it, when the kill switch cannot clear', async () => {
    stack.emulator.addOrders(apiKey(), [{ category: 'option', symbol: 'BTC-27DEC26-100000-C' }]);
    stack.emulator.setFaults({
      rate: 1,
      kinds: ['http5xx'],
      paths: ['/v5/order/cancel-all', '/v5/order/cancel-batch'],
    });
    const outcome = await invokeBundle(bundle('cancelAll'), loadEvent('kill-switch.json'), stack.env, 4_000);
    expect(outcome.error?.errorType).toBe('IncompleteCancelError');
    expect(outcome.error?.errorMessage).toContain('default: option');
  });
});
