// What the Telegram bot says (lib/lambda/telegram-replies.ts): each text whole, so that a changed word, a lost
// escape or a wrong branch fails here.

import { describe, expect, it } from 'vitest';
import type { DrillReport } from '../../lib/cancel/drill.ts';
import type { ResetReport } from '../../lib/cancel/halt.ts';
import type { StackStatus } from '../../lib/lambda/status.ts';
import {
  type Asked,
  CANCEL_BUTTON,
  CONFIRM_BUTTONS,
  cancelledText,
  confirmationText,
  disarmText,
  drillStartedText,
  drillText,
  expiredText,
  firedText,
  helpText,
  notFiredText,
  refusedText,
  resetText,
  runningText,
  stateDownText,
  statusText,
  unknownCommandText,
} from '../../lib/lambda/telegram-replies.ts';

/** 2026-03-01 09:30:00 UTC */
const AT = Date.UTC(2026, 2, 1, 9, 30, 0);
const kill: Asked = { action: 'kill', stage: 'prod', by: 'Dana <d&a>', expiresAt: AT + 60_000 };
const reset: Asked = { action: 'reset', stage: 'prod', by: 'Dana', expiresAt: AT + 60_000 };
const disarm: Asked = { action: 'disarm', stage: 'prod', by: 'Dana', expiresAt: AT + 60_000 };

describe('the fixed texts', () => {
  it('help lists every command, and how to name the stage', () => {
    expect(helpText('p<1>')).toBe(
      [
        '<b>bybit-cancel, stage p&lt;1&gt;</b>',
        '/status – halt, dead man’s switch, last kill switch, last drill',
        '/kill [account …] [reason] – fire the kill switch (you confirm within 60 s)',
        '/reset [account …] – end the halt (you confirm within 60 s)',
        '/drill [account …] – run the read-only drill and get its result',
        '/disarm – disarm the dead man’s switch (you confirm within 60 s)',
        '/help – this list',
        '',
        'In a chat that several stages share, name the stage: /kill@p&lt;1&gt;.',
      ].join('\n'),
    );
  });

  it('an unknown command, a refusal and the state table down', () => {
    expect(unknownCommandText('x<y>')).toBe('Unknown command /x&lt;y&gt;. /help lists the commands.');
    expect(refusedText('"a&b" is not an account name.')).toBe(
      'Nothing was done: "a&amp;b" is not an account name.',
    );
    expect(stateDownText('prod')).toBe(
      "Nothing was done: the state table could not be read or written, and without it an update or a confirmation cannot be kept to once. Try again in a minute. In an emergency: npm run kill-switch -- --stage prod, or cancel in Bybit's app.",
    );
  });

  it('the buttons', () => {
    expect(CONFIRM_BUTTONS).toEqual({ kill: 'Kill now', reset: 'Reset now', disarm: 'Disarm now' });
    expect(CANCEL_BUTTON).toBe('Cancel');
  });
});

describe('confirmationText', () => {
  it('a kill of every account: the accounts seen at the last run, the reason, who, until when', () => {
    expect(confirmationText({ ...kill, reason: 'loss > 5%' }, ['main', 'hedge'])).toBe(
      [
        '<b>Fire the kill switch on prod?</b>',
        'Accounts: every account in the exchange secret (seen at the last run: main, hedge)',
        'What happens: the kill-switch event (origin telegram) goes to the cancelAll function: it cancels every open order and strategy of these accounts, checks that nothing is left, and halts them until a /reset. Its report follows here.',
        'Reason: loss &gt; 5%',
        'Asked by: Dana &lt;d&amp;a&gt;',
        'Only they can confirm, within 60 s (until 09:31:00 UTC).',
      ].join('\n'),
    );
  });

  it('a kill with no accounts known and no reason', () => {
    const text = confirmationText(kill).split('\n');
    expect(text[1]).toBe('Accounts: every account in the exchange secret');
    expect(text[3]).toBe('Reason: (none given)');
    expect(confirmationText({ ...kill, reason: '' })).toContain('\nReason: (none given)\n');
  });

  it('a kill of named accounts names them, whatever else is known', () => {
    expect(confirmationText({ ...kill, accounts: ['a', 'b'] }, ['c']).split('\n')[1]).toBe('Accounts: a, b');
  });

  it('a reset of every halted account, and of named ones; no reason line', () => {
    expect(confirmationText(reset, ['main'])).toBe(
      [
        '<b>Reset the halt on prod?</b>',
        'Accounts: every halted account',
        'What happens: the reset function restores the API keys the halt made read-only, with their IPs, and clears the halt: bots may trade again.',
        'Asked by: Dana',
        'Only they can confirm, within 60 s (until 09:31:00 UTC).',
      ].join('\n'),
    );
    expect(confirmationText({ ...reset, accounts: [] }).split('\n')[1]).toBe(
      'Accounts: every halted account',
    );
    expect(confirmationText({ ...reset, accounts: ['hedge'] }).split('\n')[1]).toBe('Accounts: hedge');
  });

  it('a disarm: no accounts line', () => {
    expect(confirmationText(disarm)).toBe(
      [
        '<b>Disarm the dead man’s switch on prod?</b>',
        'What happens: its schedule is deleted: no kill switch fires when your bot goes quiet, until the bot’s next heartbeat arms it again.',
        'Asked by: Dana',
        'Only they can confirm, within 60 s (until 09:31:00 UTC).',
      ].join('\n'),
    );
  });
});

describe('what became of a confirmation', () => {
  it('fired: who, when, which accounts, the event id', () => {
    expect(firedText(kill, 'ev<1>', AT)).toBe(
      [
        '<b>Kill switch FIRED on prod</b>',
        'by Dana &lt;d&amp;a&gt; at 09:30:00 UTC.',
        'Accounts: every account',
        'Event id: ev&lt;1&gt;',
        'Its report follows here once it has run.',
      ].join('\n'),
    );
    expect(firedText({ ...kill, accounts: ['main', 'hedge'] }, 'e', AT).split('\n')[2]).toBe(
      'Accounts: main, hedge',
    );
    expect(firedText({ ...kill, accounts: [] }, 'e', AT).split('\n')[2]).toBe('Accounts: every account');
  });

  it('not fired: why, and the other ways to stop', () => {
    expect(notFiredText(kill, 'EventBridge <down>')).toBe(
      [
        '<b>Kill switch NOT fired on prod</b>',
        'EventBridge &lt;down&gt;.',
        "Nothing was fired. Send /kill again, or fire it with npm run kill-switch -- --stage prod, or cancel in Bybit's app.",
      ].join('\n'),
    );
  });

  it('cancelled, expired and running, for each action', () => {
    expect(cancelledText(kill, 'Eve', AT)).toBe(
      '<b>Kill switch on prod: cancelled</b>\nby Eve at 09:30:00 UTC. Nothing was done.',
    );
    expect(cancelledText(disarm, 'Eve', AT)).toBe(
      '<b>Disarm of the dead man’s switch on prod: cancelled</b>\nby Eve at 09:30:00 UTC. Nothing was done.',
    );
    expect(expiredText(reset)).toBe(
      '<b>Reset of the halt on prod: expired</b>\nNot confirmed within 60 s (by 09:31:00 UTC). Nothing was done; send /reset again.',
    );
    expect(runningText(reset, AT + 5_000)).toBe(
      '<b>Reset of the halt on prod: confirmed</b>\nby Dana at 09:30:05 UTC; running…',
    );
  });
});

describe('resetText', () => {
  it('an error: incomplete or failed, and what stays halted', () => {
    expect(resetText(reset, { error: { type: 'HaltResetError', message: 'a <b>' } })).toBe(
      [
        '<b>Reset on prod: INCOMPLETE or failed</b>',
        'by Dana. HaltResetError: a &lt;b&gt;',
        'Accounts still halted stay halted; /status shows them. Run /reset again once the cause is fixed.',
      ].join('\n'),
    );
  });

  it('a report: one line per account, with what was restored, left alone and failed', () => {
    const report: ResetReport = {
      operation: 'reset',
      ok: false,
      message: 'reset 2 account(s)',
      accounts: [
        { account: 'main', restored: ['ab…cd', 'ef…gh'], leftAlone: [], failed: [], cleared: true },
        {
          account: 'hedge',
          restored: [],
          leftAlone: [{ key: 'ij…kl', error: 'gone' }, { error: 'no keys' }],
          failed: [{ key: 'mn…op', error: '10005' }, { error: 'master <down>' }],
          cleared: false,
        },
      ],
    };
    expect(resetText(reset, { report })).toBe(
      [
        '<b>Reset on prod: INCOMPLETE</b>',
        'by Dana. reset 2 account(s)',
        '- main: 2 key(s) restored, halt cleared',
        '- hedge: 0 key(s) restored, STILL HALTED, left alone: ij…kl (gone), left alone: (no keys), failed: mn…op (10005), failed: (master &lt;down&gt;)',
      ].join('\n'),
    );
  });

  it('a report that is ok, or has neither ok nor message nor accounts: done', () => {
    expect(resetText(reset, { report: { ok: true, message: 'nothing to reset', accounts: [] } })).toBe(
      '<b>Reset on prod: done</b>\nby Dana. nothing to reset',
    );
    expect(resetText(reset, { report: {} })).toBe('<b>Reset on prod: done</b>\nby Dana.');
    expect(resetText(reset, {})).toBe('<b>Reset on prod: done</b>\nby Dana.');
  });
});

describe('disarmText', () => {
  it('disarmed', () => {
    expect(disarmText(disarm, { kind: 'disarmed' })).toBe(
      [
        '<b>Dead man’s switch on prod: disarmed</b>',
        'by Dana. The dead man’s switch is off: no kill switch fires on silence until your bot’s next heartbeat arms it again.',
      ].join('\n'),
    );
  });

  it('halted with nothing known: "an account", no since, no cause', () => {
    expect(disarmText(disarm, { kind: 'halted', accounts: [] }).split('\n')[1]).toBe(
      'Refused: trading is halted on an account. Nothing was changed: the dead man’s switch stays as it was.',
    );
  });

  it('halted with an origin but no reason', () => {
    expect(
      disarmText(disarm, { kind: 'halted', accounts: ['a'], origin: 'cli', since: 'not a date' }).split(
        '\n',
      )[1],
    ).toBe(
      'Refused: trading is halted on a since not a date (cli). Nothing was changed: the dead man’s switch stays as it was.',
    );
  });

  it('halted with since, origin and reason: all three, and to reset first', () => {
    const outcome = {
      kind: 'halted',
      accounts: ['hedge', 'main'],
      since: '2026-03-01T09:30:00.000Z',
      origin: 'telegram',
      reason: 'a <b>',
    } as const;
    expect(disarmText(disarm, { ...outcome, accounts: [...outcome.accounts] })).toBe(
      [
        '<b>Dead man’s switch on prod: NOT disarmed</b>',
        'Refused: trading is halted on hedge, main since 2026-03-01 09:30:00 UTC (telegram: a &lt;b&gt;). Nothing was changed: the dead man’s switch stays as it was.',
        'Find out why, reset first (/reset), then /disarm again.',
      ].join('\n'),
    );
  });

  it('halted with a reason but no origin: the reason is not shown alone', () => {
    expect(disarmText(disarm, { kind: 'halted', accounts: ['a'], reason: 'why' }).split('\n')[1]).toBe(
      'Refused: trading is halted on a. Nothing was changed: the dead man’s switch stays as it was.',
    );
  });

  it('failed: why, and what to do', () => {
    expect(disarmText(disarm, { kind: 'failed', why: 'x <y>' })).toBe(
      [
        '<b>Dead man’s switch on prod: NOT disarmed</b>',
        'Failed: x &lt;y&gt;.',
        'It is still armed if it was: /status shows when it fires. Try /disarm again.',
      ].join('\n'),
    );
  });
});

describe('the drill', () => {
  it('started: on every account, or on those named', () => {
    expect(drillStartedText('prod')).toBe(
      'Running the kill-switch drill on prod (every account; read-only, nothing is cancelled)…',
    );
    expect(drillStartedText('prod', [])).toBe(
      'Running the kill-switch drill on prod (every account; read-only, nothing is cancelled)…',
    );
    expect(drillStartedText('prod', ['a', 'b'])).toBe(
      'Running the kill-switch drill on prod (a, b; read-only, nothing is cancelled)…',
    );
  });

  const account = (name: string, ok: boolean, problems: string[] = [], warnings: string[] = []) =>
    ({
      account: name,
      ok,
      problems: problems.map((message) => ({ code: 'p', message })),
      warnings: warnings.map((message) => ({ code: 'w', message })),
    }) as unknown as DrillReport['accounts'][number];

  it('passed with no warning: the count, no runbook line', () => {
    expect(drillText('prod', { report: { accounts: [account('main', true), account('hedge', true)] } })).toBe(
      ['<b>Drill passed on prod: 2 account(s), no problem</b>', '- main: ok', '- hedge: ok'].join('\n'),
    );
  });

  it('passed with a warning: the runbook line', () => {
    expect(drillText('prod', { report: { accounts: [account('main', true, [], ['slow <x>'])] } })).toBe(
      [
        '<b>Drill passed on prod: 1 account(s), no problem</b>',
        '- main: ok',
        '    warning: slow &lt;x&gt;',
        'The runbook says what to do about each.',
      ].join('\n'),
    );
  });

  it('failed: the problems of failing accounts and of the master key are counted and named', () => {
    const report = {
      accounts: [account('main', false, ['p1', 'p2']), account('hedge', true, ['ignored on an ok account'])],
      master: { ok: false, problems: [{ code: 'm', message: 'no Wallet permission' }], warnings: [] },
    } as unknown as Partial<DrillReport>;
    expect(drillText('prod', { report })).toBe(
      [
        '<b>Drill FAILED on prod: 3 problem(s), the kill switch would fail</b>',
        '- main: 2 PROBLEM(S)',
        '    problem: p1',
        '    problem: p2',
        '- hedge: ok',
        '    problem: ignored on an ok account',
        '- master key: problem: no Wallet permission',
        'The runbook says what to do about each.',
      ].join('\n'),
    );
  });

  it('a master key with no problems passes', () => {
    const report = {
      accounts: [],
      master: { ok: true, problems: [], warnings: [] },
    } as unknown as Partial<DrillReport>;
    expect(drillText('prod', { report })).toBe('<b>Drill passed on prod: 0 account(s), no problem</b>');
  });

  it('no report: its error, or "no report"', () => {
    expect(drillText('prod', { error: { type: 'DrillFailedError', message: 'a <b>' } })).toBe(
      '<b>Drill FAILED on prod</b>\nDrillFailedError: a &lt;b&gt;',
    );
    expect(drillText('prod', {})).toBe('<b>Drill FAILED on prod</b>\nError: no report');
    expect(drillText('prod', { report: { ok: true } })).toBe('<b>Drill FAILED on prod</b>\nError: no report');
  });
});

describe('statusText', () => {
  const NOW = Date.parse('2026-03-01T09:30:00.000Z');
  const base: StackStatus = {
    operation: 'status',
    stage: 'prod',
    ok: true,
    attention: [],
    checkedAt: '2026-03-01T09:30:00.000Z',
    halt: { halted: false, accounts: [] },
    deadMansSwitch: { armed: false, firesAt: null },
    lastKillSwitch: null,
    lastDrill: null,
  };
  const killSwitch = {
    at: '2026-03-01T08:00:00.000Z',
    ok: true,
    firedBy: 'Telegram /kill by Dana',
    accounts: 2,
    cancelled: 7,
    remaining: 0,
    failedScopes: [],
    durationMs: 900,
    requestId: 'r',
    logGroup: 'g',
  };
  const drill = {
    at: '2026-03-01T06:00:00.000Z',
    ok: true,
    accounts: 3,
    problems: [],
    warnings: [],
    requestId: 'r',
    logGroup: 'g',
    recent: [],
  };
  const lines = (status: Partial<StackStatus>, now = NOW) =>
    statusText({ ...base, ...status }, now).split('\n');

  it('all is well: one line per part', () => {
    expect(statusText(base, NOW)).toBe(
      [
        '<b>prod: all is well</b>',
        'Halt: none',
        'Dead man’s switch: not armed',
        'Last kill switch: none recorded',
        'Last drill: none recorded',
      ].join('\n'),
    );
  });

  it('a halt: each account, its keys or cooperative, its reason; then how to reset', () => {
    const status: Partial<StackStatus> = {
      ok: false,
      attention: ['trading is halted <now>', 'second'],
      halt: {
        halted: true,
        accounts: [
          {
            account: 'main',
            since: '2026-03-01T09:00:00.000Z',
            origin: 'telegram',
            reason: 'loss > 5%',
            mode: 'enforced',
            keysReadOnly: 2,
          },
          {
            account: 'hedge',
            since: '2026-03-01T09:01:00.000Z',
            origin: 'cli',
            mode: 'cooperative',
            keysReadOnly: 0,
          },
        ],
      },
    };
    expect(statusText({ ...base, ...status }, NOW)).toBe(
      [
        '<b>prod: needs attention</b>',
        'Halt: HALTED: main, hedge',
        '- main: since 2026-03-01 09:00:00 UTC, by telegram, 2 key(s) made read-only; loss &gt; 5%',
        '- hedge: since 2026-03-01 09:01:00 UTC, by cli, cooperative',
        'Once you know why: /reset (you confirm within 60 s).',
        'Dead man’s switch: not armed',
        'Last kill switch: none recorded',
        'Last drill: none recorded',
        '<b>Needs attention:</b>',
        '- trading is halted &lt;now&gt;',
        '- second',
      ].join('\n'),
    );
  });

  it('parts that could not be read say why', () => {
    expect(
      lines({
        halt: { error: 'state <down>' },
        deadMansSwitch: { error: 'scheduler down' },
        lastKillSwitch: { error: 'ks down' },
        lastDrill: { error: 'drill down' },
      }).slice(1),
    ).toEqual([
      'Halt: ? state &lt;down&gt;',
      'Dead man’s switch: ? scheduler down',
      'Last kill switch: ? ks down',
      'Last drill: ? drill down',
    ]);
  });

  it('the dead man’s switch: when it fires, in seconds, minutes, or due now', () => {
    const at = (ms: number) => ({ armed: true, firesAt: new Date(NOW + ms).toISOString() });
    expect(lines({ deadMansSwitch: at(119_000) })[2]).toBe(
      'Dead man’s switch: armed, fires at 2026-03-01 09:31:59 UTC (in 119 s)',
    );
    expect(lines({ deadMansSwitch: at(119_600) })[2]).toBe(
      'Dead man’s switch: armed, fires at 2026-03-01 09:31:59 UTC (in 2 min)',
    );
    expect(lines({ deadMansSwitch: at(0) })[2]).toBe(
      'Dead man’s switch: armed, fires at 2026-03-01 09:30:00 UTC (in 0 s)',
    );
    expect(lines({ deadMansSwitch: at(-1) })[2]).toBe(
      'Dead man’s switch: armed, fires at 2026-03-01 09:29:59 UTC (due now: it fires within the minute)',
    );
    expect(lines({ deadMansSwitch: at(3_599_000) })[2]).toBe(
      'Dead man’s switch: armed, fires at 2026-03-01 10:29:59 UTC (in 59 min)',
    );
    expect(lines({ deadMansSwitch: { armed: true, firesAt: null } })[2]).toBe('Dead man’s switch: not armed');
    expect(lines({ deadMansSwitch: { armed: false, firesAt: '2026-03-01T09:31:00.000Z' } })[2]).toBe(
      'Dead man’s switch: not armed',
    );
  });

  it('the last kill switch: all clear, orders still open, or failed with or without an error', () => {
    expect(lines({ lastKillSwitch: killSwitch })[3]).toBe(
      'Last kill switch: 2026-03-01 08:00:00 UTC, fired by Telegram /kill by Dana: all clear, 2 account(s), 7 cancelled',
    );
    expect(lines({ lastKillSwitch: { ...killSwitch, ok: false, remaining: 3 } })[3]).toBe(
      'Last kill switch: 2026-03-01 08:00:00 UTC, fired by Telegram /kill by Dana: FAILED, 3 order(s) still open',
    );
    expect(
      lines({ lastKillSwitch: { ...killSwitch, ok: false, error: { type: 'AuthError', message: 'm' } } })[3],
    ).toBe('Last kill switch: 2026-03-01 08:00:00 UTC, fired by Telegram /kill by Dana: FAILED: AuthError');
    expect(lines({ lastKillSwitch: { ...killSwitch, ok: false } })[3]).toBe(
      'Last kill switch: 2026-03-01 08:00:00 UTC, fired by Telegram /kill by Dana: FAILED',
    );
  });

  it('the last drill: ok, failed with problems, failed, and its warnings', () => {
    const finding = { account: 'a', code: 'c', message: 'm' };
    expect(lines({ lastDrill: drill })[4]).toBe('Last drill: 2026-03-01 06:00:00 UTC: ok, 3 account(s)');
    expect(lines({ lastDrill: { ...drill, warnings: [finding, finding] } })[4]).toBe(
      'Last drill: 2026-03-01 06:00:00 UTC: ok, 3 account(s), 2 warning(s)',
    );
    expect(lines({ lastDrill: { ...drill, ok: false, problems: [finding] } })[4]).toBe(
      'Last drill: 2026-03-01 06:00:00 UTC: FAILED, 1 problem(s)',
    );
    expect(lines({ lastDrill: { ...drill, ok: false } })[4]).toBe(
      'Last drill: 2026-03-01 06:00:00 UTC: FAILED',
    );
  });

  it('a record whose error is an object is a record, not "could not be read"', () => {
    const failed = { ...killSwitch, ok: false, error: { type: 'X', message: 'y' } };
    expect(lines({ lastKillSwitch: failed })[3]).toMatch(/^Last kill switch: 2026-03-01 08:00:00 UTC/);
    const drillFailed = { ...drill, ok: false, error: { type: 'X', message: 'y' } };
    expect(lines({ lastDrill: drillFailed })[4]).toBe('Last drill: 2026-03-01 06:00:00 UTC: FAILED');
  });

  it('a record with neither an error nor a time adds no line', () => {
    const odd = { odd: true } as unknown as StackStatus['lastDrill'];
    expect(lines({ lastKillSwitch: odd as StackStatus['lastKillSwitch'], lastDrill: odd })).toEqual([
      '<b>prod: all is well</b>',
      'Halt: none',
      'Dead man’s switch: not armed',
    ]);
  });
});
