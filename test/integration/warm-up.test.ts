// The hot kill switch: a cancelAll environment that Lambda initialises ahead of any event (provisioned
// concurrency) reads the keys and lists the instruments during init, so the first kill switch starts with
// both; an on-demand one does nothing extra at init; and nothing that goes wrong during the warm-up fails
// the init. In-process against the emulator and the Secrets Manager endpoint, and in the packaged bundle.

import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { killSwitch } from '../../lib/cancel/kill-switch.ts';
import { type App, createApp, warmUp } from '../../lib/lambda/app.ts';
import { invokeBundle } from '../support/bundle.ts';
import { loadEvent } from '../support/events.ts';
import { inspectOutput } from '../support/secret-hygiene.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

const INSTRUMENTS = '/v5/market/instruments-info';
const PROVISIONED = 'provisioned-concurrency';

let stack: LocalStack;
beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'hedge'], rsa: ['hedge'] });
  // The SDK client finds its endpoint, region and credentials where the Lambda runtime puts them.
  Object.assign(process.env, stack.env);
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emulator.reset();
  stack.secrets.reset();
});

const paths = () => stack.emulator.requests.map((r) => r.path);
const exchangeReads = () => stack.secrets.reads(stack.exchangeSecretId);

function appWithLog(): { app: App; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const app = createApp({
    env: { ...stack.env, LOG_LEVEL: 'info' },
    write: (line) => {
      inspectOutput('log', line);
      lines.push(JSON.parse(line));
    },
  });
  return { app, lines };
}

describe('warmUp', () => {
  it('in a provisioned environment, reads the keys and lists the instruments: the kill switch then needs neither', async () => {
    const { app, lines } = appWithLog();
    await warmUp(() => app, PROVISIONED);
    expect(exchangeReads()).toBe(1);
    // Trading and pre-market linear instruments, and nothing else: no order request before an event.
    expect(paths().sort()).toEqual([INSTRUMENTS, INSTRUMENTS]);
    expect(lines.find((l) => l.message === 'warmed up')).toMatchObject({
      accounts: 2,
      clients: 2,
      instrumentsListed: true,
    });

    stack.emulator.resetRequests();
    stack.emulator.addOrders(stack.accounts[0]?.apiKey as string, [
      { category: 'linear', symbol: 'BTCUSDT' },
    ]);
    const report = await killSwitch(app.exchange, app.config.scope, {}, Date.now() + 20_000, app.clock);
    expect(report).toMatchObject({ ok: true, cancelled: 1 });
    expect(report.coverage.confirmed).toBe(true);
    expect(exchangeReads()).toBe(1);
    expect(paths()).not.toContain(INSTRUMENTS);
  });

  it('in an on-demand environment, does nothing: not even building the app', async () => {
    let built = 0;
    await warmUp(() => {
      built++;
      throw new Error('must not be called');
    }, 'on-demand');
    expect(built).toBe(0);
    expect(exchangeReads()).toBe(0);
    expect(paths()).toEqual([]);
  });

  it('never throws: an unreadable secret is logged and left for the first invocation', async () => {
    const { app, lines } = appWithLog();
    stack.secrets.failNext('accessDenied', 1, stack.exchangeSecretId);
    await expect(warmUp(() => app, PROVISIONED)).resolves.toBeUndefined();
    expect(lines.find((l) => l.message?.toString().startsWith('warm-up failed'))).toMatchObject({
      errorType: 'SecretError',
    });
    // The failed read is not cached: the kill switch reads the secret again and succeeds.
    const report = await killSwitch(app.exchange, app.config.scope, {}, Date.now() + 20_000, app.clock);
    expect(report.ok).toBe(true);
    expect(exchangeReads()).toBe(2);
  });

  it('never throws when the configuration itself is wrong (the invocation reports it)', async () => {
    await expect(
      warmUp(() => createApp({ env: { ...stack.env, BYBIT_RECV_WINDOW: 'soon' } }), PROVISIONED),
    ).resolves.toBeUndefined();
  });
});

describe('the packaged cancelAll bundle, initialised as provisioned concurrency', () => {
  const service = inject('packaged');
  const bundle = join(service.functions.cancelAll as string, 'handlers', 'cancel-all.mjs');
  const provisioned = () => ({
    ...stack.env,
    LOG_LEVEL: 'info',
    AWS_LAMBDA_INITIALIZATION_TYPE: PROVISIONED,
  });
  const messages = (logs: string[]) =>
    logs.flatMap((line) => {
      inspectOutput('log', line);
      try {
        return [String(JSON.parse(line).message)];
      } catch {
        return [];
      }
    });

  it('warms up during init, before the event, and the kill switch reads no secret again', async () => {
    stack.emulator.addOrders(stack.accounts[1]?.apiKey as string, [{ category: 'spot', symbol: 'BTCUSDT' }]);
    const outcome = await invokeBundle(bundle, loadEvent('kill-switch.json'), provisioned());
    expect(outcome.result).toMatchObject({ ok: true, cancelled: 1, remaining: 0 });
    const said = messages(outcome.logs);
    expect(said.indexOf('warmed up')).toBeGreaterThanOrEqual(0);
    expect(said.indexOf('warmed up')).toBeLessThan(said.indexOf('invocation finished'));
    expect(exchangeReads()).toBe(1);
    expect(paths().filter((p) => p === INSTRUMENTS)).toHaveLength(2);
  });

  it('loads even when Secrets Manager refuses during init, and the event still succeeds', async () => {
    stack.secrets.failNext('accessDenied', 1, stack.exchangeSecretId);
    const outcome = await invokeBundle(bundle, loadEvent('kill-switch.json'), provisioned());
    expect(outcome.error).toBeUndefined();
    expect(outcome.result).toMatchObject({ ok: true });
    expect(messages(outcome.logs)).toContain('warm-up failed; the first invocation tries again');
    expect(exchangeReads()).toBe(2);
  });
});
