// The kill-switch drill through the real drill handler and its triggers (schedule, direct invocation, and a
// webhook drill that cancelAll hands over through the Lambda Invoke API), against the emulator's query-api
// answers: what a healthy key is, what makes the kill switch fail, and that the drill sends no POST.

import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DrillReport } from '../../lib/cancel/drill.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import type { DrillFailedError } from '../../lib/errors.ts';
import { lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { type LambdaEndpoint, startLambdaEndpoint } from '../support/lambda.ts';
import { mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';
import { captureStdout } from '../support/stdout.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const DRILL_FUNCTION = 'bybit-cancel-test-drill';
let stack: LocalStack;
let lambda: LambdaEndpoint;
let cancelAll: Handler;
let drill: Handler;

beforeAll(async () => {
  stack = await startStack({ accounts: ['healthy', 'readonly', 'expiring'], rsa: ['expiring'] });
  // The drill function behind the Lambda Invoke API, as cancelAll reaches it when deployed.
  lambda = await startLambdaEndpoint({
    [DRILL_FUNCTION]: (event) => drill(event, lambdaContext(120_000, DRILL_FUNCTION)),
  });
  Object.assign(process.env, stack.env, {
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
    DRILL_FUNCTION_NAME: DRILL_FUNCTION,
  });
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as Handler;
  drill = (await import('../../handlers/drill.ts')).handler as Handler;
});
afterAll(async () => {
  await lambda.close();
  await stack.close();
});
beforeEach(() => {
  stack.emulator.reset();
  lambda.reset();
  for (const a of stack.accounts) stack.emulator.setKey(a.apiKey, {});
});

const key = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;
const posts = () => stack.emulator.requests.filter((r) => r.method === 'POST');
const failure = async (promise: Promise<unknown>) =>
  (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as DrillFailedError;
const accountOf = (report: Record<string, unknown>, name: string) =>
  (report as unknown as DrillReport).accounts.find((a) => a.account === name);

/** The must-show: one healthy key, one read-only, one expiring in 5 days (bound to no IP, as such keys are). */
function threeAccounts() {
  stack.emulator.addOrders(key('healthy'), mixedBook(60));
  stack.emulator.addOrders(key('readonly'), mixedBook(10));
  stack.emulator.setKey(key('readonly'), { readOnly: true });
  stack.emulator.setKey(key('expiring'), { ips: [], expiresInDays: 5 });
}

describe('the drill on three accounts: healthy, read-only, expiring in 5 days', () => {
  it('fails naming both problem accounts and why, reports the healthy one ok with its counts, and sends no POST', async () => {
    threeAccounts();
    const healthyOpen = stack.emulator.openOrders(key('healthy'));

    const error = await failure(drill(loadEvent('drill.json'), lambdaContext()));

    expect(error.name).toBe('DrillFailedError');
    expect(error.message).toContain('readonly: the key is read-only');
    expect(error.message).toContain('expiring: the key expires in 5 day(s)');
    expect(error.message).not.toContain('healthy');
    expect(error.report).toMatchObject({ operation: 'drill', ok: false });
    const healthy = accountOf(error.report, 'healthy');
    const count = (category: string) => healthyOpen.filter((o) => o.category === category).length;
    expect(healthy).toMatchObject({
      ok: true,
      problems: [],
      warnings: [],
      keyExpiresInDays: null,
      openOrders: {
        linear: count('linear'),
        inverse: count('inverse'),
        spot: count('spot'),
        option: count('option'),
      },
    });
    expect(healthy?.coverage.map((c) => c.listing)).toEqual([
      'linear settleCoin=USDT',
      'linear settleCoin=USDC',
      'inverse',
      'spot',
      'option',
    ]);
    expect(healthy?.coverage.every((c) => c.verified)).toBe(true);
    expect(accountOf(error.report, 'readonly')).toMatchObject({
      ok: false,
      problems: [{ code: 'readOnly' }],
      openOrders: { linear: expect.any(Number) },
    });
    expect(accountOf(error.report, 'expiring')).toMatchObject({
      ok: false,
      keyExpiresInDays: 5,
      problems: [{ code: 'keyExpiresSoon' }],
      warnings: [{ code: 'noIpBound' }],
    });
    expect(posts()).toHaveLength(0);
    expect(stack.emulator.openOrders()).toHaveLength(70);
    expect(stack.emulator.requests.filter((r) => r.path === '/v5/user/query-api')).toHaveLength(3);
  });

  it('hands a signed POST /cancel-all {"drill": true} to the drill function and answers 202 at once: cancelAll sends the exchange nothing', async () => {
    threeAccounts();
    const event = signedHttpEvent('http-v2-cancel-all.json', '{"drill": true}', stack.webhookSecret);

    const answer = (await cancelAll(event, lambdaContext())) as APIGatewayProxyResult;
    // By the time cancelAll has answered, not one request has reached the exchange: its container is free.
    expect(stack.emulator.requests).toHaveLength(0);

    expect(answer.statusCode).toBe(202);
    expect(JSON.parse(answer.body)).toEqual({
      operation: 'drillStart',
      started: true,
      function: DRILL_FUNCTION,
    });
    expect(lambda.invocations.map((i) => [i.functionName, i.invocationType, i.payload])).toEqual([
      [DRILL_FUNCTION, 'Event', { action: 'drill' }],
    ]);
    // The drill runs there, and fails there (so its alarm and the failure queue hear of it).
    const { error } = await (lambda.invocations[0] as (typeof lambda.invocations)[number]).done;
    expect(error?.name).toBe('DrillFailedError');
    expect(error?.message).toContain('readonly: the key is read-only');
    expect(stack.emulator.requests.length).toBeGreaterThan(0);
    expect(posts()).toHaveLength(0);
  });

  it('never starts a drill for the passphrase, which every TradingView alert carries', async () => {
    process.env.WEBHOOK_PASSPHRASE_MODE = 'true';
    vi.resetModules();
    const handler = (await import('../../handlers/cancel-all.ts')).handler as Handler;
    try {
      const event = signedHttpEvent('http-v2-cancel-all.json', '{}', stack.webhookSecret);
      delete event.headers['x-timestamp'];
      delete event.headers['x-signature'];
      event.body = JSON.stringify({ passphrase: stack.passphrase, drill: true });
      const answer = (await handler(event, lambdaContext())) as APIGatewayProxyResult;
      expect(answer.statusCode).toBe(401);
      expect(JSON.parse(answer.body).message).toBe(
        'drill needs a signed request: the passphrase cannot start it',
      );
      expect(lambda.invocations).toHaveLength(0);
      expect(stack.emulator.requests).toHaveLength(0);
    } finally {
      delete process.env.WEBHOOK_PASSPHRASE_MODE;
      vi.resetModules();
    }
  });

  it('refuses anything but a drill on the drill function: a direct {} is never a kill switch there', async () => {
    for (const a of stack.accounts) stack.emulator.addOrders(a.apiKey, mixedBook(10));
    const refused = await Promise.all(
      [{}, { category: 'spot' }, loadEvent('kill-switch.json'), loadEvent('schedule.json')].map((event) =>
        drill(event, lambdaContext()).then(
          () => 'ran',
          (e: Error) => e.name,
        ),
      ),
    );
    expect(refused).toEqual(['ValidationError', 'ValidationError', 'Error', 'ValidationError']);
    // And no HTTP request, even a signed one: no route reaches it, and its role cannot read the webhook key.
    const http = signedHttpEvent('http-v2-cancel-all.json', '{}', stack.webhookSecret);
    await expect(drill(http, lambdaContext())).rejects.toThrow('this function does not handle HTTP requests');
    expect(stack.emulator.requests).toHaveLength(0);
    expect(stack.emulator.openOrders()).toHaveLength(30);
  });

  it('runs from the schedule’s constant input, and throws there too, so the alarms and failure queue hear of it', async () => {
    threeAccounts();
    const lines = await captureStdout(async () => {
      const error = await failure(drill(loadEvent('schedule-drill.json'), lambdaContext()));
      expect(error.name).toBe('DrillFailedError');
    });
    const emf = lines.filter((l) => '_aws' in l);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ Operation: 'drill', Failures: 1, DrillProblems: 2, DrillWarnings: 1 });
    expect(emf[0]?._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toContain(
      'DrillProblems',
    );
    expect(posts()).toHaveLength(0);
  });

  it('passes for the healthy account alone, named in the request', async () => {
    threeAccounts();
    const report = (await drill({ drill: true, account: 'healthy' }, lambdaContext())) as DrillReport;
    expect(report.ok).toBe(true);
    expect(report.accounts.map((a) => a.account)).toEqual(['healthy']);
  });
});

describe('what the drill judges', () => {
  it('passes a key with Withdraw permission and no bound IP, with two warnings', async () => {
    stack.emulator.setKey(key('healthy'), {
      ips: ['*'],
      permissions: { Wallet: ['AccountTransfer', 'Withdraw'] },
    });
    const report = (await drill({ drill: true, account: 'healthy' }, lambdaContext())) as DrillReport;
    const [healthy] = report.accounts;
    expect(report.ok).toBe(true);
    expect(healthy?.ok).toBe(true);
    expect(healthy?.warnings.map((w) => w.code)).toEqual(['noIpBound', 'walletPermission']);
    expect(healthy?.warnings[1]?.message).toContain('Withdraw');
    // Bybit expires a key with no IP bound after 90 days.
    expect(healthy?.keyExpiresInDays).toBe(90);
  });

  it.each([
    [
      'a key bound to another IP (10010)',
      { ips: ['203.0.113.7'] },
      'keyRefused',
      '(this IP is not bound to it): retCode 10010',
    ],
    [
      'a key without the spot permission',
      { permissions: { Spot: [] } },
      'missingPermission',
      'lacks the Spot SpotTrade permission: cancelling spot orders',
    ],
    [
      'a key without contract trade orders, even holding DerivativesTrade',
      { permissions: { ContractTrade: ['Position'] } },
      'missingPermission',
      'cancelling linear and inverse orders',
    ],
    ['an expired key (33004)', { ips: [], expiresInDays: -1 }, 'keyExpired', '33004'],
  ])('fails for %s', async (_, settings, code, message) => {
    stack.emulator.setKey(key('healthy'), settings);
    const error = await failure(drill({ drill: true, account: 'healthy' }, lambdaContext()));
    const healthy = accountOf(error.report, 'healthy');
    expect(healthy?.problems[0]?.code).toBe(code);
    expect(healthy?.problems[0]?.message).toContain(message);
    expect(posts()).toHaveLength(0);
  });

  it('fails for a key the exchange refuses (10003) and for an account the secret does not hold', async () => {
    stack.emulator.setFaults({ rate: 1, kinds: ['invalidKey'], paths: ['/v5/user/query-api'] });
    const error = await failure(drill({ drill: true, accounts: ['expiring', 'ghost'] }, lambdaContext()));
    expect(accountOf(error.report, 'expiring')?.problems[0]).toMatchObject({ code: 'keyRefused' });
    expect(error.message).toContain('retCode 10003');
    expect(accountOf(error.report, 'ghost')?.problems[0]).toMatchObject({ code: 'unknownAccount' });
  });

  it('fails when a listing keeps failing: a kill switch could not verify that scope', async () => {
    stack.emulator.setFaults({ rate: 1, kinds: ['serverError'], paths: ['/v5/order/realtime'] });
    const error = await failure(drill({ drill: true, account: 'healthy' }, lambdaContext(8_000)));
    const healthy = accountOf(error.report, 'healthy');
    expect(healthy?.problems.map((p) => p.code)).toEqual(Array(5).fill('listingFailed'));
    expect(healthy?.problems[0]?.message).toContain('10016');
  });

  it('refuses {"drill": false} and a drill with a cancel’s fields, before any call to the exchange', async () => {
    for (const body of ['{"drill": false}', '{"drill": true, "category": "spot"}']) {
      const event = signedHttpEvent('http-v2-cancel-all.json', body, stack.webhookSecret);
      const answer = (await cancelAll(event, lambdaContext())) as APIGatewayProxyResult;
      expect(answer.statusCode).toBe(400);
    }
    expect(stack.emulator.requests).toHaveLength(0);
  });
});

describe('a drill and a kill switch at the same time', () => {
  it('the kill switch cancels and verifies everything; the drill reports and sends no POST of its own', async () => {
    for (const a of stack.accounts) stack.emulator.addOrders(a.apiKey, mixedBook(100));
    const [killed, drilled] = await Promise.all([
      cancelAll(loadEvent('kill-switch.json'), lambdaContext()) as Promise<KillSwitchReport>,
      drill(loadEvent('drill.json'), lambdaContext()) as Promise<DrillReport>,
    ]);
    expect(killed).toMatchObject({ ok: true, cancelled: 300, remaining: 0 });
    expect(drilled.ok).toBe(true);
    expect(stack.emulator.openOrders()).toHaveLength(0);
    // Every POST is one of the kill switch's cancel-alls, none rate-limited, and together they cancelled
    // all 300 orders once.
    expect(posts().filter((r) => r.path !== '/v5/order/cancel-all')).toEqual([]);
    expect(posts().reduce((sum, r) => sum + (r.cancelled ?? 0), 0)).toBe(300);
    expect(stack.emulator.requests.filter((r) => r.retCode === 10006)).toHaveLength(0);
  });
});
