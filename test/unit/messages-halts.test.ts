// What a person reads about halts and resets (lib/lambda/messages.ts): the reset's messages, the kill switch's
// halt lines and actions, who fired a run, and the small words (names, times). messages.test.ts covers the
// kill switch's cancels, the drill and the IP refusal.

import { describe, expect, it } from 'vitest';
import type { HaltReport, ResetReport } from '../../lib/cancel/halt.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import {
  drillFailedMessage,
  drillRecoveredMessage,
  firedBy,
  ipBanMessage,
  killSwitchMessage,
  resetMessage,
  subjectLine,
  when,
} from '../../lib/lambda/messages.ts';
import type { RunRecord } from '../../lib/lambda/records.ts';
import { halted } from '../support/kill-switch-reports.ts';

const context = { stage: 'prod' };

const TAIL = 'Request id: req-1\nLog group: /aws/lambda/bybit-cancel-prod-reset';

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    operation: 'reset',
    ok: true,
    at: '2026-12-05T03:02:11.000Z',
    durationMs: 2500,
    requestId: 'req-1',
    trigger: 'direct',
    functionName: 'bybit-cancel-prod-reset',
    logGroup: '/aws/lambda/bybit-cancel-prod-reset',
    ...overrides,
  };
}

function reset(overrides: Partial<ResetReport> = {}): Record<string, unknown> {
  return { operation: 'reset', ok: true, message: 'done', accounts: [], ...overrides };
}

describe('resetMessage', () => {
  it('says the halt is over, per account, which keys were restored, and that keys left alone need a look', () => {
    const report = reset({
      by: 'npm run kill-switch by ana@desk-3',
      accounts: [
        { account: 'main', restored: ['AbC***xyz'], leftAlone: [], failed: [], cleared: true },
        {
          account: 'grid',
          restored: ['GrD***001', 'GrD***002'],
          leftAlone: [{ key: 'GrD***003', error: 'made read-write by hand' }, { error: 'record changed' }],
          failed: [],
          cleared: true,
        },
      ],
    });
    const message = resetMessage(record({ report }), context);
    expect(message.kind).toBe('reset');
    expect(message.ok).toBe(true);
    expect(message.subject).toBe('Halt reset: main, grid - 3 keys made read-write again (prod)');
    expect(message.body).toBe(
      [
        'The halt is over on main, grid: bots may trade again. 3 keys made read-write again, with the IPs they had.',
        '',
        'Reset by: npm run kill-switch by ana@desk-3\nWhen: 2026-12-05 03:02:11 UTC (took 2.5 s)\nStage: prod',
        '',
        [
          'Per account:',
          '- main: no longer halted; 1 key restored (AbC***xyz)',
          '- grid: no longer halted; 2 keys restored (GrD***001, GrD***002)',
          '    left alone: key GrD***003: made read-write by hand',
          '    left alone: record changed',
        ].join('\n'),
        '',
        'What to do now:\n- Watch your bots as they start again: the next kill switch halts them again.\n- Keys left alone were changed by hand during the halt: check each in Bybit’s API management.',
        '',
        TAIL,
      ].join('\n'),
    );
  });

  it('says "it" for one restored key, and gives no keys-left-alone advice when none were', () => {
    const report = reset({
      accounts: [{ account: 'main', restored: ['AbC***xyz'], leftAlone: [], failed: [], cleared: true }],
    });
    const message = resetMessage(record({ report, origin: 'cli' }), context);
    expect(message.body.split('\n\n')[0]).toBe(
      'The halt is over on main: bots may trade again. 1 key made read-write again, with the IPs it had.',
    );
    expect(message.body).toContain('Reset by: npm run kill-switch\n');
    expect(message.body).toContain(
      'What to do now:\n- Watch your bots as they start again: the next kill switch halts them again.\n\n',
    );
  });

  it('says the reset is incomplete, which accounts are still halted and which may trade, and what to run', () => {
    const report = reset({
      ok: false,
      accounts: [
        {
          account: 'main',
          restored: [],
          leftAlone: [],
          failed: [{ key: 'AbC***xyz', error: 'Bybit refused: 10005' }, { error: 'no master key' }],
          cleared: false,
        },
        { account: 'grid', restored: [], leftAlone: [], failed: [], cleared: true },
      ],
    });
    const message = resetMessage(record({ ok: false, report }), context);
    expect(message.kind).toBe('resetFailed');
    expect(message.ok).toBe(false);
    expect(message.subject).toBe('HALT RESET FAILED: main still halted (prod)');
    expect(message.body).toBe(
      [
        'The reset is INCOMPLETE: main is still halted; grid may trade again.',
        '',
        'Reset by: a direct invocation\nWhen: 2026-12-05 03:02:11 UTC (took 2.5 s)\nStage: prod',
        '',
        [
          'Per account:',
          '- main: STILL HALTED; 0 keys restored',
          '    FAILED: key AbC***xyz: Bybit refused: 10005',
          '    FAILED: no master key',
          '- grid: no longer halted; 0 keys restored',
        ].join('\n'),
        '',
        [
          'What to do now:',
          '- Run the reset again: npm run kill-switch -- --reset --stage prod. What failed is named above.',
          "- If it fails again, check the master key (npm run kill-switch -- --drill --stage prod) and the keys named above in Bybit's API management.",
        ].join('\n'),
        '',
        TAIL,
      ].join('\n'),
    );
  });

  it('says "are" for several accounts still halted, and nothing of accounts that may trade when none may', () => {
    const still = (account: string) => ({ account, restored: [], leftAlone: [], failed: [], cleared: false });
    const report = reset({ ok: false, accounts: [still('a'), still('b')] });
    const message = resetMessage(record({ ok: false, report }), context);
    expect(message.body.split('\n\n')[0]).toBe('The reset is INCOMPLETE: a, b are still halted.');
  });

  it('names the error when the reset failed before it could start: every halt stands', () => {
    const message = resetMessage(
      record({ ok: false, error: { type: 'StateError', message: 'the table does not exist' } }),
      context,
    );
    expect(message.subject).toBe('HALT RESET FAILED: StateError (prod)');
    expect(message.body.split('\n\n')[0]).toBe(
      'The reset FAILED before it could start: StateError: the table does not exist. Every halt stands.',
    );
    expect(message.body).not.toContain('Per account:');
    const bare = resetMessage(record({ ok: false }), context);
    expect(bare.subject).toBe('HALT RESET FAILED: error (prod)');
    expect(bare.body.split('\n\n')[0]).toBe(
      'The reset FAILED before it could start: Error: no report. Every halt stands.',
    );
  });

  it('names the error, or says it did not finish, when a failed report names no account', () => {
    const message = resetMessage(record({ ok: false, report: reset({ ok: false }) }), context);
    expect(message.subject).toBe('HALT RESET FAILED: error (prod)');
    expect(message.body.split('\n\n')[0]).toBe('The reset is INCOMPLETE: it did not finish.');
    const named = resetMessage(
      record({
        ok: false,
        error: { type: 'HaltResetError', message: 'the halts could not be read' },
        report: reset({ ok: false }),
      }),
      context,
    );
    expect(named.body.split('\n\n')[0]).toBe(
      'The reset is INCOMPLETE: HaltResetError: the halts could not be read.',
    );
  });
});

function killSwitch(halt: HaltReport | undefined, overrides: Partial<KillSwitchReport> = {}) {
  return {
    operation: 'killSwitch',
    ok: true,
    accounts: ['main'],
    cancelled: 3,
    remaining: 0,
    failedScopes: [],
    durationMs: 900,
    uncancellable: [],
    strategies: [],
    warnings: [],
    scopes: [{ account: 'main', scope: 'spot', cancelled: 3, remaining: 0, verified: true }],
    ...(halt ? { halt } : {}),
    ...overrides,
  } as unknown as Record<string, unknown>;
}

const ksRecord = (report: Record<string, unknown>, overrides: Partial<RunRecord> = {}) =>
  record({ operation: 'killSwitch', trigger: 'eventBridge', report, ...overrides });

describe('killSwitchMessage, the halt', () => {
  it('lists each halted account: keys made read-only, already read-only, cooperative and why, and how to reset', () => {
    const halt: HaltReport = {
      set: true,
      accounts: [
        halted({ flipped: ['AbC***001', 'AbC***002'], alreadyReadOnly: ['AbC***003'] }),
        halted({ account: 'grid', flipped: [] }),
        halted({ account: 'solo', mode: 'cooperative', why: 'no subUid in the exchange secret' }),
        halted({ account: 'team', mode: 'cooperative' }),
      ],
    };
    const message = killSwitchMessage(ksRecord(killSwitch(halt)), context);
    expect(message.ok).toBe(true);
    expect(message.body).toContain(
      [
        'Halted (trading stays stopped until a person resets it):',
        '- main: 2 keys made read-only (AbC***001, AbC***002), 1 read-only already',
        '- grid: 0 keys made read-only',
        '- solo: cooperative only (no subUid in the exchange secret): bots that send heartbeats get 423',
        '- team: cooperative only: bots that send heartbeats get 423',
        'To reset, once you know why: npm run kill-switch -- --reset --stage prod',
      ].join('\n'),
    );
    expect(message.body).toContain(
      'What to do now:\n- Find out why it was fired before any bot trades again.\n- The kill switch cancels orders only: check your positions in Bybit.\n\n',
    );
  });

  it('says a halt failed on a key, leads the subject with it, and says to make the keys read-only by hand', () => {
    const halt: HaltReport = {
      set: true,
      accounts: [
        halted({
          flipped: ['AbC***001'],
          failed: [{ key: 'AbC***002', error: 'Bybit refused: 10005' }, { error: 'sub keys unlisted' }],
        }),
      ],
    };
    const message = killSwitchMessage(ksRecord(killSwitch(halt, { ok: false }), { ok: false }), context);
    expect(message.subject).toBe('KILL SWITCH: orders cleared, but the HALT FAILED on main (prod)');
    expect(message.body).toContain(
      '- main: 1 key made read-only (AbC***001)\n    HALT FAILED: key AbC***002: Bybit refused: 10005\n    HALT FAILED: sub keys unlisted\n',
    );
    expect(message.body).toContain(
      '- The halt is incomplete on main: a bot there may still place orders. Make the keys named above read-only by hand in Bybit’s API management, and check the master key: npm run kill-switch -- --drill --stage prod\n',
    );
  });

  it('says no halt was set and why, or that none was asked for; a set halt of no account adds no lines', () => {
    const why = killSwitchMessage(
      ksRecord(killSwitch({ set: false, why: 'no state table', accounts: [] })),
      context,
    );
    expect(why.body).toContain('No halt was set: no state table. Bots may trade again at once.');
    const none = killSwitchMessage(ksRecord(killSwitch({ set: false, accounts: [] })), context);
    expect(none.body).toContain(
      'No halt was set: the kill switch asked for none. Bots may trade again at once.',
    );
    const empty = killSwitchMessage(ksRecord(killSwitch({ set: true, accounts: [] })), context);
    expect(empty.body).not.toContain('Halted');
    expect(empty.body).not.toContain('No halt was set');
  });

  it("tells a dead man's switch whose accounts are halted that heartbeats get 423, and one without that the next arms it", () => {
    const fired = { origin: 'deadMansSwitch' };
    const withHalt = killSwitchMessage(
      ksRecord(killSwitch({ set: true, accounts: [halted()] }), fired),
      context,
    );
    expect(withHalt.body).toContain(
      '- Your bot stopped sending heartbeats. Find out why before it trades again; while halted, its heartbeats get 423 and change nothing.\n',
    );
    for (const halt of [undefined, { set: true, accounts: [] }, { set: false, accounts: [halted()] }]) {
      const message = killSwitchMessage(ksRecord(killSwitch(halt), fired), context);
      expect(message.body).toContain(
        '- Your bot stopped sending heartbeats. Find out why before it trades again; its next heartbeat arms the dead man’s switch again.\n',
      );
    }
  });

  it('names at most three accounts in a subject, then how many more', () => {
    const accounts = ['a', 'b', 'c', 'd', 'e'];
    const halt: HaltReport = {
      set: true,
      accounts: accounts.map((account) => halted({ account, failed: [{ error: 'x' }] })),
    };
    const message = killSwitchMessage(ksRecord(killSwitch(halt, { accounts }), { ok: false }), context);
    expect(message.subject).toBe(
      'KILL SWITCH: orders cleared, but the HALT FAILED on a, b, c and 2 more (prod)',
    );
  });
});

describe('killSwitchMessage, what else it says', () => {
  it('says when it cannot confirm the accounts clear for no reason it can name, the coins it could not list, and what it ignored', () => {
    const report = killSwitch(undefined, {
      ok: false,
      coverage: {
        categories: ['linear'],
        linearSettleCoins: ['USDT'],
        discovered: [],
        preMarketSymbols: [],
        confirmed: false,
      },
      ignored: ['field "note"', 'setting SWEEP_DRY_RUN: ignored'],
    });
    const message = killSwitchMessage(ksRecord(report, { ok: false }), context);
    expect(message.subject).toBe('KILL SWITCH FAILED: not everything was confirmed clear (prod)');
    expect(message.body.split('\n\n')[0]).toBe(
      'The kill switch did NOT clear everything: it could not confirm the accounts clear. It cancelled 3 orders. Act now.',
    );
    expect(message.body).toContain(
      "\n\nBybit's list of linear settle coins could not be read: only the configured ones were checked.\n\n",
    );
    expect(message.body).toContain(
      '\n\nIgnored in the request: field "note"; setting SWEEP_DRY_RUN: ignored.\n\n',
    );
  });

  it('names strategies it could not verify, with the error when there is one, and what to do', () => {
    const strategies = [
      { account: 'main', stopped: [], remaining: [], verified: false, error: { errorMessage: 'timed out' } },
      { account: 'grid', stopped: [], remaining: [], verified: false },
    ];
    const report = killSwitch(undefined, {
      ok: false,
      accounts: ['main', 'grid'],
      strategies: strategies as unknown as KillSwitchReport['strategies'],
    });
    const message = killSwitchMessage(ksRecord(report, { ok: false }), context);
    expect(message.subject).toBe('KILL SWITCH FAILED: could not verify main, grid (prod)');
    expect(message.body).toContain(
      '- main: 3 cancelled, none left\n    not verified: strategies (timed out)\n- grid: 0 cancelled, none left\n    not verified: strategies\n',
    );
    expect(message.body).toContain(
      '- Look at the listings marked "not verified" in Bybit: the kill switch could not see them.\n',
    );
  });
});

describe('drillFailedMessage, without a report', () => {
  it('names the error, or says it could not run', () => {
    const failed = drillFailedMessage(
      record({ operation: 'drill', ok: false, error: { type: 'SecretError', message: 'unreadable' } }),
      context,
    );
    expect(failed.subject).toBe('Kill-switch drill FAILED: SecretError (prod)');
    expect(failed.body.split('\n\n')[0]).toBe('The drill could not run: unreadable. Nothing was cancelled.');
    const bare = drillFailedMessage(record({ operation: 'drill', ok: false }), context);
    expect(bare.subject).toBe('Kill-switch drill FAILED: it could not run (prod)');
    expect(bare.body.split('\n\n')[0]).toBe('The drill could not run: no report. Nothing was cancelled.');
  });
});

describe('messages from partial reports', () => {
  it('reads a failed kill switch report that holds no field as nothing found: no account, 0 cancelled', () => {
    const message = killSwitchMessage(ksRecord({}, { ok: false }), context);
    expect(message.subject).toBe('KILL SWITCH FAILED: not everything was confirmed clear (prod)');
    expect(message.body.split('\n\n')[0]).toBe(
      'The kill switch did NOT clear everything: it could not confirm the accounts clear. It cancelled 0 orders. Act now.',
    );
    expect(message.body).toContain(
      'What to do now:\n- Check your positions in Bybit: the kill switch cancels orders only.\n\n',
    );
    expect(message.body).not.toContain('Per account:');
  });

  it('names an account the request named but the secret lacks, lists 10 open ids and counts the rest, and names an unverified listing', () => {
    const open = Array.from({ length: 12 }, (_, i) => ({
      symbol: 'BTCUSDT',
      orderId: `o${i}`,
      orderLinkId: '',
    }));
    const report = killSwitch(undefined, {
      ok: false,
      accounts: ['main', 'ghost', 'odd'],
      remaining: 12,
      scopes: [
        {
          account: 'main',
          scope: 'spot',
          cancelled: 1,
          remaining: 12,
          verified: true,
          remainingOrders: open,
        },
        { account: 'main', scope: 'option', cancelled: 0, remaining: 0, verified: false },
        {
          account: 'ghost',
          scope: '*',
          cancelled: 0,
          remaining: 0,
          verified: false,
          error: { errorType: 'UnknownAccount', errorMessage: 'no account named ghost' },
        },
        {
          account: 'odd',
          scope: '*',
          cancelled: 0,
          remaining: 0,
          verified: false,
          error: { errorType: 'X' },
        },
      ] as unknown as KillSwitchReport['scopes'],
    });
    const message = killSwitchMessage(ksRecord(report, { ok: false }), {
      ...context,
      ipRefusal: 'Bybit refused this IP (HTTP 403)',
    });
    expect(message.subject).toBe('KILL SWITCH FAILED: 12 orders still open on main (prod)');
    expect(message.body).toContain(
      [
        'Per account:',
        '- main: 1 cancelled, 12 STILL OPEN',
        ...open.slice(0, 10).map((o) => `    open: spot BTCUSDT ${o.orderId}`),
        '    and 2 more (in the logged report)',
        '    not verified: option',
        '- ghost: no account named ghost; nothing cancelled',
        '- odd: failed; nothing cancelled',
      ].join('\n'),
    );
    expect(message.body.split('\n\n')[0]).toBe(
      'The kill switch did NOT clear everything: 12 orders still open, 3 listings could not be verified, Bybit refused this IP. It cancelled 3 orders. Act now.',
    );
    expect(message.body).toContain(
      [
        'What to do now:',
        '- Bybit refused this IP: do not fire again for at least 10 minutes. Cancel by hand in Bybit’s website or app now.',
        '- Cancel the open orders above by hand in Bybit now.',
        '- Look at the listings marked "not verified" in Bybit: the kill switch could not see them.',
        '- An account named in the request is not in the exchange secret: check the names.',
        '- Check your positions in Bybit: the kill switch cancels orders only.',
      ].join('\n'),
    );
  });

  it('gives a drill problem of no known code its own words, and the IP refusal it met', () => {
    const report = {
      accounts: [
        {
          account: 'main',
          ok: false,
          problems: [{ code: 'somethingNew', message: 'a new problem' }],
          warnings: [],
        },
      ],
      master: { ok: true, problems: [], warnings: [{ code: 'w', message: 'a master warning' }] },
    };
    const message = drillFailedMessage(record({ operation: 'drill', ok: false, report }), {
      ...context,
      ipRefusal: 'Bybit refused this IP (HTTP 403)',
    });
    expect(message.subject).toBe('Kill-switch drill FAILED: 1 problem on main (prod)');
    expect(message.body).toContain(
      'Master key (enforced halt): ok\n    warning: a master warning\n\nBybit refused this IP (HTTP 403)\n\n',
    );
    expect(message.body).toContain('- main: a new problem\n');
    const master = drillFailedMessage(
      record({
        operation: 'drill',
        ok: false,
        report: {
          accounts: [],
          master: { ok: false, problems: [{ code: 'new', message: 'odd' }], warnings: [] },
        },
      }),
      context,
    );
    expect(master.body).toContain('- master key: odd\n');
  });

  it('says a recovered drill of no report found no account, and one with warnings lists them', () => {
    const none = drillRecoveredMessage(record({ operation: 'drill' }), context, '2026-12-04T03:00:00.000Z');
    expect(none.subject).toBe('Kill-switch drill passes again: 0 accounts (prod)');
    expect(none.body).toContain('What to do now:\n- Nothing.\n');
    const warned = drillRecoveredMessage(
      record({
        operation: 'drill',
        report: {
          accounts: [{ account: 'main', ok: true, problems: [], warnings: [{ code: 'w', message: 'ip' }] }],
        },
      }),
      context,
      '2026-12-04T03:00:00.000Z',
    );
    expect(warned.body).toContain('Per account:\n- main: ok\n    warning: ip\n\n');
    expect(warned.body).toContain('- Nothing urgent; the warnings above are worth a look.\n');
  });

  it('says an IP refusal in its own words when the run has none, naming an operation it has no words for', () => {
    const ban = ipBanMessage(
      record({ operation: 'status', functionName: 'bybit-cancel-prod-status' }),
      context,
    );
    expect(ban.subject).toBe('Bybit refused this IP (HTTP 403) during status (prod)');
    expect(ban.body.split('\n\n')[0]).toBe(
      'Bybit refused this IP (HTTP 403). The bybit-cancel-prod-status function sends nothing to Bybit for the next 10 minutes; a kill switch from the same IP may be refused too.',
    );
  });

  it('makes a subject without a stage', () => {
    expect(subjectLine('Kill switch: all clear')).toBe('Kill switch: all clear');
  });
});

describe('firedBy', () => {
  it('names each origin and trigger in words', () => {
    const cases: [Partial<RunRecord>, string][] = [
      [{ origin: 'telegram' }, 'Telegram (/kill, confirmed with Kill now)'],
      [{ origin: 'a risk desk' }, 'a risk desk'],
      [{ trigger: 'eventBridge' }, 'an EventBridge kill-switch event'],
      [{ trigger: 'webhook' }, 'a signed webhook request'],
      [{ trigger: 'schedule', operation: 'drill' }, 'the daily drill schedule'],
      [{ trigger: 'schedule', operation: 'sweep' }, 'its schedule'],
      [{ trigger: 'direct' }, 'a direct invocation'],
    ];
    for (const [fields, words] of cases) {
      expect(firedBy({ trigger: 'direct', operation: 'killSwitch', ...fields })).toBe(words);
    }
  });
});

describe('when', () => {
  it('writes an ISO time as people read it, and leaves what is not a time as it is', () => {
    expect(when('2026-12-05T03:02:11.987Z')).toBe('2026-12-05 03:02:11 UTC');
    expect(when('yesterday')).toBe('yesterday');
  });
});
