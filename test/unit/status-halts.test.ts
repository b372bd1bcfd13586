// The stack's status (lib/lambda/status.ts) with halts standing, a state table that cannot be read or is not
// configured, and the last kill switch and drill summarised field by field; status.test.ts covers the drill's
// attention and an unreadable schedule.

import { describe, expect, it } from 'vitest';
import type { HaltRecord } from '../../lib/cancel/halt.ts';
import type { RunRecord } from '../../lib/lambda/records.ts';
import type { ScheduleStatus } from '../../lib/lambda/scheduler.ts';
import { type StateClient, StateStore } from '../../lib/lambda/state.ts';
import { haltedAccount, readStatus } from '../../lib/lambda/status.ts';

const NOW = Date.parse('2026-12-05T12:00:00.000Z');
const HOUR = 3_600_000;
const TABLE = 'bybit-cancel-prod-state';

function run(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    operation: 'drill',
    ok: true,
    at: new Date(NOW - HOUR).toISOString(),
    durationMs: 900,
    requestId: 'req-drill',
    trigger: 'schedule',
    functionName: 'bybit-cancel-prod-drill',
    logGroup: '/aws/lambda/bybit-cancel-prod-drill',
    ...overrides,
  };
}

const item = (pk: string, sk: string, value: unknown) => ({
  pk: { S: pk },
  sk: { S: sk },
  value: { S: JSON.stringify(value) },
});

/** A table holding `last` records, `drills` history and `halt` items; `broken` fails every call. */
function storeWith(
  options: {
    last?: Record<string, RunRecord>;
    drills?: RunRecord[];
    halt?: unknown[];
    broken?: boolean;
  } = {},
) {
  const client = {
    send: async (command: {
      input: {
        Key?: { sk: { S: string } };
        ExpressionAttributeValues?: Record<string, { S: string }>;
        Limit?: number;
      };
      constructor: { name: string };
    }) => {
      if (options.broken) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
      if (command.constructor.name === 'QueryCommand') {
        const pk = command.input.ExpressionAttributeValues?.[':pk']?.S;
        if (pk === 'halt') return { Items: (options.halt ?? []).map((h, i) => item('halt', String(i), h)) };
        // As DynamoDB does: at most Limit items, newest first as given.
        const drills = (options.drills ?? []).slice(0, command.input.Limit);
        return { Items: drills.map((d) => item('drills', d.at, d)) };
      }
      const sk = command.input.Key?.sk.S as string;
      const value = options.last?.[sk];
      return value ? { Item: item('last', sk, value) } : {};
    },
  } as unknown as StateClient;
  return new StateStore({ tableName: TABLE, client, now: () => NOW });
}

const armed = {
  read: async (): Promise<ScheduleStatus> => ({ armed: true, firesAt: '2026-12-05T12:05:00.000Z' }),
};
/** The status of `state` on stage prod, the schedule armed, at NOW. */
const statusOf = (state: StateStore) => readStatus({ state, schedule: armed, stage: 'prod', now: () => NOW });
const key = (flipped: boolean) => ({
  kind: 'key',
  account: 'grid',
  fingerprint: flipped ? 'f1' : 'f2',
  key: 'AbC***yz',
  readOnly: false,
  ips: [],
  permissions: {},
  flipped,
});

describe('readStatus, halts', () => {
  it('lists each halt standing, enforced or cooperative, and asks a person to find out why and reset', async () => {
    const halt = [
      {
        kind: 'halt',
        account: 'grid',
        since: '2026-12-05T10:00:00.000Z',
        origin: 'deadMansSwitch',
        subUid: '42',
      },
      key(true),
      key(false),
      {
        kind: 'halt',
        account: 'main',
        since: '2026-12-05T11:30:00.000Z',
        origin: 'cli',
        reason: 'drawdown',
        eventId: 'evt-9',
      },
    ];
    const status = await statusOf(storeWith({ last: { drill: run() }, halt }));
    expect(status.halt).toEqual({
      halted: true,
      accounts: [
        {
          account: 'grid',
          since: '2026-12-05T10:00:00.000Z',
          origin: 'deadMansSwitch',
          mode: 'enforced',
          keysReadOnly: 1,
        },
        {
          account: 'main',
          since: '2026-12-05T11:30:00.000Z',
          origin: 'cli',
          reason: 'drawdown',
          eventId: 'evt-9',
          mode: 'cooperative',
          keysReadOnly: 0,
        },
      ],
    });
    expect(status.ok).toBe(false);
    expect(status.attention).toEqual([
      'trading is halted on grid since 2026-12-05 10:00:00 UTC (deadMansSwitch); main since 2026-12-05 11:30:00 UTC (cli: drawdown): find out why, then reset: npm run kill-switch -- --reset --stage prod',
    ]);
  });

  it('says no halt, and nothing to attend to, without a state table; the records it cannot read are named', async () => {
    const status = await readStatus({
      state: new StateStore({ tableName: '' }),
      schedule: armed,
      stage: 'dev',
      now: () => NOW,
    });
    expect(status.halt).toEqual({ halted: false, accounts: [] });
    expect(status.lastKillSwitch).toEqual({ error: 'load on (unset): no state table configured' });
    expect(status.lastDrill).toEqual({ error: 'load on (unset): no state table configured' });
    expect(status.attention).toEqual([
      'the last kill switch could not be read: load on (unset): no state table configured',
      'the last drill could not be read: load on (unset): no state table configured',
    ]);
    expect(status.checkedAt).toBe('2026-12-05T12:00:00.000Z');
  });

  it('names each part the table cannot give, and answers the schedule all the same', async () => {
    const status = await statusOf(storeWith({ broken: true }));
    const denied = "access denied (check the function's IAM policy on the table)";
    expect(status).toMatchObject({
      operation: 'status',
      stage: 'prod',
      ok: false,
      deadMansSwitch: { armed: true },
      halt: { error: `Query on ${TABLE}: ${denied}` },
      lastKillSwitch: { error: `GetItem on ${TABLE}: ${denied}` },
    });
    expect(status.attention).toEqual([
      `the halt could not be read: Query on ${TABLE}: ${denied}`,
      `the last kill switch could not be read: GetItem on ${TABLE}: ${denied}`,
      `the last drill could not be read: ${(status.lastDrill as { error: string }).error}`,
    ]);
  });

  it('reads a thrown value that is no Error by its text', async () => {
    const status = await readStatus({
      state: storeWith({ last: { drill: run() } }),
      schedule: { read: () => Promise.reject('Scheduler gone') },
      stage: 'prod',
      now: () => NOW,
    });
    expect(status.deadMansSwitch).toEqual({ error: 'Scheduler gone' });
    const nullish = await readStatus({
      state: storeWith({ last: { drill: run() } }),
      schedule: { read: () => Promise.reject(null) },
      stage: 'prod',
      now: () => NOW,
    });
    expect(nullish.deadMansSwitch).toEqual({ error: 'null' });
  });
});

describe('readStatus, the last kill switch and drill', () => {
  it('summarises the last kill switch field by field, and a failure that left nothing open', async () => {
    const killSwitch = run({
      operation: 'killSwitch',
      ok: false,
      at: '2026-12-05T11:00:00.000Z',
      durationMs: 700,
      requestId: 'req-ks',
      eventId: 'evt-1',
      trigger: 'eventBridge',
      origin: 'cli',
      reason: 'risk limit',
      logGroup: '/aws/lambda/bybit-cancel-prod-cancelAll',
      error: { type: 'DeadlineExceededError', message: 'late' },
    });
    const status = await statusOf(storeWith({ last: { killSwitch, drill: run() } }));
    expect(status.lastKillSwitch).toEqual({
      at: '2026-12-05T11:00:00.000Z',
      ok: false,
      firedBy: 'npm run kill-switch',
      origin: 'cli',
      reason: 'risk limit',
      accounts: 0,
      cancelled: 0,
      remaining: 0,
      failedScopes: [],
      durationMs: 700,
      requestId: 'req-ks',
      eventId: 'evt-1',
      logGroup: '/aws/lambda/bybit-cancel-prod-cancelAll',
      error: { type: 'DeadlineExceededError', message: 'late' },
    });
    expect(status.attention).toEqual([
      'the last kill switch (2026-12-05T11:00:00.000Z) failed: it could not confirm everything clear',
    ]);
  });

  it('takes the report’s figures over the record’s, and says nothing of a kill switch that cleared', async () => {
    const killSwitch = run({
      operation: 'killSwitch',
      trigger: 'webhook',
      report: { accounts: ['a', 'b'], cancelled: 9, remaining: 0, failedScopes: ['x'], durationMs: 321 },
    });
    const status = await statusOf(storeWith({ last: { killSwitch, drill: run() } }));
    expect(status.lastKillSwitch).toEqual({
      at: killSwitch.at,
      ok: true,
      firedBy: 'a signed webhook request',
      accounts: 2,
      cancelled: 9,
      remaining: 0,
      failedScopes: ['x'],
      durationMs: 321,
      requestId: 'req-drill',
      logGroup: '/aws/lambda/bybit-cancel-prod-drill',
    });
    expect(status.attention).toEqual([]);
    expect(status.ok).toBe(true);
  });

  it('says why a drill failed without a problem, or "no report"; skips accounts without a name; lists the drills before it', async () => {
    const failed = run({
      ok: false,
      requestId: 'req-last',
      error: { type: 'SecretError', message: 'the exchange secret is unreadable' },
      report: {
        accounts: [
          { account: 'main', problems: [], warnings: [] },
          { problems: [{ code: 'x', message: 'nameless' }], warnings: [] },
          null,
          { account: 'grid' },
        ],
      },
    });
    const history = [
      failed,
      run({ at: '2026-12-05T09:00:00.000Z', requestId: 'r2', ok: false }),
      run({ at: '2026-12-04T09:00:00.000Z', requestId: 'r3' }),
    ];
    const status = await statusOf(storeWith({ last: { drill: failed }, drills: history }));
    expect(status.lastDrill).toEqual({
      at: failed.at,
      ok: false,
      accounts: 2,
      problems: [],
      warnings: [],
      requestId: 'req-last',
      logGroup: failed.logGroup,
      error: { type: 'SecretError', message: 'the exchange secret is unreadable' },
      recent: [
        { at: '2026-12-05T09:00:00.000Z', ok: false },
        { at: '2026-12-04T09:00:00.000Z', ok: true },
      ],
    });
    expect(status.attention).toEqual([
      `the last drill (${failed.at}) failed: the exchange secret is unreadable`,
    ]);

    const bare = run({ ok: false, requestId: 'req-bare' });
    const noReport = await statusOf(storeWith({ last: { drill: bare } }));
    expect(noReport.attention).toEqual([`the last drill (${bare.at}) failed: no report`]);
  });

  it('lists the drills before the last one from the 7 newest only, and names each account with a problem', async () => {
    const history = Array.from({ length: 12 }, (_, i) =>
      run({ at: new Date(NOW - (i + 1) * HOUR).toISOString(), requestId: `r${i}`, ok: i % 2 === 1 }),
    );
    const problem = { code: 'keyExpired', message: 'the key has expired (33004)' };
    const last = run({
      ...history[0],
      ok: false,
      report: {
        accounts: [
          { account: 'hedge', problems: [problem], warnings: [] },
          { account: 'main', problems: [problem], warnings: [] },
        ],
      },
    });
    const status = await statusOf(storeWith({ last: { drill: last }, drills: [last, ...history.slice(1)] }));
    expect(status.lastDrill).toMatchObject({
      recent: history.slice(1, 7).map((r) => ({ at: r.at, ok: r.ok })),
    });
    expect(status.attention).toEqual([`the last drill (${last.at}) found 2 problem(s) on hedge, main`]);
  });

  it('counts a drill overdue only past 26 hours', async () => {
    const at = (hours: number) => run({ at: new Date(NOW - hours * HOUR).toISOString() });
    const read = (drill: RunRecord) => statusOf(storeWith({ last: { drill } }));
    expect((await read(at(26))).attention).toEqual([]);
    expect((await read(at(26.01))).attention).toEqual(['no drill for 26 h (it runs daily)']);
  });
});

describe('haltedAccount', () => {
  it('counts the keys whose flip was confirmed, and calls a halt with keys enforced', () => {
    const record = {
      account: 'grid',
      since: '2026-12-05T10:00:00.000Z',
      origin: 'killSwitch',
      keys: [{ flipped: false }, { flipped: false }],
    } as unknown as HaltRecord;
    expect(haltedAccount(record)).toEqual({
      account: 'grid',
      since: '2026-12-05T10:00:00.000Z',
      origin: 'killSwitch',
      mode: 'enforced',
      keysReadOnly: 0,
    });
  });
});
