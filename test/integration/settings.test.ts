// A malformed setting fails only what reads it, and is always logged. The packaged bundles as Lambda loads
// them, with one of the review's slips in a setting only HTTP reads: the EventBridge kill switch still clears
// the book and reports the setting as ignored; an HTTP request to the same bundle is refused with a logged
// 500; a sweep whose own setting is malformed fails with a log line that says why.

import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { invokeBundle } from '../support/bundle.ts';
import { loadEvent, signedHttpEvent } from '../support/events.ts';
import { mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

const service = inject('packaged');
const bundle = (fn: 'cancel' | 'cancelAll', file: string) =>
  join(service.functions[fn] as string, 'handlers', file);
let stack: LocalStack;
const key = () => stack.accounts[0]?.apiKey as string;
const lines = (logs: string[]) => logs.map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  stack = await startStack({ accounts: ['main'] });
});
afterAll(() => stack.close());
beforeEach(() => stack.emulator.reset());

describe('a malformed setting that only HTTP reads', () => {
  const slips: [string, string, string][] = [
    ['WEBHOOK_ALLOWED_SOURCE_IPS', '52.89.214.238 34.212.75.30', 'is not an IP address or CIDR range'],
    ['WEBHOOK_ALLOWED_SOURCE_IPS', '52.89.214.238;34.212.75.30', 'is not an IP address or CIDR range'],
    ['WEBHOOK_ALLOWED_SOURCE_IPS', 'tradingview.com', 'is not an IP address or CIDR range'],
    ['WEBHOOK_PASSPHRASE_MODE', 'on', 'is not true or false'],
    ['WEBHOOK_MAX_SKEW_SECONDS', '5m', 'is not an integer from 1 to 3600'],
    ['MAX_BODY_BYTES', '128', 'is not an integer from 256 to 1048576'],
  ];

  it.each(slips)(
    '%s=%s: the EventBridge kill switch clears the book, and logs and reports the setting as ignored',
    async (name, value, why) => {
      stack.emulator.addOrders(key(), mixedBook(10));
      const outcome = await invokeBundle(
        bundle('cancelAll', 'cancel-all.mjs'),
        loadEvent('kill-switch.json'),
        {
          ...stack.env,
          LOG_LEVEL: 'info',
          [name]: value,
        },
      );
      const ignored = `setting ${name}: "${value}" ${why}: ignored`;
      expect(outcome.error).toBeUndefined();
      expect(outcome.result).toMatchObject({ ok: true, remaining: 0, ignored: [ignored] });
      expect(stack.emulator.openOrders(key())).toHaveLength(0);
      const warning = lines(outcome.logs).find((l) => l.message === 'settings ignored');
      expect(warning).toMatchObject({
        level: 'warn',
        trigger: 'killSwitch',
        ignored: [`${name}: "${value}" ${why}`],
      });
      // The invocation's metrics still go out, under the kill switch.
      expect(lines(outcome.logs).find((l) => '_aws' in l)).toMatchObject({
        Operation: 'killSwitch',
        Failures: 0,
      });
    },
  );

  it.each(slips.slice(0, 1))(
    '%s=%s: an HTTP request is refused with a 500 that is logged, and nothing is sent',
    async (name, value) => {
      stack.emulator.addOrders(key(), mixedBook(10));
      const event = signedHttpEvent('http-v2-kill-switch.json', {}, stack.webhookSecret);
      const outcome = await invokeBundle(bundle('cancelAll', 'cancel-all.mjs'), event, {
        ...stack.env,
        [name]: value,
      });
      const answer = outcome.result as { statusCode: number; body: string };
      expect(answer.statusCode).toBe(500);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'InternalError' });
      const refused = lines(outcome.logs).find((l) => l.message === 'request refused');
      expect(refused).toMatchObject({ level: 'error', errorType: 'ConfigError' });
      expect(String(refused?.errorMessage)).toContain(`${name}: "${value}"`);
      expect(stack.emulator.requests).toHaveLength(0);
      expect(stack.emulator.openOrders(key())).toHaveLength(10);
    },
  );
});

describe('a malformed setting an operation reads', () => {
  it('fails the sweep that reads it, with a log line naming it (a config error is never silent)', async () => {
    const old = Date.now() - 2 * 3600_000;
    stack.emulator.addOrders(key(), mixedBook(4, { createdTime: old }));
    const outcome = await invokeBundle(bundle('cancel', 'cancel.mjs'), loadEvent('schedule.json'), {
      ...stack.env,
      STALE_ORDER_MAX_AGE_SECONDS: '1h',
    });
    expect(outcome.error).toMatchObject({ errorType: 'ConfigError' });
    const failed = lines(outcome.logs).find((l) => l.message === 'invocation failed');
    expect(failed).toMatchObject({ level: 'error', errorType: 'ConfigError' });
    expect(String(failed?.errorMessage)).toContain('STALE_ORDER_MAX_AGE_SECONDS: "1h"');
    expect(lines(outcome.logs).find((l) => '_aws' in l)).toMatchObject({ Operation: 'sweep', Failures: 1 });
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it('never stops the kill switch: it runs with the safe default in place, and reports what it ignored', async () => {
    stack.emulator.addOrders(key(), mixedBook(12));
    const outcome = await invokeBundle(bundle('cancelAll', 'cancel-all.mjs'), loadEvent('kill-switch.json'), {
      ...stack.env,
      // A category list with a typo: the default covers every category, so nothing is left out.
      SCOPE_CATEGORIES: 'linear,spto',
      STALE_ORDER_MAX_AGE_SECONDS: '1h',
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.result).toMatchObject({
      ok: true,
      remaining: 0,
      ignored: [
        'setting SCOPE_CATEGORIES: unknown category "spto" (expected linear, inverse, spot, option): ignored',
        'setting STALE_ORDER_MAX_AGE_SECONDS: "1h" is not an integer from 1 to 31536000: ignored',
      ],
    });
    expect(stack.emulator.openOrders(key())).toHaveLength(0);
  });
});
