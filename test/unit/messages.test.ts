import { describe, expect, it } from 'vitest';
import {
  asciiSafe,
  drillFailedMessage,
  drillRecoveredMessage,
  ipBanMessage,
  killSwitchMessage,
  SUBJECT_MAX,
  subjectLine,
} from '../../lib/lambda/messages.ts';
import { killSwitchRecord, killSwitchReport } from '../support/kill-switch-reports.ts';

const context = { stage: 'prod' };

const record = killSwitchRecord;

describe('killSwitchMessage', () => {
  it('leads the subject with the outcome: all clear, accounts, orders, seconds, then the stage', () => {
    const message = killSwitchMessage(record({ report: { ...killSwitchReport() } }), context);
    expect(message).toMatchObject({
      kind: 'killSwitch',
      ok: true,
      subject: 'Kill switch: all clear - 3 accounts, 142 orders, 1.4 s (prod)',
    });
    expect(message.body.split('\n\n')[0]).toBe(
      "All clear. The kill switch cancelled 142 orders on 3 accounts, and Bybit's widest listings show nothing open (1.4 s).",
    );
    expect(message.body).toContain('- main: 100 cancelled, none left');
    expect(message.body).toContain('When: 2026-12-05 03:02:11 UTC (took 1.4 s)');
    expect(message.body).toContain('Request id: req-1\nLog group: /aws/lambda/bybit-cancel-prod-cancelAll');
    expect(message.body).toContain('The kill switch cancels orders only: check your positions in Bybit.');
  });

  it('says KILL SWITCH FAILED with the orders still open, the account, and their ids', () => {
    const report = killSwitchReport({
      ok: false,
      remaining: 2,
      failedScopes: ['hedge: spot'],
      scopes: [
        { account: 'main', scope: 'linear settleCoin=USDT', cancelled: 100, remaining: 0, verified: true },
        {
          account: 'hedge',
          scope: 'spot',
          cancelled: 38,
          remaining: 2,
          verified: true,
          remainingOrders: [
            { symbol: 'BTCUSDT', orderId: '1838591702357416704', orderLinkId: '' },
            { symbol: 'ETHUSDT', orderId: '1838591702357416705', orderLinkId: 'grid-7' },
          ],
        },
      ],
    });
    const message = killSwitchMessage(record({ ok: false, report: { ...report } }), context);
    expect(message.subject).toBe('KILL SWITCH FAILED: 2 orders still open on hedge (prod)');
    expect(message.ok).toBe(false);
    expect(message.body).toContain(
      '- hedge: 38 cancelled, 2 STILL OPEN\n    open: spot BTCUSDT 1838591702357416704',
    );
    expect(message.body).toContain('    open: spot ETHUSDT 1838591702357416705');
    expect(message.body).toContain(
      'Cancel the open orders above by hand in Bybit now, or fire the kill switch again: npm run kill-switch -- --stage prod.',
    );
  });

  it('names listings it could not verify, orders Bybit will not cancel, and an IP refusal', () => {
    const report = killSwitchReport({
      ok: false,
      scopes: [
        {
          account: 'grid',
          scope: 'inverse',
          cancelled: 0,
          remaining: 0,
          verified: false,
          error: {
            errorType: 'ExchangeUnavailableError',
            errorMessage: 'GET /v5/order/realtime unavailable',
          },
        },
      ],
      uncancellable: [
        {
          account: 'grid',
          category: 'linear',
          symbol: 'NEWUSDT',
          orderId: '9',
          orderLinkId: '',
          orderStatus: 'New',
          why: 'the symbol is in its pre-market call auction',
        },
      ],
    });
    const refusal = 'Bybit refused this IP (HTTP 403, rate limit); wait at least 10 minutes before retrying';
    const message = killSwitchMessage(record({ ok: false, report: { ...report } }), {
      ...context,
      ipRefusal: refusal,
    });
    expect(message.subject).toBe('KILL SWITCH FAILED: Bybit refused this IP (HTTP 403) (prod)');
    expect(message.body).toContain('    not verified: inverse (GET /v5/order/realtime unavailable)');
    expect(message.body).toContain(
      '    Bybit will not cancel: linear NEWUSDT 9 (the symbol is in its pre-market call auction)',
    );
    expect(message.body).toContain(refusal);
    expect(message.body).toContain('do not fire again for at least 10 minutes');
  });

  it('names a strategy still trading, what was stopped, and a bot warning', () => {
    const report = killSwitchReport({
      ok: false,
      failedScopes: ['main: strategies'],
      strategies: [
        {
          account: 'main',
          found: [],
          stopped: [
            {
              strategyId: 's-1',
              strategyType: 'twap',
              category: 'UTA_USDT',
              symbol: 'BTCUSDT',
              status: 1,
              statusName: 'running',
            },
          ],
          remaining: [
            {
              strategyId: 's-2',
              strategyType: 'chaseOrder',
              category: 'UTA_USDT',
              symbol: 'ETHUSDT',
              status: 1,
              statusName: 'running',
              why: 'its stop failed: retCode 60072',
            },
          ],
          verified: true,
        },
      ],
      warnings: [
        'main: 3 order(s) placed by a futures grid bot (CreateByFGridBot) on BTCUSDT were cancelled',
      ],
    });
    const message = killSwitchMessage(record({ ok: false, report: { ...report } }), context);
    expect(message.subject).toBe('KILL SWITCH FAILED: 1 strategy still trading on main (prod)');
    expect(message.body).toContain(
      '    strategies stopped: 1\n    STILL TRADING: chaseOrder ETHUSDT s-2 (its stop failed: retCode 60072)',
    );
    expect(message.body).toContain('Also:\n- main: 3 order(s) placed by a futures grid bot');
    expect(message.body).toContain('Stop the strategies marked "STILL TRADING" in Bybit');
  });

  it('reports a kill switch that failed before any report, with the error', () => {
    const message = killSwitchMessage(
      record({
        ok: false,
        error: { type: 'SecretUnavailableError', message: 'Secrets Manager did not answer' },
      }),
      context,
    );
    expect(message.subject).toBe(
      'KILL SWITCH FAILED: SecretUnavailableError before any cancel was confirmed (prod)',
    );
    expect(message.body).toContain('Secrets Manager did not answer');
    expect(message.body).toContain('Cancel by hand in Bybit now.');
  });

  it("names the dead man's switch and the CLI as who fired it", () => {
    const dms = killSwitchMessage(
      record({ origin: 'deadMansSwitch', report: { ...killSwitchReport() } }),
      context,
    );
    expect(dms.body).toContain('Fired by: the dead man’s switch (no heartbeat in time)');
    expect(dms.body).toContain('Your bot stopped sending heartbeats.');
    const cli = killSwitchMessage(
      record({ origin: 'cli', reason: 'npm run kill-switch by ana@desk' }),
      context,
    );
    expect(cli.body).toContain('Fired by: npm run kill-switch\nReason: npm run kill-switch by ana@desk');
  });
});

describe('drill messages', () => {
  const accounts = [
    {
      account: 'main',
      ok: true,
      problems: [],
      warnings: [{ code: 'noIpBound', message: 'the key is bound to no IP address' }],
      keyExpiresInDays: null,
      openOrders: {},
      coverage: [],
    },
    {
      account: 'hedge',
      ok: false,
      problems: [
        { code: 'readOnly', message: 'the key is read-only: every cancel would be refused (10005)' },
      ],
      warnings: [],
      keyExpiresInDays: 40,
      openOrders: {},
      coverage: [],
    },
  ];

  it('counts in plain English: two PROBLEMS and two problems, keys and strategies', () => {
    const twice = accounts.map((a) => (a.ok ? a : { ...a, problems: [...a.problems, ...a.problems] }));
    const message = drillFailedMessage(
      record({
        operation: 'drill',
        ok: false,
        trigger: 'schedule',
        report: { operation: 'drill', ok: false, accounts: twice },
      }),
      context,
    );
    expect(message.subject).toBe('Kill-switch drill FAILED: 2 problems on hedge (prod)');
    expect(message.body).toContain('- hedge: 2 PROBLEMS\n');
  });

  it('a failed drill names each problem and warning in words, and what to do for each', () => {
    const message = drillFailedMessage(
      record({
        operation: 'drill',
        ok: false,
        trigger: 'schedule',
        report: { operation: 'drill', ok: false, accounts },
      }),
      context,
    );
    expect(message.subject).toBe('Kill-switch drill FAILED: 1 problem on hedge (prod)');
    expect(message.body).toContain('the kill switch would fail on 1 of 2 accounts');
    expect(message.body).toContain(
      '- hedge: 1 PROBLEM\n    problem: the key is read-only: every cancel would be refused (10005)',
    );
    expect(message.body).toContain('- main: ok\n    warning: the key is bound to no IP address');
    expect(message.body).toContain('- hedge: the key is read-only: give it trade permissions');
    expect(message.body).toContain('Fired by: the daily drill schedule');
    expect(message.body).toContain('npm run kill-switch -- --drill --stage prod');
  });

  it('a drill failed by the master key of the enforced halt says so, and what to do', () => {
    const passing = accounts.map((a) => ({ ...a, ok: true, problems: [] }));
    const master = {
      ok: false,
      problems: [
        {
          code: 'masterWithdrawal' as const,
          message: 'the key holds the Withdrawal permission, which the halt never needs',
        },
      ],
      warnings: [],
      walletPermissions: ['Withdraw'],
    };
    const message = drillFailedMessage(
      record({
        operation: 'drill',
        ok: false,
        trigger: 'schedule',
        report: { operation: 'drill', ok: false, accounts: passing, master },
      }),
      context,
    );
    expect(message.subject).toBe('Kill-switch drill FAILED: 1 problem on the master key (prod)');
    expect(message.body).toContain('The master key of the enforced halt has problems');
    expect(message.body).toContain(
      'Master key (enforced halt): 1 PROBLEM\n    problem: the key holds the Withdrawal permission',
    );
    expect(message.body).toContain('- master key: remove the Withdrawal permission now');
  });

  it('a drill that passes again says so, and when the failed one was', () => {
    const passing = accounts.map((a) => ({ ...a, ok: true, problems: [] }));
    const message = drillRecoveredMessage(
      record({ operation: 'drill', report: { operation: 'drill', ok: true, accounts: passing } }),
      context,
      '2026-12-04T03:00:00.000Z',
    );
    expect(message).toMatchObject({
      kind: 'drillRecovered',
      ok: true,
      subject: 'Kill-switch drill passes again: 2 accounts (prod)',
    });
    expect(message.body).toContain('The drill of 2026-12-04 03:00:00 UTC had failed.');
  });
});

describe('ipBanMessage', () => {
  it('says which run met the refusal and what to do, apart for a blocked region', () => {
    const ban = ipBanMessage(record({ operation: 'sweep', functionName: 'bybit-cancel-prod-cancel' }), {
      ...context,
      ipRefusal: 'Bybit refused this IP (HTTP 403, rate limit); wait at least 10 minutes before retrying',
    });
    expect(ban.subject).toBe('Bybit refused this IP (HTTP 403) during the stale-order sweep (prod)');
    expect(ban.body).toContain(
      'The bybit-cancel-prod-cancel function sends nothing to Bybit for the next 10 minutes',
    );
    expect(ban.body).toContain('Wait at least 10 minutes');
    const region = ipBanMessage(record(), {
      ...context,
      ipRefusal: 'Bybit refused this IP (HTTP 403, blocked region): …',
    });
    expect(region.body).toContain('move the functions’ egress IP');
  });
});

describe('subjects', () => {
  it('are printable ASCII on one line, under 100 characters, whatever they are given', () => {
    const long = `KILL SWITCH FAILED: 9 orders still open on ${'a-very-long-account-name, '.repeat(8)}\n—…“x”`;
    const subject = subjectLine(long, 'production-eu');
    expect(subject.length).toBeLessThanOrEqual(SUBJECT_MAX);
    expect(subject.length).toBeGreaterThan(80);
    expect(subject).toMatch(/^[\x21-\x7e][\x20-\x7e]*$/);
    expect(subject.endsWith('... (production-eu)')).toBe(true);
    expect(asciiSafe('Kill switch: all clear — 3 accounts… “ok”\n')).toBe(
      'Kill switch: all clear - 3 accounts... "ok"',
    );
  });
});
