// The dead man's switch rules (lib/cancel/dead-mans-switch.ts), the heartbeat's validation, and the Scheduler
// adapter against a fake client (no sockets; test/integration/heartbeat.test.ts runs the real SDK).

import { describe, expect, it, vi } from 'vitest';
import {
  armPlan,
  atExpression,
  type DeadMansSwitchSchedule,
  deadMansSwitchReason,
  firesAt,
  type HeartbeatContext,
  type HeartbeatTurns,
  heartbeat,
  type KnownAccounts,
  parseAtExpression,
  scheduleName,
  TURN_MARGIN_MS,
  type Turn,
  UNCHECKED_ACCOUNTS_WARNING,
  UNCHECKED_HALTS_WARNING,
} from '../../lib/cancel/dead-mans-switch.ts';
import type { HaltRecord } from '../../lib/cancel/halt.ts';
import {
  ConfigError,
  HaltedError,
  HeartbeatBusyError,
  SchedulerError,
  SchedulerUnavailableError,
  StaleHeartbeatError,
  ValidationError,
} from '../../lib/errors.ts';
import { loadConfig } from '../../lib/lambda/config.ts';
import { parseHeartbeatRequest, parseKillSwitchDetail } from '../../lib/lambda/requests.ts';
import { EventBridgeSchedule, type SchedulerSender } from '../../lib/lambda/scheduler.ts';

const NOW = new Date('2026-11-21T09:30:00.250Z');

describe('the rules', () => {
  it('names the schedule after the stage', () => {
    expect(scheduleName('prod')).toBe('bybit-cancel-prod-dead-mans-switch');
  });

  it('fires at now + ttl rounded up to the second, as a UTC at() expression', () => {
    const time = firesAt(NOW, 300);
    expect(time.toISOString()).toBe('2026-11-21T09:35:01.000Z');
    expect(time.getTime()).toBeGreaterThanOrEqual(NOW.getTime() + 300_000);
    expect(atExpression(time)).toBe('at(2026-11-21T09:35:01)');
    expect(parseAtExpression('at(2026-11-21T09:35:01)')).toEqual(time);
    expect(parseAtExpression('rate(5 minutes)')).toBeUndefined();
  });

  it('says when the last heartbeat came, then the bot its own words', () => {
    expect(deadMansSwitchReason(NOW)).toBe("dead man's switch: no heartbeat since 2026-11-21T09:30:00.250Z");
    expect(deadMansSwitchReason(NOW, 'bot-1')).toBe(
      "dead man's switch: no heartbeat since 2026-11-21T09:30:00.250Z; bot-1",
    );
  });

  it('delivers a kill-switch detail that the kill switch accepts, narrowed to the named accounts', () => {
    const plan = armPlan(
      { ttlSeconds: 120, disarm: false, accounts: ['hedge'], reason: 'x'.repeat(400) },
      NOW,
    );
    expect(plan.detail).toMatchObject({ origin: 'deadMansSwitch', accounts: ['hedge'] });
    expect(parseKillSwitchDetail(plan.detail)).toEqual({
      kind: 'everything',
      accounts: ['hedge'],
      reason: plan.detail.reason,
      origin: 'deadMansSwitch',
      ignored: [],
    });
  });
});

describe('heartbeat', () => {
  const fakeSchedule = () => {
    const calls: string[] = [];
    const schedule: DeadMansSwitchSchedule = {
      arm: async (plan) => {
        calls.push(`arm ${plan.expression}`);
        return { created: true };
      },
      disarm: async () => {
        calls.push('disarm');
        return true;
      },
    };
    return { calls, schedule };
  };
  /** Turns that answer `taken` (or what `answers` says, in order) and record how each turn ended. */
  const fakeTurns = (answers: Turn[] = []) => {
    const calls: string[] = [];
    const turns: HeartbeatTurns = {
      take: async (at, until) => {
        calls.push(`take ${at} until ${until}`);
        return answers.shift() ?? { kind: 'taken' };
      },
      end: async (applied) => {
        calls.push(applied ? `end ${applied.at} armed=${applied.armed}` : 'end unchanged');
      },
    };
    return { calls, turns };
  };
  const knowing = (names?: string[]): KnownAccounts => ({ names: async () => names });
  const clockAt = (start: number) => {
    const clock = {
      t: start,
      now: () => clock.t,
      sleep: async (ms: number) => {
        clock.t += ms;
      },
    };
    return clock;
  };
  const AT = NOW.getTime() - 40;
  const context = (overrides: Partial<HeartbeatContext> = {}): HeartbeatContext => ({
    schedule: fakeSchedule().schedule,
    turns: fakeTurns().turns,
    accounts: knowing(['main', 'hedge']),
    at: AT,
    deadline: NOW.getTime() + 8000,
    clock: clockAt(NOW.getTime()),
    ...overrides,
  });

  it('arms in its turn, records itself as the last one applied, and answers when it fires', async () => {
    const { calls, schedule } = fakeSchedule();
    const turns = fakeTurns();
    expect(
      await heartbeat({ ttlSeconds: 300, disarm: false }, context({ schedule, turns: turns.turns })),
    ).toEqual({
      operation: 'heartbeat',
      armed: true,
      firesAt: '2026-11-21T09:35:01.000Z',
      ttlSeconds: 300,
    });
    expect(calls).toEqual(['arm at(2026-11-21T09:35:01)']);
    // Held past its own deadline by the margin: its Scheduler calls have ended by then.
    expect(turns.calls).toEqual([
      `take ${AT} until ${NOW.getTime() + 8000 + TURN_MARGIN_MS}`,
      `end ${AT} armed=true`,
    ]);
  });

  it('says nothing is armed when the schedule did not move: the failure is the answer', async () => {
    const failure = new SchedulerError('UpdateSchedule', 'failed (AccessDeniedException)');
    const schedule: DeadMansSwitchSchedule = {
      arm: () => Promise.reject(failure),
      disarm: () => Promise.reject(failure),
    };
    await expect(heartbeat({ ttlSeconds: 300, disarm: false }, context({ schedule }))).rejects.toBe(failure);
    await expect(heartbeat({ ttlSeconds: 300, disarm: true }, context({ schedule }))).rejects.toBe(failure);
  });

  it('disarms without arming, in its turn', async () => {
    const { calls, schedule } = fakeSchedule();
    const turns = fakeTurns();
    expect(
      await heartbeat({ ttlSeconds: 300, disarm: true }, context({ schedule, turns: turns.turns })),
    ).toMatchObject({
      armed: false,
      firesAt: null,
    });
    expect(calls).toEqual(['disarm']);
    expect(turns.calls.at(-1)).toBe(`end ${AT} armed=false`);
  });

  it('refuses a heartbeat older than the last one applied, and leaves the schedule alone', async () => {
    const { calls, schedule } = fakeSchedule();
    const newerAt = AT + 1500;
    const error = await heartbeat(
      { ttlSeconds: 300, disarm: false },
      context({ schedule, turns: fakeTurns([{ kind: 'stale', newerAt }]).turns }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleHeartbeatError);
    expect((error as StaleHeartbeatError).newerAt).toBe(new Date(newerAt).toISOString());
    expect(calls).toEqual([]);
  });

  it('waits while another heartbeat holds the turn, then goes', async () => {
    const { calls, schedule } = fakeSchedule();
    const turns = fakeTurns([{ kind: 'busy' }, { kind: 'busy' }]);
    const clock = clockAt(NOW.getTime());
    await heartbeat({ ttlSeconds: 300, disarm: false }, context({ schedule, turns: turns.turns, clock }));
    expect(turns.calls.filter((c) => c.startsWith('take'))).toHaveLength(3);
    expect(calls).toHaveLength(1);
    expect(clock.t - NOW.getTime()).toBeGreaterThanOrEqual(2 * 25);
  });

  it('gives up before its deadline when the turn stays held, touching nothing', async () => {
    const { calls, schedule } = fakeSchedule();
    const busy = Array.from({ length: 1000 }, (): Turn => ({ kind: 'busy' }));
    const clock = clockAt(NOW.getTime());
    const deadline = NOW.getTime() + 3000;
    const error = await heartbeat(
      { ttlSeconds: 300, disarm: false },
      context({ schedule, turns: fakeTurns(busy).turns, clock, deadline }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HeartbeatBusyError);
    expect(calls).toEqual([]);
    // It keeps a second back for its own Scheduler calls.
    expect(clock.t).toBeLessThanOrEqual(deadline - 1000);
    expect(clock.t).toBeGreaterThan(deadline - 1200);
  });

  const halt = (account: string): HaltRecord => ({
    account,
    since: '2026-12-05T10:00:00.000Z',
    origin: 'deadMansSwitch',
    reason: 'no heartbeat',
    keys: [],
  });

  it('refuses a heartbeat or a disarm covering a halted account before any turn or Scheduler call', async () => {
    for (const request of [
      { ttlSeconds: 300, disarm: false, accounts: ['grid'] },
      { ttlSeconds: 300, disarm: false },
      { ttlSeconds: 300, disarm: true },
    ]) {
      const { calls, schedule } = fakeSchedule();
      const turns = fakeTurns();
      const error = await heartbeat(
        request,
        context({ schedule, turns: turns.turns, halts: async () => [halt('grid')] }),
      ).catch((e: unknown) => e);
      expect(error, JSON.stringify(request)).toBeInstanceOf(HaltedError);
      expect(calls).toEqual([]);
      expect(turns.calls).toEqual([]);
    }
  });

  it('arms for accounts that are not halted while another is', async () => {
    const { calls, schedule } = fakeSchedule();
    const report = await heartbeat(
      { ttlSeconds: 300, disarm: false, accounts: ['main'] },
      context({ schedule, halts: async () => [halt('grid')] }),
    );
    expect(report).toMatchObject({ armed: true, accounts: ['main'] });
    expect(report.warnings).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('arms with a warning when the halts cannot be read: a detail of bookkeeping never fires the switch', async () => {
    const { calls, schedule } = fakeSchedule();
    const report = await heartbeat(
      { ttlSeconds: 300, disarm: false },
      context({ schedule, halts: async () => undefined }),
    );
    expect(report).toMatchObject({ armed: true, warnings: [UNCHECKED_HALTS_WARNING] });
    expect(calls).toHaveLength(1);
  });

  it('goes on unordered when the order cannot be read, and then ends no turn', async () => {
    const { calls, schedule } = fakeSchedule();
    const turns = fakeTurns([{ kind: 'unordered' }]);
    const report = await heartbeat(
      { ttlSeconds: 300, disarm: false },
      context({ schedule, turns: turns.turns }),
    );
    expect(report.armed).toBe(true);
    expect(calls).toHaveLength(1);
    expect(turns.calls).toHaveLength(1);
  });

  it('ends its turn unchanged when the Scheduler fails, so the next heartbeat is not refused', async () => {
    const turns = fakeTurns();
    const failing: DeadMansSwitchSchedule = {
      arm: async () => {
        throw new SchedulerError('UpdateSchedule', 'failed');
      },
      disarm: async () => true,
    };
    await expect(
      heartbeat({ ttlSeconds: 300, disarm: false }, context({ schedule: failing, turns: turns.turns })),
    ).rejects.toThrow(SchedulerError);
    expect(turns.calls.at(-1)).toBe('end unchanged');
  });

  it('refuses an account the stack does not know, by name, before its turn or any Scheduler call', async () => {
    const { calls, schedule } = fakeSchedule();
    const turns = fakeTurns();
    const error = await heartbeat(
      { ttlSeconds: 120, disarm: false, accounts: ['Main', 'hedge', 'ghost'] },
      context({ schedule, turns: turns.turns }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      field: 'accounts',
      message: 'unknown accounts "Main", "ghost": the exchange secret holds main, hedge',
    });
    expect(calls).toEqual([]);
    expect(turns.calls).toEqual([]);
  });

  it('echoes the accounts it will cover, and warns when their names cannot be checked', async () => {
    const known = await heartbeat({ ttlSeconds: 120, disarm: false, accounts: ['hedge'] }, context());
    expect(known).toMatchObject({ armed: true, accounts: ['hedge'] });
    expect(known).not.toHaveProperty('warnings');
    const unchecked = await heartbeat(
      { ttlSeconds: 120, disarm: false, accounts: ['hedge'] },
      context({ accounts: knowing(undefined) }),
    );
    expect(unchecked).toMatchObject({
      armed: true,
      accounts: ['hedge'],
      warnings: [UNCHECKED_ACCOUNTS_WARNING],
    });
  });

  it('names each halt that refuses it, with the halt’s reason when it has one', async () => {
    const { reason: _, ...unexplained } = halt('hedge');
    const error = await heartbeat(
      { ttlSeconds: 300, disarm: false },
      context({ halts: async () => [halt('grid'), unexplained] }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HaltedError);
    expect((error as HaltedError).halts).toEqual([
      {
        account: 'grid',
        since: '2026-12-05T10:00:00.000Z',
        origin: 'deadMansSwitch',
        reason: 'no heartbeat',
      },
      { account: 'hedge', since: '2026-12-05T10:00:00.000Z', origin: 'deadMansSwitch' },
    ]);
  });

  it('answers a disarm naming accounts with no accounts and no warnings: nothing is armed for them', async () => {
    const { calls, schedule } = fakeSchedule();
    expect(
      await heartbeat({ ttlSeconds: 300, disarm: true, accounts: ['hedge'] }, context({ schedule })),
    ).toEqual({ operation: 'heartbeat', armed: false, firesAt: null, ttlSeconds: 300 });
    expect(calls).toEqual(['disarm']);
  });

  it('ends no turn it did not take when the Scheduler fails', async () => {
    const turns = fakeTurns([{ kind: 'unordered' }]);
    const failing: DeadMansSwitchSchedule = {
      arm: async () => {
        throw new SchedulerError('UpdateSchedule', 'failed');
      },
      disarm: async () => true,
    };
    await expect(
      heartbeat({ ttlSeconds: 300, disarm: false }, context({ schedule: failing, turns: turns.turns })),
    ).rejects.toThrow(SchedulerError);
    expect(turns.calls).toEqual([`take ${AT} until ${NOW.getTime() + 8000 + TURN_MARGIN_MS}`]);
  });

  it('names a single unknown account in the singular', async () => {
    const error = await heartbeat(
      { ttlSeconds: 120, disarm: false, accounts: ['hedge', 'ghost'] },
      context(),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      field: 'accounts',
      message: 'unknown account "ghost": the exchange secret holds main, hedge',
    });
  });

  it('waits between 25 and 100 ms for a held turn, and waits even when the pause ends exactly at its reserve', async () => {
    const random = vi.spyOn(Math, 'random');
    try {
      for (const [draw, pause] of [
        [1, 100],
        [0, 25],
      ] as const) {
        random.mockReturnValue(draw);
        const clock = clockAt(NOW.getTime());
        const sleeps: number[] = [];
        const sleep = clock.sleep;
        clock.sleep = async (ms: number) => {
          sleeps.push(ms);
          await sleep(ms);
        };
        const { calls, schedule } = fakeSchedule();
        // The pause ends at the deadline less the second it keeps for its Scheduler calls: it still waits.
        const deadline = NOW.getTime() + 1000 + pause;
        const report = await heartbeat(
          { ttlSeconds: 300, disarm: false },
          context({ schedule, turns: fakeTurns([{ kind: 'busy' }]).turns, clock, deadline }),
        );
        expect(report.armed).toBe(true);
        expect(sleeps).toEqual([pause]);
        expect(calls).toHaveLength(1);
      }
    } finally {
      random.mockRestore();
    }
  });
});

describe('parseHeartbeatRequest', () => {
  const fieldOf = (input: unknown) => {
    try {
      parseHeartbeatRequest(input, 300);
    } catch (error) {
      if (error instanceof ValidationError) return error.field;
      throw error;
    }
    return undefined;
  };

  it('takes the default ttl and the edges of the range', () => {
    expect(parseHeartbeatRequest({}, 300)).toEqual({ ttlSeconds: 300, disarm: false });
    expect(parseHeartbeatRequest({ ttlSeconds: 120 }, 300).ttlSeconds).toBe(120);
    expect(parseHeartbeatRequest({ ttlSeconds: 86_400, disarm: true }, 300)).toEqual({
      ttlSeconds: 86_400,
      disarm: true,
    });
  });

  it.each([
    [{ ttlSeconds: 30 }, 'ttlSeconds'],
    [{ ttlSeconds: 119 }, 'ttlSeconds'],
    [{ ttlSeconds: 86_401 }, 'ttlSeconds'],
    [{ ttlSeconds: null }, 'ttlSeconds'],
    [{ disarm: 'yes' }, 'disarm'],
    [{ reason: 'x'.repeat(401) }, 'reason'],
    [{ accounts: ['not an account'] }, 'account'],
    [{ category: 'linear' }, 'category'],
    [[], 'body'],
  ])('refuses %j (field %s)', (input, field) => {
    expect(fieldOf(input)).toBe(field);
  });
});

describe('parseKillSwitchDetail', () => {
  it('carries a well-formed origin and drops a malformed one instead of refusing the kill switch', () => {
    expect(parseKillSwitchDetail({ origin: 'deadMansSwitch' })).toEqual({
      kind: 'everything',
      origin: 'deadMansSwitch',
      ignored: [],
    });
    expect(parseKillSwitchDetail({ origin: { nested: true } })).toEqual({
      kind: 'everything',
      ignored: ['origin is not a name: dropped'],
    });
  });
});

describe('the configuration', () => {
  it('defaults to 300 s and the dev schedule, and refuses a default ttl outside the range', () => {
    expect(loadConfig({}).deadMansSwitch).toMatchObject({
      defaultTtlSeconds: 300,
      scheduleName: 'bybit-cancel-dev-dead-mans-switch',
      groupName: 'default',
    });
    expect(loadConfig({ STAGE: 'prod' }).deadMansSwitch.scheduleName).toBe(
      'bybit-cancel-prod-dead-mans-switch',
    );
    expect(() => loadConfig({ DEAD_MANS_SWITCH_SECONDS: '60' })).toThrow(ConfigError);
  });
});

describe('EventBridgeSchedule', () => {
  const options = {
    name: 'bybit-cancel-test-dead-mans-switch',
    groupName: 'default',
    busArn: 'arn:aws:events:ap-southeast-1:123456789012:event-bus/default',
    roleArn: 'arn:aws:iam::123456789012:role/scheduler',
    source: 'bybit.killswitch',
    detailType: 'Kill Switch',
  };
  const plan = armPlan({ ttlSeconds: 300, disarm: false }, NOW);
  const named = (name: string) => Object.assign(new Error(name), { name });
  /** A heartbeat's context around this schedule, its turn always free. */
  const through = (schedule: DeadMansSwitchSchedule): HeartbeatContext => ({
    schedule,
    turns: { take: async () => ({ kind: 'taken' }), end: async () => undefined },
    accounts: { names: async () => undefined },
    at: NOW.getTime(),
    deadline: NOW.getTime() + 8000,
  });

  /** A client answering each command in turn from `answers` (an Error is thrown). */
  function fakeClient(answers: (Error | object)[]) {
    const sent: { command: string; input: Record<string, unknown> }[] = [];
    const client: SchedulerSender = {
      send: (async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ command: command.constructor.name, input: command.input });
        const answer = answers.shift() ?? {};
        if (answer instanceof Error) throw answer;
        return answer;
      }) as unknown as SchedulerSender['send'],
    };
    return { client, sent };
  }

  it('moves an existing schedule with one UpdateSchedule holding the whole definition', async () => {
    const { client, sent } = fakeClient([{}]);
    expect(await new EventBridgeSchedule({ ...options, client }).arm(plan)).toEqual({ created: false });
    expect(sent.map((s) => s.command)).toEqual(['UpdateScheduleCommand']);
    expect(sent[0]?.input).toMatchObject({
      Name: options.name,
      GroupName: 'default',
      ScheduleExpression: 'at(2026-11-21T09:35:01)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: options.busArn,
        RoleArn: options.roleArn,
        EventBridgeParameters: { Source: 'bybit.killswitch', DetailType: 'Kill Switch' },
        Input: JSON.stringify(plan.detail),
      },
    });
  });

  it("names the failure queue as the target's dead-letter queue when one is configured, and none otherwise", async () => {
    const dlq = 'arn:aws:sqs:ap-southeast-1:123456789012:bybit-cancel-test-failures';
    const withQueue = fakeClient([{}]);
    await new EventBridgeSchedule({ ...options, deadLetterArn: dlq, client: withQueue.client }).arm(plan);
    expect(withQueue.sent[0]?.input).toMatchObject({ Target: { DeadLetterConfig: { Arn: dlq } } });
    const without = fakeClient([{}]);
    await new EventBridgeSchedule({ ...options, client: without.client }).arm(plan);
    expect(without.sent[0]?.input).toHaveProperty('Target');
    expect(without.sent[0]?.input).not.toHaveProperty('Target.DeadLetterConfig');
  });

  it('creates the schedule when there is none, and moves it when another heartbeat created it first', async () => {
    const first = fakeClient([named('ResourceNotFoundException'), {}]);
    expect(await new EventBridgeSchedule({ ...options, client: first.client }).arm(plan)).toEqual({
      created: true,
    });
    expect(first.sent.map((s) => s.command)).toEqual(['UpdateScheduleCommand', 'CreateScheduleCommand']);
    const raced = fakeClient([named('ResourceNotFoundException'), named('ConflictException'), {}]);
    expect(await new EventBridgeSchedule({ ...options, client: raced.client }).arm(plan)).toEqual({
      created: false,
    });
    expect(raced.sent.map((s) => s.command)).toEqual([
      'UpdateScheduleCommand',
      'CreateScheduleCommand',
      'UpdateScheduleCommand',
    ]);
  });

  it('turns other Scheduler failures into a SchedulerError that names the operation, not the input', async () => {
    const { client } = fakeClient([named('AccessDeniedException')]);
    const error = await new EventBridgeSchedule({ ...options, client }).arm(plan).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchedulerError);
    expect((error as SchedulerError).message).toBe(
      'UpdateSchedule: bybit-cancel-test-dead-mans-switch failed (AccessDeniedException)',
    );
  });

  it('ends every call by the deadline: a Scheduler that never answers is a SchedulerUnavailableError', async () => {
    const hung: SchedulerSender = {
      send: ((_command: unknown, options: { abortSignal: AbortSignal }) =>
        new Promise((_resolve, reject) =>
          options.abortSignal.addEventListener('abort', () => reject(named('AbortError'))),
        )) as unknown as SchedulerSender['send'],
    };
    const schedule = new EventBridgeSchedule({ ...options, client: hung });
    const started = Date.now();
    schedule.deadline = started + 300;
    const error = await schedule.arm(plan).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchedulerUnavailableError);
    expect((error as Error).message).toMatch(
      /^UpdateSchedule: bybit-cancel-test-dead-mans-switch: no answer from EventBridge Scheduler within \d+ ms$/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('says the Scheduler is unavailable, not broken, when it kept throttling', async () => {
    const { client } = fakeClient([named('ThrottlingException')]);
    const error = await new EventBridgeSchedule({ ...options, client }).disarm().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchedulerUnavailableError);
    expect((error as Error).message).toBe(
      'DeleteSchedule: bybit-cancel-test-dead-mans-switch failed (ThrottlingException); retries were exhausted',
    );
  });

  it.each([
    ['the move is refused', [named('AccessDeniedException')], 'UpdateSchedule'],
    [
      'there is none and creating it is refused',
      [named('ResourceNotFoundException'), named('AccessDeniedException')],
      'CreateSchedule',
    ],
    [
      'another heartbeat created it and moving that one fails',
      [named('ResourceNotFoundException'), named('ConflictException'), named('ThrottlingException')],
      'UpdateSchedule',
    ],
  ])(
    'fails a heartbeat through it when %s: never armed without a schedule that moved',
    async (_, answers, operation) => {
      const { client } = fakeClient(answers);
      const schedule = new EventBridgeSchedule({ ...options, client });
      const error = await heartbeat({ ttlSeconds: 300, disarm: false }, through(schedule)).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SchedulerError);
      expect((error as SchedulerError).operation).toBe(operation);
    },
  );

  it('fails a disarm through it when the delete fails for any reason but "there is none"', async () => {
    const { client } = fakeClient([named('AccessDeniedException')]);
    const schedule = new EventBridgeSchedule({ ...options, client });
    const error = await heartbeat({ ttlSeconds: 300, disarm: true }, through(schedule)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SchedulerError);
    expect((error as SchedulerError).operation).toBe('DeleteSchedule');
  });

  it('disarms: true when it deleted the schedule, false when there was none', async () => {
    const { client, sent } = fakeClient([{}, named('ResourceNotFoundException')]);
    const schedule = new EventBridgeSchedule({ ...options, client });
    expect(await schedule.disarm()).toBe(true);
    expect(await schedule.disarm()).toBe(false);
    expect(sent[0]).toEqual({
      command: 'DeleteScheduleCommand',
      input: { Name: options.name, GroupName: 'default' },
    });
  });

  it('asks the scheduler to retry the bus for an hour, keeps the SDK error as the cause, and cuts a long description', async () => {
    const { client, sent } = fakeClient([{}]);
    const long = { ...plan, detail: { ...plan.detail, reason: 'r'.repeat(600) } };
    await new EventBridgeSchedule({ ...options, client }).arm(long);
    expect(sent[0]?.input).toMatchObject({
      Target: { RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 } },
      State: 'ENABLED',
    });
    const description = sent[0]?.input.Description as string;
    expect(description).toHaveLength(512);
    expect(description.startsWith("bybit-cancel dead man's switch: rrr")).toBe(true);
    const denied = named('AccessDeniedException');
    const failing = fakeClient([denied]);
    const error = await new EventBridgeSchedule({ ...options, client: failing.client })
      .arm(plan)
      .catch((e: unknown) => e);
    expect((error as Error & { cause?: unknown }).cause).toBe(denied);
  });

  it('names a failure that carries no name "Error"', async () => {
    const client: SchedulerSender = {
      send: (async () => Promise.reject(undefined)) as unknown as SchedulerSender['send'],
    };
    const error = await new EventBridgeSchedule({ ...options, client }).disarm().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchedulerError);
    expect((error as Error).message).toBe(
      'DeleteSchedule: bybit-cancel-test-dead-mans-switch failed (Error)',
    );
  });

  it('says which setting is missing when the bus or the role is not configured', async () => {
    const { client } = fakeClient([]);
    await expect(new EventBridgeSchedule({ ...options, busArn: '', client }).arm(plan)).rejects.toThrow(
      new ConfigError('DEAD_MANS_SWITCH_BUS_ARN is not set'),
    );
    await expect(new EventBridgeSchedule({ ...options, roleArn: '', client }).arm(plan)).rejects.toThrow(
      new ConfigError('DEAD_MANS_SWITCH_ROLE_ARN is not set'),
    );
  });

  it('refuses to arm without the bus or the role, before any call', async () => {
    const { client, sent } = fakeClient([]);
    await expect(new EventBridgeSchedule({ ...options, roleArn: '', client }).arm(plan)).rejects.toThrow(
      ConfigError,
    );
    expect(sent).toEqual([]);
  });
});

describe('the rules, at their edges', () => {
  it('reads only a whole at() expression', () => {
    expect(parseAtExpression('xat(2026-11-21T09:35:01)')).toBeUndefined();
    expect(parseAtExpression('at(2026-11-21T09:35:01))')).toBeUndefined();
  });

  it('names no accounts in the detail of a heartbeat that names none: every account is cancelled', () => {
    const plan = armPlan({ ttlSeconds: 120, disarm: false }, NOW);
    expect(plan.detail).not.toHaveProperty('accounts');
  });
});
