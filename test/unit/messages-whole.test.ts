// Whole messages, word for word (lib/lambda/messages.ts): what a person reads after a kill switch, a drill, an IP
// refusal or a reset, for the report shapes that produce each sentence. A whole body also shows what a message
// leaves out: no empty section, no reason where none was given, no advice for a problem the run did not have.

import { describe, expect, it } from 'vitest';
import type { AccountDrill } from '../../lib/cancel/drill.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import {
  asciiSafe,
  drillFailedMessage,
  drillRecoveredMessage,
  ipBanMessage,
  killSwitchMessage,
  resetMessage,
  subjectLine,
} from '../../lib/lambda/messages.ts';
import type { RunRecord } from '../../lib/lambda/records.ts';
import { halted, killSwitchRecord, killSwitchReport } from '../support/kill-switch-reports.ts';

const context = { stage: 'prod' };

const FIRED = 'Fired by: an EventBridge kill-switch event';
const WHEN = 'When: 2026-12-05 03:02:11 UTC (took 1.4 s)';
const STAGE = 'Stage: prod';
const FACTS = [FIRED, WHEN, STAGE];
const TAIL = ['Request id: req-1', 'Log group: /aws/lambda/bybit-cancel-prod-cancelAll'];

/** A body from its blocks, as compose() lays them out: lines joined, blocks apart by a blank line. */
function body(...blocks: string[][]): string {
  return blocks.map((b) => b.join('\n')).join('\n\n');
}

const record = killSwitchRecord;

/** A kill switch that cleared 5 orders on two accounts, one verified listing each. */
function report(overrides: Partial<KillSwitchReport> = {}): Record<string, unknown> {
  return {
    ...killSwitchReport({
      accounts: ['main', 'hedge'],
      cancelled: 5,
      durationMs: 900,
      scopes: [
        { account: 'main', scope: 'linear settleCoin=USDT', cancelled: 3, remaining: 0, verified: true },
        { account: 'hedge', scope: 'spot', cancelled: 2, remaining: 0, verified: true },
      ],
      ...overrides,
    }),
  };
}

const CLEAR_ACTIONS = [
  'What to do now:',
  '- Find out why it was fired before any bot trades again.',
  '- The kill switch cancels orders only: check your positions in Bybit.',
];
const POSITIONS = '- Check your positions in Bybit: the kill switch cancels orders only.';

describe('killSwitchMessage, whole', () => {
  it('an all-clear says only what happened: no reason, halt, coverage, warning, ignored or refusal lines', () => {
    const message = killSwitchMessage(record({ report: report() }), context);
    expect(message).toEqual({
      kind: 'killSwitch',
      ok: true,
      subject: 'Kill switch: all clear - 2 accounts, 5 orders, 0.9 s (prod)',
      body: body(
        [
          "All clear. The kill switch cancelled 5 orders on 2 accounts, and Bybit's widest listings show nothing open (0.9 s).",
        ],
        FACTS,
        ['Per account:', '- main: 3 cancelled, none left', '- hedge: 2 cancelled, none left'],
        CLEAR_ACTIONS,
        TAIL,
      ),
    });
  });

  it('an all-clear of no account, with a halt set on none, has no account section and no halt lines', () => {
    const message = killSwitchMessage(
      record({
        report: report({ accounts: [], scopes: [], cancelled: 0, halt: { set: true, accounts: [] } }),
      }),
      context,
    );
    expect(message.subject).toBe('Kill switch: all clear - 0 accounts, 0 orders, 0.9 s (prod)');
    expect(message.body).toBe(
      body(
        [
          "All clear. The kill switch cancelled 0 orders on 0 accounts, and Bybit's widest listings show nothing open (0.9 s).",
        ],
        FACTS,
        CLEAR_ACTIONS,
        TAIL,
      ),
    );
  });

  it('orders Bybit will not cancel: leads the subject, counted in the lead, listed under their account, watched', () => {
    const stuck = (orderId: string) => ({
      account: 'hedge',
      category: 'linear' as const,
      symbol: 'NEWUSDT',
      orderId,
      orderLinkId: '',
      orderStatus: 'New',
      why: 'the symbol is in its pre-market call auction',
    });
    const stopped = {
      strategyId: 's-1',
      strategyType: 'twap',
      category: 'UTA_USDT',
      symbol: 'BTCUSDT',
      status: 1,
      statusName: 'running',
    };
    const message = killSwitchMessage(
      record({
        ok: false,
        reason: 'drawdown limit',
        report: report({
          ok: false,
          uncancellable: [stuck('9'), stuck('10')],
          strategies: [{ account: 'main', found: [], stopped: [stopped], remaining: [], verified: true }],
        }),
      }),
      context,
    );
    expect(message).toEqual({
      kind: 'killSwitch',
      ok: false,
      subject: 'KILL SWITCH FAILED: Bybit will not cancel orders on hedge (prod)',
      body: body(
        [
          'The kill switch did NOT clear everything: 2 orders Bybit will not cancel now. It cancelled 5 orders. Act now.',
        ],
        [FIRED, 'Reason: drawdown limit', WHEN, STAGE],
        [
          'Per account:',
          '- main: 3 cancelled, none left',
          '    strategies stopped: 1',
          '- hedge: 2 cancelled, none left',
          '    Bybit will not cancel: linear NEWUSDT 9 (the symbol is in its pre-market call auction)',
          '    Bybit will not cancel: linear NEWUSDT 10 (the symbol is in its pre-market call auction)',
        ],
        [
          'What to do now:',
          '- Bybit will not cancel some orders right now (listed above): watch them in Bybit.',
          POSITIONS,
        ],
        TAIL,
      ),
    });
  });

  it('strategies still trading: counted in the subject and the lead, each named, and stopped in Bybit', () => {
    const running = (strategyId: string, symbol: string) => ({
      strategyId,
      strategyType: 'chaseOrder',
      category: 'UTA_USDT',
      symbol,
      status: 1,
      statusName: 'running',
      why: 'its stop failed: retCode 60072',
    });
    const message = killSwitchMessage(
      record({
        ok: false,
        report: report({
          ok: false,
          strategies: [
            {
              account: 'main',
              found: [],
              stopped: [],
              remaining: [running('s-2', 'ETHUSDT'), running('s-3', 'SOLUSDT')],
              verified: true,
            },
          ],
        }),
      }),
      context,
    );
    expect(message.subject).toBe('KILL SWITCH FAILED: 2 strategies still trading on main (prod)');
    expect(message.body).toBe(
      body(
        [
          'The kill switch did NOT clear everything: 2 strategies still trading. It cancelled 5 orders. Act now.',
        ],
        FACTS,
        [
          'Per account:',
          '- main: 3 cancelled, none left',
          '    STILL TRADING: chaseOrder ETHUSDT s-2 (its stop failed: retCode 60072)',
          '    STILL TRADING: chaseOrder SOLUSDT s-3 (its stop failed: retCode 60072)',
          '- hedge: 2 cancelled, none left',
        ],
        [
          'What to do now:',
          '- Stop the strategies marked "STILL TRADING" in Bybit (strategy orders): they place orders again.',
          POSITIONS,
        ],
        TAIL,
      ),
    );
  });

  it('a failure it cannot name, with every halt in place, says not everything was confirmed clear', () => {
    const message = killSwitchMessage(
      record({
        ok: false,
        report: report({ ok: false, halt: { set: true, accounts: [halted({ flipped: ['AbC***001'] })] } }),
      }),
      context,
    );
    expect(message.subject).toBe('KILL SWITCH FAILED: not everything was confirmed clear (prod)');
    expect(message.body).toBe(
      body(
        [
          'The kill switch did NOT clear everything: it could not confirm the accounts clear. It cancelled 5 orders. Act now.',
        ],
        FACTS,
        ['Per account:', '- main: 3 cancelled, none left', '- hedge: 2 cancelled, none left'],
        [
          'Halted (trading stays stopped until a person resets it):',
          '- main: 1 key made read-only (AbC***001)',
          'To reset, once you know why: npm run kill-switch -- --reset --stage prod',
        ],
        ['What to do now:', POSITIONS],
        TAIL,
      ),
    );
  });

  it('a kill switch that failed before any report names the error, or says "error" when it has none', () => {
    const named = killSwitchMessage(
      record({
        ok: false,
        error: { type: 'SecretUnavailableError', message: 'Secrets Manager did not answer' },
      }),
      context,
    );
    const actions = [
      'What to do now:',
      '- Cancel by hand in Bybit now. Fix the cause above, then fire again: npm run kill-switch -- --stage prod',
      '- The error and the request id are in the log group below.',
    ];
    expect(named.subject).toBe(
      'KILL SWITCH FAILED: SecretUnavailableError before any cancel was confirmed (prod)',
    );
    expect(named.body).toBe(
      body(
        [
          'The kill switch FAILED before it could confirm anything: SecretUnavailableError: Secrets Manager did not answer. Orders may still be open.',
        ],
        FACTS,
        actions,
        TAIL,
      ),
    );
    const bare = killSwitchMessage(record({ ok: false }), context);
    expect(bare.subject).toBe('KILL SWITCH FAILED: error before any cancel was confirmed (prod)');
    expect(bare.body).toBe(
      body(
        [
          'The kill switch FAILED before it could confirm anything: Error: no report. Orders may still be open.',
        ],
        FACTS,
        actions,
        TAIL,
      ),
    );
  });

  it('counts as open only what a listing verified, and lists exactly 10 open ids with no "more" line', () => {
    const open = Array.from({ length: 10 }, (_, i) => ({
      symbol: 'BTCUSDT',
      orderId: `o${i}`,
      orderLinkId: '',
    }));
    const message = killSwitchMessage(
      record({
        ok: false,
        report: report({
          ok: false,
          accounts: ['main', 'hedge', 'grid'],
          remaining: 10,
          scopes: [
            {
              account: 'main',
              scope: 'spot',
              cancelled: 1,
              remaining: 10,
              verified: true,
              remainingOrders: open,
            },
            { account: 'hedge', scope: 'spot', cancelled: 0, remaining: 10, verified: true },
            { account: 'grid', scope: 'spot', cancelled: 0, remaining: 10, verified: true },
            { account: 'grid', scope: 'option', cancelled: 0, remaining: 3, verified: false },
          ],
        }),
      }),
      context,
    );
    expect(message.subject).toBe('KILL SWITCH FAILED: 10 orders still open on main, hedge, grid (prod)');
    expect(message.body).toContain(
      [
        'Per account:',
        '- main: 1 cancelled, 10 STILL OPEN',
        ...open.map((o) => `    open: spot BTCUSDT ${o.orderId}`),
        '- hedge: 0 cancelled, 10 STILL OPEN',
        '- grid: 0 cancelled, 10 STILL OPEN',
        '    not verified: option',
        '',
        'What to do now:',
      ].join('\n'),
    );
  });

  it('names no account when the open orders it counted are on no listing it verified', () => {
    const message = killSwitchMessage(
      record({ ok: false, report: report({ ok: false, remaining: 2, scopes: [] }) }),
      context,
    );
    expect(message.subject).toBe('KILL SWITCH FAILED: 2 orders still open on no account (prod)');
  });
});

describe('drill messages, whole', () => {
  const account = (name: string, overrides: Partial<AccountDrill> = {}): AccountDrill => ({
    account: name,
    ok: true,
    problems: [],
    warnings: [],
    keyExpiresInDays: null,
    openOrders: {},
    coverage: [],
    strategies: {},
    ...overrides,
  });
  const drillFacts = [
    'Fired by: the daily drill schedule',
    'When: 2026-12-05 03:02:11 UTC (took 1.4 s)',
    'Stage: prod',
  ];
  const drillTail = ['Request id: req-1', 'Log group: /aws/lambda/bybit-cancel-prod-drill'];
  const drillRecord = (overrides: Partial<RunRecord>) =>
    record({
      operation: 'drill',
      trigger: 'schedule',
      reason: 'daily',
      functionName: 'bybit-cancel-prod-drill',
      logGroup: '/aws/lambda/bybit-cancel-prod-drill',
      ...overrides,
    });

  it('a drill failed by the master key alone: the accounts would cancel, the halt would fail; no reason; a failure for subscribers', () => {
    const master = {
      ok: false,
      problems: [{ code: 'masterNotIpBound' as const, message: 'the key is bound to no IP address' }],
      warnings: [],
      walletPermissions: ['AccountTransfer'],
    };
    const message = drillFailedMessage(
      drillRecord({
        ok: false,
        report: { operation: 'drill', ok: false, accounts: [account('main'), account('grid')], master },
      }),
      context,
    );
    expect(message).toEqual({
      kind: 'drillFailed',
      ok: false,
      subject: 'Kill-switch drill FAILED: 1 problem on the master key (prod)',
      body: body(
        [
          'The drill found problems: the kill switch would cancel on every account (2 accounts), but it could not halt them. The master key of the enforced halt has problems: a kill switch could not make sub-account keys read-only. Nothing was cancelled (the drill only reads).',
        ],
        drillFacts,
        ['Per account:', '- main: ok', '- grid: ok'],
        ['Master key (enforced halt): 1 PROBLEM', '    problem: the key is bound to no IP address'],
        [
          'What to do now:',
          '- master key: bind the key to your egress IP in Bybit’s API management page (the API cannot bind a master key).',
          '- Check again once fixed: npm run kill-switch -- --drill --stage prod',
        ],
        drillTail,
      ),
    });
  });

  it('a drill failed on an account, with no master key checked, says nothing of a master key', () => {
    const failing = account('hedge', {
      ok: false,
      problems: [{ code: 'keyExpired', message: 'the key expired on 2026-12-01' }],
    });
    const message = drillFailedMessage(
      drillRecord({
        ok: false,
        report: { operation: 'drill', ok: false, accounts: [account('main'), failing] },
      }),
      context,
    );
    expect(message.ok).toBe(false);
    expect(message.body).toBe(
      body(
        [
          'The drill found problems: the kill switch would fail on 1 of 2 accounts. Nothing was cancelled (the drill only reads).',
        ],
        drillFacts,
        ['Per account:', '- main: ok', '- hedge: 1 PROBLEM', '    problem: the key expired on 2026-12-01'],
        [
          'What to do now:',
          '- hedge: the key has expired: create a new one in Bybit (API management) and put it in the exchange secret.',
          '- Check again once fixed: npm run kill-switch -- --drill --stage prod',
        ],
        drillTail,
      ),
    );
  });

  it('a drill failed on an account and by the master key says both: the account fails, and the halt would too', () => {
    const master = {
      ok: false,
      problems: [{ code: 'masterNotIpBound' as const, message: 'the key is bound to no IP address' }],
      warnings: [],
      walletPermissions: ['AccountTransfer'],
    };
    const failing = account('hedge', {
      ok: false,
      problems: [{ code: 'keyExpired', message: 'the key expired on 2026-12-01' }],
    });
    const message = drillFailedMessage(
      drillRecord({
        ok: false,
        report: { operation: 'drill', ok: false, accounts: [account('main'), failing], master },
      }),
      context,
    );
    expect(message.subject).toBe('Kill-switch drill FAILED: 2 problems on hedge, the master key (prod)');
    expect(message.body.split('\n')[0]).toBe(
      'The drill found problems: the kill switch would fail on 1 of 2 accounts. The master key of the enforced halt has problems: a kill switch could not make sub-account keys read-only. Nothing was cancelled (the drill only reads).',
    );
  });

  it('a drill report that names no account has no per-account section', () => {
    const message = drillFailedMessage(
      drillRecord({ ok: false, report: { operation: 'drill', ok: false, accounts: [] } }),
      context,
    );
    expect(message.body).not.toContain('Per account:');
    // The facts are followed at once by what to do: no section of any kind stands for the accounts.
    expect(message.body).toContain(`${drillFacts.join('\n')}\n\nWhat to do now:`);
  });

  it('a drill that passes again without warnings lists no account and gives no reason', () => {
    const message = drillRecoveredMessage(
      drillRecord({ report: { operation: 'drill', ok: true, accounts: [account('main')] } }),
      context,
      '2026-12-04T03:00:00.000Z',
    );
    expect(message).toEqual({
      kind: 'drillRecovered',
      ok: true,
      subject: 'Kill-switch drill passes again: 1 account (prod)',
      body: body(
        [
          'The drill found no problem on any of 1 account: the kill switch would work. The drill of 2026-12-04 03:00:00 UTC had failed.',
        ],
        drillFacts,
        ['What to do now:', '- Nothing.'],
        drillTail,
      ),
    });
  });
});

describe('ipBanMessage, whole', () => {
  it('a refusal for too many requests: wait, and find what else sends from this IP; a failure for subscribers', () => {
    const refusal = 'Bybit refused this IP (HTTP 403, rate limit); wait at least 10 minutes before retrying';
    const message = ipBanMessage(
      record({
        operation: 'sweep',
        trigger: 'schedule',
        reason: 'stale',
        functionName: 'bybit-cancel-prod-cancel',
      }),
      { ...context, ipRefusal: refusal },
    );
    expect(message).toEqual({
      kind: 'ipBan',
      ok: false,
      subject: 'Bybit refused this IP (HTTP 403) during the stale-order sweep (prod)',
      body: body(
        [
          `${refusal} The bybit-cancel-prod-cancel function sends nothing to Bybit for the next 10 minutes; a kill switch from the same IP may be refused too.`,
        ],
        ['Fired by: its schedule', WHEN, STAGE],
        [
          'What to do now:',
          '- Wait at least 10 minutes before sending anything from this IP; cancel by hand in Bybit’s website or app if you must.',
          '- Find what else sends from this IP: all keys together may send 600 requests per 5 s (see the capacity page).',
        ],
        TAIL,
      ),
    });
  });
});

describe('resetMessage, whole', () => {
  it('a failed reset whose report names no account has no account section', () => {
    const message = resetMessage(
      record({
        operation: 'reset',
        ok: false,
        trigger: 'direct',
        error: { type: 'StateError', message: 'the state table did not answer' },
        report: { operation: 'reset', ok: false, message: 'failed', accounts: [], by: 'ana' },
      }),
      context,
    );
    expect(message).toEqual({
      kind: 'resetFailed',
      ok: false,
      subject: 'HALT RESET FAILED: StateError (prod)',
      body: body(
        ['The reset is INCOMPLETE: StateError: the state table did not answer.'],
        ['Reset by: ana', WHEN, STAGE],
        [
          'What to do now:',
          '- Run the reset again: npm run kill-switch -- --reset --stage prod. What failed is named above.',
          "- If it fails again, check the master key (npm run kill-switch -- --drill --stage prod) and the keys named above in Bybit's API management.",
        ],
        TAIL,
      ),
    });
  });
});

describe('subjects and plain text', () => {
  it('keeps a subject that just fits, and cuts one that does not at a word, with no space before the dots', () => {
    const fits = 'F'.repeat(99 - ' (prod)'.length);
    expect(subjectLine(fits, 'prod')).toBe(`${fits} (prod)`);
    const long = `${'A'.repeat(88)} ${'B'.repeat(20)}`;
    expect(subjectLine(long, 'prod')).toBe(`${'A'.repeat(88)}... (prod)`);
  });

  it('makes curly quotes plain, folds each run of whitespace to one space, and drops what is not ASCII', () => {
    expect(asciiSafe('Bybit’s  key\t\ncafé\u0007!')).toBe("Bybit's key caf!");
  });
});
