// Telling a person, end to end: the handlers from source, fired the way AWS fires them (the EventBridge
// kill-switch event, the drill schedule, the sweep schedule), against the exchange emulator, with the state
// table in dynalite, the reports topic on the SNS endpoint and a Telegram bot on the Bot API endpoint, all
// reached by the real clients and named as the packaged template names them.

import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import { IncompleteCancelError } from '../../lib/errors.ts';
import type { RunRecord } from '../../lib/lambda/records.ts';
import { recordKeys } from '../../lib/lambda/records.ts';
import { lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { mixedBook } from '../support/orders.ts';
import { type ReportingStack, startReporting } from '../support/reporting.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
type Json = Record<string, unknown>;

const SEND_TIMEOUT_MS = 1500;
let stack: LocalStack;
let reporting: ReportingStack;
let cancelAll: Handler;
let drill: Handler;
let cancel: Handler;
const lines: string[] = [];

beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'hedge', 'bot'], rsa: ['bot'] });
  reporting = await startReporting(inject('packaged').template, stack.secrets);
  Object.assign(process.env, stack.env, reporting.env, {
    LOG_LEVEL: 'info',
    NOTIFY_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
  });
  // The functions' log lines (JSON on stdout), kept to read what they say.
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as Handler;
  // The drill runs on the drill function (handlers/drill.ts).
  drill = (await import('../../handlers/drill.ts')).handler as Handler;
  cancel = (await import('../../handlers/cancel.ts')).handler as Handler;
});
afterAll(async () => {
  await reporting.close();
  await stack.close();
});
beforeEach(() => {
  stack.emulator.reset();
  reporting.sns.reset();
  reporting.telegram.reset();
  lines.length = 0;
});

const key = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;
const logged = () => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Json);
const reportLines = () => logged().filter((l) => l.message === 'report');
const emf = () => logged().find((l) => '_aws' in l) as Json;

/** Invokes and returns what came back (or what was thrown), and how long it took. */
async function run(handler: Handler, event: unknown, remainingMs = 30_000) {
  const started = performance.now();
  const outcome = await handler(event, lambdaContext(remainingMs, 'bybit-cancel-dev-cancelAll')).then(
    (result) => ({ result: result as Json, error: undefined }),
    (error: unknown) => ({ result: undefined, error: error as Error & { report?: Json } }),
  );
  return { ...outcome, ms: performance.now() - started };
}

function expectNoSecret(text: string) {
  for (const a of stack.accounts) {
    expect(text).not.toContain(a.apiKey);
    if (a.apiSecret) expect(text).not.toContain(a.apiSecret);
  }
  expect(text).not.toContain(reporting.botToken);
  expect(text).not.toContain(stack.webhookSecret);
}

describe('a kill switch fired through EventBridge', () => {
  it('that clears everything: logs its whole report once, records it by event id, and tells the topic and each Telegram chat once', async () => {
    stack.emulator.addOrders(key('main'), mixedBook(30));
    stack.emulator.addOrders(key('hedge'), mixedBook(20));
    const event = loadEvent('kill-switch.json');
    const { result, error } = await run(cancelAll, event);

    expect(error).toBeUndefined();
    const report = result as unknown as KillSwitchReport;
    expect(report).toMatchObject({ ok: true, remaining: 0 });
    // The whole report, once, as a `report` line.
    const [line, ...more] = reportLines();
    expect(more).toEqual([]);
    expect(line?.report).toEqual(JSON.parse(JSON.stringify(report)));

    const record = (await reporting.state.get<RunRecord>(recordKeys.event(event.id)))?.value;
    expect(record).toMatchObject({
      operation: 'killSwitch',
      ok: true,
      eventId: event.id,
      trigger: 'eventBridge',
      reason: 'drawdown limit hit',
      logGroup: '/aws/lambda/bybit-cancel-dev-cancelAll',
      report: { cancelled: report.cancelled, remaining: 0 },
    });
    expect((await reporting.state.get<RunRecord>(recordKeys.last('killSwitch')))?.value.eventId).toBe(
      event.id,
    );

    const [message, ...others] = reporting.sns.published(reporting.topicArn);
    expect(others).toEqual([]);
    expect(message?.subject).toBe(
      `Kill switch: all clear - 3 accounts, ${report.cancelled} orders, ${(report.durationMs / 1000).toFixed(1)} s (${reporting.stage})`,
    );
    expect(message?.attributes).toEqual({ kind: 'killSwitch', outcome: 'ok' });
    const body = message?.message ?? '';
    expect(body).toContain('Fired by: an EventBridge kill-switch event');
    expect(body).toContain('Reason: drawdown limit hit');
    for (const account of ['main', 'hedge', 'bot'])
      expect(body).toMatch(new RegExp(`^- ${account}: \\d+ cancelled, none left$`, 'm'));
    expect(body).toContain('/aws/lambda/bybit-cancel-dev-cancelAll');

    for (const chat of reporting.chatIds) {
      const sent = reporting.telegram.sent(chat);
      expect(sent).toHaveLength(1);
      expect(sent[0]?.parseMode).toBe('HTML');
      expect(sent[0]?.shown).toBe(`${message?.subject}\n\n${body}`);
    }
    expectNoSecret(JSON.stringify([lines, reporting.sns.published(), reporting.telegram.sent()]));
    expect(emf()).toMatchObject({ Operation: 'killSwitch', Runs: 1 });
    expect('NotifyFailures' in emf() || 'StateFailures' in emf()).toBe(false);
  });

  it('that leaves an order open: logs the report the error carries, and the test reads the open order id from that line; the message says what is left', async () => {
    stack.emulator.addOrders(key('main'), mixedBook(20));
    const [stuck] = stack.emulator.addOrders(key('hedge'), [
      { category: 'spot', symbol: 'BTCUSDT', kind: 'StopOrder', orderLinkId: 'grid-7' },
    ]);
    stack.emulator.setSurvivors({ orderIds: [stuck?.orderId as string] });
    const event = loadEvent('kill-switch.json');
    const { error } = await run(cancelAll, event, 5000);

    expect(error?.name).toBe('IncompleteCancelError');
    const [line, ...more] = reportLines();
    expect(more).toEqual([]);
    const report = line?.report as KillSwitchReport;
    expect(report).toEqual(JSON.parse(JSON.stringify(error?.report)));
    const open = report.scopes.flatMap((s) => (s.remainingOrders ?? []).map((o) => o.orderId));
    expect(open).toEqual([stuck?.orderId]);

    const [message, ...others] = reporting.sns.published(reporting.topicArn);
    expect(others).toEqual([]);
    expect(message?.subject).toBe(`KILL SWITCH FAILED: 1 order still open on hedge (${reporting.stage})`);
    expect(message?.attributes.outcome).toBe('failed');
    // The survivor was acknowledged by its cancel-all, and is still open: both are said.
    expect(message?.message).toMatch(/^- hedge: 1 cancelled, 1 STILL OPEN$/m);
    expect(message?.message).toContain(`open: spot BTCUSDT ${stuck?.orderId}`);
    expect(message?.message).toMatch(/^- main: \d+ cancelled, none left$/m);
    expect(message?.message).toContain('Cancel the open orders above by hand in Bybit now');
    expect(reporting.telegram.sent()).toHaveLength(reporting.chatIds.length);
    const record = (await reporting.state.get<RunRecord>(recordKeys.event(event.id)))?.value;
    expect(record).toMatchObject({ ok: false, error: { type: 'IncompleteCancelError' } });
  });

  it("from the dead man's switch: the message says it fired, and why", async () => {
    stack.emulator.addOrders(key('bot'), mixedBook(5));
    await run(cancelAll, loadEvent('dead-mans-switch.json'));

    const [message] = reporting.sns.published();
    expect(message?.subject).toMatch(/^Kill switch: all clear - 3 accounts, 5 orders/);
    expect(message?.message).toContain('Fired by: the dead man’s switch (no heartbeat in time)');
    expect(message?.message).toContain(
      "Reason: dead man's switch: no heartbeat since 2026-11-21T09:30:00.000Z",
    );
    expect(message?.message).toContain('Your bot stopped sending heartbeats');
  });
});

describe('every run with a report logs it once', () => {
  it('a single cancel, a scoped cancel-all and a sweep: one report line each, and no message', async () => {
    const [order] = stack.emulator.addOrders(key('main'), [{ category: 'linear', symbol: 'BTCUSDT' }]);
    stack.emulator.addOrders(key('main'), [{ category: 'spot', symbol: 'ETHUSDT' }]);
    const body = { account: 'main', category: 'linear', symbol: 'BTCUSDT', orderId: order?.orderId };
    await run(cancel, signedHttpEvent('http-v2-cancel.json', body, stack.webhookSecret));
    await run(
      cancelAll,
      signedHttpEvent('http-v2-cancel-all.json', { account: 'main', category: 'spot' }, stack.webhookSecret),
    );
    await run(cancel, loadEvent('schedule.json'));

    const reports = reportLines().map((l) => l.report as Json);
    expect(reports.map((r) => r.operation)).toEqual(['cancel', 'cancelAll', 'sweep']);
    expect(reports[0]).toMatchObject({ orderId: order?.orderId, confirmed: true });
    expect(reports[1]).toMatchObject({ account: 'main', scope: 'spot', cancelled: 1, remaining: 0 });
    expect(reports[2]).toMatchObject({ ok: true });
    const last = await reporting.state.get<RunRecord>(recordKeys.last('cancelAll'));
    expect(last?.value).toMatchObject({ ok: true, trigger: 'webhook', report: { scope: 'spot' } });
    expect(reporting.sns.published()).toEqual([]);
  });
});

describe('a kill switch fired by a signed webhook', () => {
  it('sends exactly one message naming the webhook; a forged request sends none and records nothing', async () => {
    stack.emulator.addOrders(key('hedge'), mixedBook(6));
    const forged = signedHttpEvent(
      'http-v2-kill-switch.json',
      { reason: 'forged' },
      'not-the-webhook-key-0123456789',
    );
    const refused = await run(cancelAll, forged);
    expect((refused.result as { statusCode: number }).statusCode).toBe(401);
    expect(reporting.sns.published()).toEqual([]);
    expect(reportLines()).toEqual([]);

    const signed = signedHttpEvent(
      'http-v2-kill-switch.json',
      { reason: 'desk says stop' },
      stack.webhookSecret,
    );
    const answered = await run(cancelAll, signed);
    expect((answered.result as { statusCode: number }).statusCode).toBe(200);
    const [message, ...others] = reporting.sns.published();
    expect(others).toEqual([]);
    expect(message?.subject).toMatch(/^Kill switch: all clear - 3 accounts, 6 orders, /);
    expect(message?.message).toContain('Fired by: a signed webhook request\nReason: desk says stop');
    expect(reporting.telegram.sent()).toHaveLength(reporting.chatIds.length);
    expect(reportLines()).toHaveLength(1);
  });
});

describe('a channel that fails never changes the kill switch', () => {
  it.each([
    ['hangs', { kind: 'hang' } as const],
    ['answers 500', { kind: 'status', status: 500 } as const],
  ])(
    'a Telegram endpoint that %s: same outcome, the topic still told, the wait bounded by the send timeout',
    async (_, fault) => {
      stack.emulator.addOrders(key('main'), mixedBook(10));
      reporting.telegram.failNext(fault, Number.POSITIVE_INFINITY);
      const { result, error, ms } = await run(cancelAll, loadEvent('kill-switch.json'));

      expect(error).toBeUndefined();
      expect(result).toMatchObject({ ok: true, remaining: 0 });
      expect(reporting.sns.published()).toHaveLength(1);
      expect(reporting.telegram.sent()).toHaveLength(0);
      const failures = logged().filter((l) => l.message === 'notification failed');
      expect(failures.map((l) => l.channel)).toEqual(['telegram']);
      expect(String(failures[0]?.errorMessage)).toMatch(fault.kind === 'hang' ? /send timeout/ : /HTTP 500/);
      expect(emf()).toMatchObject({ NotifyFailures: 1, Failures: 0 });
      // What the aftermath added to the kill switch's own time: at most the send timeout (and some slack).
      const after = ms - (result as unknown as KillSwitchReport).durationMs;
      expect(after).toBeLessThan(SEND_TIMEOUT_MS + 1000);
      if (fault.kind === 'hang') expect(after).toBeGreaterThanOrEqual(SEND_TIMEOUT_MS - 100);
      reporting.telegram.reset();
    },
  );

  it('a state table that cannot be written: every order is still cancelled, the halt it could not record is reported failed, the rest logged and counted', async () => {
    stack.emulator.addOrders(key('main'), mixedBook(10));
    const { DeleteTableCommand } = await import('@aws-sdk/client-dynamodb');
    await reporting.dynamo.client.send(new DeleteTableCommand({ TableName: reporting.tableName }));
    try {
      const { error } = await run(cancelAll, loadEvent('kill-switch.json'));
      // The cancels never wait on the table; the halt lives in it, so without it there is no halt: said so.
      expect(stack.emulator.openOrders()).toHaveLength(0);
      expect(error).toBeInstanceOf(IncompleteCancelError);
      const report = (error as IncompleteCancelError).report as Record<string, unknown>;
      expect(report).toMatchObject({ cancelled: 10, remaining: 0 });
      expect(report.failedScopes).toEqual(['main: halt', 'hedge: halt', 'bot: halt']);
      const failed = logged().filter((l) => l.message === 'state table call failed');
      // The last kill switch and the event's record (and the account names, unless this container wrote them).
      const what = failed.map((l) => l.what);
      expect(what).toEqual(expect.arrayContaining(['the last killSwitch', 'the event record']));
      expect(what.filter((w) => !['the last killSwitch', 'the event record'].includes(w as string))).toEqual(
        what.length === 3 ? ['record the account names'] : [],
      );
      expect(String(failed[0]?.errorMessage)).toContain('the table does not exist');
      expect(emf()).toMatchObject({ StateFailures: failed.length, NotifyFailures: 0 });
      const [told, ...others] = reporting.sns.published();
      expect(others).toEqual([]);
      expect(told?.subject).toContain('HALT FAILED');
    } finally {
      const { stateTableDefinition } = await import('../../lib/lambda/state.ts');
      await reporting.dynamo.createTable(stateTableDefinition(reporting.tableName));
    }
  });
});

describe('the drill', () => {
  const runDrill = () => run(drill, loadEvent('schedule-drill.json'));

  it('tells a person when it fails, once more when it passes again, and not while it keeps passing', async () => {
    stack.emulator.setKey(key('hedge'), { expiresInDays: 3 });
    const failed = await runDrill();
    expect(failed.error?.name).toBe('DrillFailedError');
    const [alert, ...others] = reporting.sns.published();
    expect(others).toEqual([]);
    expect(alert?.subject).toBe(`Kill-switch drill FAILED: 1 problem on hedge (${reporting.stage})`);
    expect(alert?.message).toMatch(/^ {4}problem: the key expires in 3 day\(s\)/m);
    expect(alert?.message).toContain('hedge: the key expires soon: create a new one in Bybit');
    expect(alert?.message).toContain('Fired by: the daily drill schedule');

    stack.emulator.setKey(key('hedge'), { expiresInDays: null });
    reporting.sns.reset();
    const passed = await runDrill();
    expect(passed.error).toBeUndefined();
    const [recovered, ...more] = reporting.sns.published();
    expect(more).toEqual([]);
    expect(recovered?.subject).toBe(`Kill-switch drill passes again: 3 accounts (${reporting.stage})`);
    expect(recovered?.attributes.outcome).toBe('ok');

    reporting.sns.reset();
    await runDrill();
    expect(reporting.sns.published()).toEqual([]);
    const history = await reporting.items('drills');
    expect(history.map((i) => (i.value as RunRecord).ok).slice(0, 3)).toEqual([true, true, false]);
  });
});

describe('an IP ban', () => {
  it('during a sweep: one message says Bybit refused the IP and what to do', async () => {
    stack.emulator.addOrders(key('main'), mixedBook(10));
    stack.emulator.setIpLimit({ requests: 2, windowMs: 60_000 });
    const { error } = await run(cancel, loadEvent('schedule.json'));
    expect(error).toBeDefined();
    const [message, ...others] = reporting.sns.published();
    expect(others).toEqual([]);
    expect(message?.subject).toBe(
      `Bybit refused this IP (HTTP 403) during the stale-order sweep (${reporting.stage})`,
    );
    expect(message?.message).toContain('Wait at least 10 minutes');
    expect(emf()).toMatchObject({ Operation: 'sweep', IpRefusals: 1 });
  });
});
