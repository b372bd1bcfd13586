import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../lib/lambda/records.ts';
import type { ScheduleStatus } from '../../lib/lambda/scheduler.ts';
import { type StateClient, StateStore } from '../../lib/lambda/state.ts';
import { readStatus } from '../../lib/lambda/status.ts';

const NOW = Date.parse('2026-12-05T12:00:00.000Z');
const HOUR = 3_600_000;

function run(overrides: Partial<RunRecord>): RunRecord {
  return {
    operation: 'drill',
    ok: true,
    at: new Date(NOW - HOUR).toISOString(),
    durationMs: 900,
    requestId: crypto.randomUUID(),
    trigger: 'schedule',
    functionName: 'bybit-cancel-prod-drill',
    logGroup: '/aws/lambda/bybit-cancel-prod-drill',
    ...overrides,
  };
}

/** A table holding `last` records and `drills` history, read through the real store. */
function storeWith(last: Partial<Record<string, RunRecord>>, drills: RunRecord[] = []) {
  const item = (pk: string, sk: string, value: unknown) => ({
    pk: { S: pk },
    sk: { S: sk },
    value: { S: JSON.stringify(value) },
  });
  const client = {
    send: async (command: { input: { Key?: { sk: { S: string } } }; constructor: { name: string } }) => {
      if (command.constructor.name === 'QueryCommand')
        return { Items: drills.map((d) => item('drills', d.at, d)) };
      const sk = command.input.Key?.sk.S as string;
      return last[sk] ? { Item: item('last', sk, last[sk]) } : {};
    },
  } as unknown as StateClient;
  return new StateStore({ tableName: 'bybit-cancel-prod-state', client, now: () => NOW });
}

const armed = {
  read: async (): Promise<ScheduleStatus> => ({ armed: true, firesAt: '2026-12-05T12:05:00.000Z' }),
};

describe('readStatus', () => {
  it('is ok with a recent passing drill and no failed kill switch, and says the dead man’s switch is armed', async () => {
    const status = await readStatus({
      state: storeWith({ drill: run({}) }),
      schedule: armed,
      stage: 'prod',
      now: () => NOW,
    });
    expect(status).toMatchObject({
      operation: 'status',
      ok: true,
      attention: [],
      halt: { halted: false, accounts: [] },
      deadMansSwitch: { armed: true, firesAt: '2026-12-05T12:05:00.000Z' },
      lastKillSwitch: null,
      lastDrill: { ok: true, recent: [] },
    });
  });

  it('needs attention for a failed drill (with its problems), a failed kill switch, and a drill overdue', async () => {
    const drill = run({
      ok: false,
      at: new Date(NOW - 27 * HOUR).toISOString(),
      report: {
        operation: 'drill',
        ok: false,
        accounts: [
          {
            account: 'hedge',
            problems: [{ code: 'keyExpired', message: 'the key has expired (33004)' }],
            warnings: [],
          },
          {
            account: 'main',
            problems: [],
            warnings: [{ code: 'noIpBound', message: 'the key is bound to no IP' }],
          },
        ],
      },
    });
    const killSwitch = run({
      operation: 'killSwitch',
      ok: false,
      origin: 'deadMansSwitch',
      report: {
        operation: 'killSwitch',
        ok: false,
        accounts: ['main'],
        cancelled: 3,
        remaining: 2,
        failedScopes: ['main: spot'],
      },
    });
    const older = run({ at: new Date(NOW - 50 * HOUR).toISOString() });
    const status = await readStatus({
      state: storeWith({ drill, killSwitch }, [drill, older]),
      schedule: armed,
      stage: 'prod',
      now: () => NOW,
    });
    expect(status.ok).toBe(false);
    expect(status.attention).toEqual([
      `the last kill switch (${killSwitch.at}) failed: 2 order(s) still open`,
      `the last drill (${drill.at}) found 1 problem(s) on hedge`,
      'no drill for 27 h (it runs daily)',
    ]);
    expect(status.lastDrill).toMatchObject({
      problems: [{ account: 'hedge', code: 'keyExpired', message: 'the key has expired (33004)' }],
      warnings: [{ account: 'main', code: 'noIpBound', message: 'the key is bound to no IP' }],
      recent: [{ at: older.at, ok: true }],
    });
    expect(status.lastKillSwitch).toMatchObject({
      firedBy: 'the dead man’s switch (no heartbeat in time)',
      remaining: 2,
    });
  });

  it('says when no drill has run yet, and answers the other parts when one cannot be read', async () => {
    const broken = {
      read: async (): Promise<ScheduleStatus> => Promise.reject(new Error('GetSchedule: access denied')),
    };
    const status = await readStatus({
      state: storeWith({}),
      schedule: broken,
      stage: 'prod',
      now: () => NOW,
    });
    expect(status.ok).toBe(false);
    expect(status.deadMansSwitch).toEqual({ error: 'GetSchedule: access denied' });
    expect(status.attention).toEqual([
      "the dead man's switch could not be read: GetSchedule: access denied",
      'no drill has run yet: npm run kill-switch -- --drill --stage prod',
    ]);
    expect(status.lastKillSwitch).toBeNull();
  });
});
