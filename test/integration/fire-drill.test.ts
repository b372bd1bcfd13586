// `npm run kill-switch -- --fire-drill` against a deployed stage played on loopback, every name from the packaged
// template: the command (a child process, the real AWS SDK clients) reads the cancelAll function's settings
// (a Lambda API stand-in), the exchange keys (the Secrets Manager endpoint), places its orders on the exchange
// emulator (which plays testnet: it refuses what Bybit refuses), puts the kill-switch event on an EventBridge
// stand-in that hands it to the real cancelAll handler, waits for the report in the template's state table
// (dynalite), lists the orders, and resets the halt through the real reset handler.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { type FakeEventBridge, startEventBridge, templateRule } from '../support/eventbridge.ts';
import { lambdaContext, loadEvent } from '../support/events.ts';
import { type LambdaEndpoint, startLambdaEndpoint } from '../support/lambda.ts';
import { childEnv, runScript } from '../support/local-run.ts';
import { functionEnv, type ReportingStack, startReporting } from '../support/reporting.ts';
import { registerSecret } from '../support/secret-registry.ts';
import { type LocalStack, type StackAccount, startStack } from '../support/stack.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const template = inject('packaged').template;
const TIMEOUT_MS = 90_000;
const BOT = { apiKey: 'key-drill-fire-bot-41d2e9', apiSecret: 'fire-drill-bot-secret-0123' };
const MONTH_AGO = Date.now() - 30 * 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'bybit-cancel-fire-drill-'));

let stack: LocalStack;
let reporting: ReportingStack;
let events: FakeEventBridge;
let lambda: LambdaEndpoint;
let desk: StackAccount;
let cancelAll: Handler;
let reset: Handler;
/** The cancelAll function's settings as deployed: the template's, with the exchange at `baseUrl`. */
let settings: (baseUrl: string) => Record<string, string>;
let baseUrl: string;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'desk'], subAccounts: ['desk'] });
  reporting = await startReporting(template, stack.secrets);
  desk = stack.accounts.find((a) => a.name === 'desk') as StackAccount;
  registerSecret('apiKey', BOT.apiKey);
  registerSecret('apiSecret', BOT.apiSecret);
  stack.emulator.addAccount({ uid: desk.uid, parentUid: stack.master?.uid, ...BOT });
  Object.assign(process.env, stack.env, reporting.env);
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as Handler;
  reset = (await import('../../handlers/reset.ts')).handler as Handler;
  const deployed = Object.fromEntries(
    Object.entries(functionEnv(template, 'CancelAllLambdaFunction')).filter(([, v]) => typeof v === 'string'),
  ) as Record<string, string>;
  // The stage keeps its exchange keys where the test stack put them.
  settings = (url) => ({ ...deployed, BYBIT_BASE_URL: url, BYBIT_SECRET_ID: stack.exchangeSecretId });
  baseUrl = stack.emulator.url;
  const name = (fn: string) => `bybit-cancel-${reporting.stage}-${fn}`;
  lambda = await startLambdaEndpoint(
    { [name('reset')]: (payload) => reset(payload, lambdaContext(60_000, name('reset'))) },
    {
      environments: {
        get [name('cancelAll')]() {
          return settings(baseUrl);
        },
      },
    },
  );
  events = await startEventBridge({
    rules: [templateRule(template)],
    onEvent: (event) => {
      cancelAll(event, lambdaContext(30_000, name('cancelAll'))).catch(() => undefined);
    },
  });
});
afterAll(async () => {
  await Promise.all([events.close(), lambda.close(), reporting.close(), stack.close()]);
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  stack.emulator.reset();
  stack.emulator.setKey(BOT.apiKey, { createdAt: MONTH_AGO });
  events.eventId = crypto.randomUUID();
  events.calls.length = 0;
  baseUrl = stack.emulator.url;
});

function cliEnv() {
  return childEnv({
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
    AWS_ENDPOINT_URL_EVENTBRIDGE: events.url,
    AWS_ENDPOINT_URL_DYNAMODB: reporting.dynamo.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stack.secrets.url,
    AWS_ACCESS_KEY_ID: 'AKIDFIREDRILLTEST',
    AWS_SECRET_ACCESS_KEY: 'fire-drill-test-only',
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
  });
}

const created = () => stack.emulator.requests.filter((r) => r.path === '/v5/order/create');

describe('npm run kill-switch -- --fire-drill --stage S', () => {
  it('places post-only orders far from the market, fires the kill switch through EventBridge, verifies them gone, resets its halt and prints each phase’s time', async () => {
    const result = await runScript(
      'kill-switch',
      ['--fire-drill', '--stage', reporting.stage],
      TIMEOUT_MS,
      cliEnv(),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Fire drill on stage ${reporting.stage} in ap-southeast-1: loopback (${baseUrl})`,
    );

    // One post-only buy per account and category, far below the last price, each read back open.
    const orders = ['main', 'desk'].flatMap((account) => {
      const key = stack.accounts.find((a) => a.name === account)?.apiKey as string;
      return created()
        .filter((r) => r.apiKey === key && r.retCode === 0)
        .map(() => account);
    });
    expect(orders.sort()).toEqual(['desk', 'desk', 'main', 'main']);
    const placed = [
      ...result.stdout.matchAll(
        /^ {2}✔ (main|desk): (linear|spot) BTCUSDT Buy ([\d.]+) @ ([\d.]+) post-only (firedrill-\S+), order (\S+): open$/gm,
      ),
    ];
    expect(placed).toHaveLength(4);
    for (const [, , category, qty, price, link, orderId] of placed) {
      const order = stack.emulator.order(orderId as string);
      expect(order, link).toMatchObject({
        category,
        qty,
        price,
        orderLinkId: link,
        timeInForce: 'PostOnly',
        orderStatus: 'Cancelled',
      });
      // The emulator's BTC trades at 95,000: the drill bids half of it, on the tick.
      expect(Number(price)).toBe(47_500);
      expect(String(link).length).toBeLessThanOrEqual(36);
    }

    // The kill switch through EventBridge, its report, the listings, the reset of its halt.
    expect(result.stdout).toContain(`kill switch ${events.eventId}: ✔ all clear`);
    expect(result.stdout).toMatch(
      /✔ verified: 4 order\(s\) read back closed, and no listing shows one of firedrill-\w+-…/,
    );
    expect(result.stdout).toContain(`✔ reset the drill's halt on desk, main: 1 key(s) made read-write again`);
    expect(stack.emulator.openOrders()).toHaveLength(0);
    expect(stack.emulator.keySettings(BOT.apiKey).readOnly).toBe(false);
    expect(await reporting.items('halt')).toEqual([]);
    const [phases] =
      result.stdout.match(
        /^Phase times: place \d+ ms, kill switch \d+ ms, verify \d+ ms, reset \d+ ms; total [\d.]+ s$/m,
      ) ?? [];
    expect(phases).toBeDefined();
    expect(result.stdout).toContain(
      '✔ Fire drill passed: 4 order(s) placed, cancelled by the kill switch and verified gone',
    );
    // The kill switch's message names the drill; the reset's says what it restored.
    const subjects = reporting.sns.published().map((m) => m.subject);
    expect(subjects).toHaveLength(2);
    expect(reporting.sns.published()[0]?.message).toContain('Fired by: fireDrill');
    expect(subjects[1]).toContain('Halt reset: desk, main - 1 key made read-write again');
    expect(result.stdout).not.toContain(BOT.apiKey);
    reporting.sns.reset();
  });

  it('leaves a halt that stood before the drill as it was', async () => {
    await cancelAll(
      {
        ...loadEvent('kill-switch.json'),
        id: crypto.randomUUID(),
        detail: { accounts: ['desk'], reason: 'bot gone wild' },
      },
      lambdaContext(),
    );
    const result = await runScript(
      'kill-switch',
      ['--fire-drill', '--stage', reporting.stage],
      TIMEOUT_MS,
      cliEnv(),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  desk is halted already: its halt stays after the drill');
    expect(result.stdout).toContain(`✔ reset the drill's halt on main: 0 key(s) made read-write again`);
    const halts = (await reporting.items('halt')).map(
      (i) => i.value as { kind: string; account: string; reason?: string },
    );
    expect(halts.filter((h) => h.kind === 'halt')).toEqual([
      expect.objectContaining({ account: 'desk', reason: 'bot gone wild' }),
    ]);
    expect(stack.emulator.keySettings(BOT.apiKey).readOnly).toBe(true);
    await reset({ accounts: ['desk'] }, lambdaContext());
    reporting.sns.reset();
  });

  it('refuses a stage on mainnet without --mainnet, and without the stage name typed; nothing reaches the exchange', async () => {
    baseUrl = 'https://api.bybit.com';
    const refused = await runScript(
      'kill-switch',
      ['--fire-drill', '--stage', reporting.stage],
      TIMEOUT_MS,
      cliEnv(),
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `stage ${reporting.stage} trades on mainnet (https://api.bybit.com): a fire drill places real orders there`,
    );
    expect(refused.stderr).toContain('pass --mainnet and type the stage name');
    // A script cannot type the stage name: --mainnet alone is not enough.
    const untyped = await runScript(
      'kill-switch',
      ['--fire-drill', '--mainnet', '--stage', reporting.stage],
      TIMEOUT_MS,
      cliEnv(),
    );
    expect(untyped.code).toBe(2);
    expect(untyped.stderr).toContain('--mainnet needs the stage name typed in a terminal');
    expect(stack.emulator.requests).toHaveLength(0);
    expect(events.calls.filter((c) => c.target.endsWith('PutEvents'))).toHaveLength(0);
  });
});
