// An apiKey that no HTTP header can carry (a trailing newline, a BOM, a zero-width space pasted with it) is
// refused when the secret is parsed: its account fails alone and at once, like an account with no key, takes
// no unit of the IP budget, and every other account is cleared as usual.

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { killSwitch } from '../../lib/cancel/kill-switch.ts';
import { IncompleteCancelError } from '../../lib/errors.ts';
import { createApp } from '../../lib/lambda/app.ts';
import { lambdaContext, signedHttpEvent } from '../support/events.ts';
import { fleetBook } from '../support/fleet.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

const FLEET = Array.from({ length: 10 }, (_, i) => `sub${String(i + 1).padStart(2, '0')}`);
let stack: LocalStack;

beforeAll(async () => {
  stack = await startStack({ accounts: FLEET });
  // The SDK finds the loopback Secrets Manager through the environment, as in Lambda.
  Object.assign(process.env, stack.env);
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emulator.reset();
  stack.writeExchangeSecret();
});

/** The fleet's secret with extra named entries. */
function secretWith(extra: Record<string, object>) {
  const accounts = Object.fromEntries(
    stack.accounts.map((a) => [a.name, { apiKey: a.apiKey, apiSecret: a.apiSecret }]),
  );
  stack.secrets.put(stack.exchangeSecretId, { accounts: { ...accounts, ...extra } });
}

describe('an account whose apiKey no header can carry', () => {
  it.each([
    ['a trailing newline', 'abcDEF123456\n'],
    ['a byte order mark', '\ufeffabcDEF123456'],
    ['a zero-width space', 'abc\u200bDEF123456'],
  ])(
    '(%s) fails alone, at once, with the secret named, and takes no unit of the IP budget',
    async (_, apiKey) => {
      for (const a of stack.accounts) stack.emulator.addOrders(a.apiKey, fleetBook());
      secretWith({ broken: { apiKey, apiSecret: 'x'.repeat(36) } });
      const app = createApp({
        env: { ...stack.env, BYBIT_REQUEST_TIMEOUT_MS: '5000' },
        write: () => undefined,
      });
      // Bounded well under the EventBridge kill switch's 58.5 s, so that a run that waits for it fails here.
      const outcome = await killSwitch(
        app.exchange,
        app.config.scope,
        {},
        Date.now() + 20_000,
        app.clock,
      ).catch((e: unknown) => e);

      expect(outcome).toBeInstanceOf(IncompleteCancelError);
      const report = (outcome as IncompleteCancelError).report as unknown as {
        failedScopes: string[];
        scopes: { account: string; error?: Record<string, unknown> }[];
      };
      expect(report.failedScopes).toEqual(['broken: *']);
      expect(report.scopes.find((s) => s.account === 'broken')?.error).toMatchObject({
        errorType: 'SecretError',
        errorMessage: `secret ${stack.exchangeSecretId}: accounts.broken: "apiKey" holds a character no HTTP header can carry (a space, a line break, or anything outside printable ASCII)`,
      });
      // Every unit taken went to the exchange: none was held for a request that never left.
      expect(app.ipBudget.sent).toBe(stack.emulator.requests.length);
      expect(stack.emulator.openOrders()).toHaveLength(0);
    },
  );

  it('over HTTP: the 502 names the account and a fixed reason, and nothing signed with that key reaches the exchange', async () => {
    const main = stack.accounts[0] as { apiKey: string; apiSecret: string };
    stack.emulator.addOrders(main.apiKey, fleetBook());
    stack.secrets.put(stack.exchangeSecretId, {
      accounts: {
        main: { apiKey: main.apiKey, apiSecret: main.apiSecret },
        broken: { apiKey: '\u200bkey', apiSecret: 'y'.repeat(36) },
      },
    });
    vi.resetModules();
    const { handler } = await import('../../handlers/cancel-all.ts');
    const answer = (await handler(
      signedHttpEvent('http-v2-kill-switch.json', {}, stack.webhookSecret),
      lambdaContext(60_000),
    )) as { statusCode: number; body: string };

    expect(answer.statusCode).toBe(502);
    const body = JSON.parse(answer.body) as { scopes: { account: string; error?: unknown }[] };
    expect(body.scopes.find((s) => s.account === 'broken')?.error).toEqual({
      errorType: 'SecretError',
      errorMessage: "the account's entry in the exchange secret is unusable",
    });
    expect(stack.emulator.openOrders()).toHaveLength(0);
    expect(stack.emulator.requests.filter((r) => r.apiKey !== undefined && r.apiKey !== main.apiKey)).toEqual(
      [],
    );
  });
});
