import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ArmPlan } from '../../lib/cancel/dead-mans-switch.ts';
import { ConfigError, SchedulerError, SchedulerUnavailableError } from '../../lib/errors.ts';
import { EventBridgeSchedule, type SchedulerSender } from '../../lib/lambda/scheduler.ts';

const NOW = Date.parse('2026-12-06T01:30:00.000Z');
afterEach(() => {
  vi.restoreAllMocks();
});

const named = (name: string, message = name) => Object.assign(new Error(message), { name });

const options = {
  name: 'bybit-cancel-test-dead-mans-switch',
  groupName: 'bybit-cancel-test',
  busArn: 'arn:aws:events:ap-southeast-1:123456789012:event-bus/default',
  roleArn: 'arn:aws:iam::123456789012:role/scheduler',
  source: 'bybit.killswitch',
  detailType: 'Kill Switch',
};

const plan: ArmPlan = {
  firesAt: new Date('2026-12-06T01:35:00.000Z'),
  expression: 'at(2026-12-06T01:35:00)',
  detail: { origin: 'deadMansSwitch', reason: "dead man's switch: bot-1" } as ArmPlan['detail'],
};

/** A Scheduler client answering each command in turn (an Error is thrown), recording what it was sent. */
function fakeScheduler(answers: unknown[], onSend?: () => void) {
  const sent: { command: string; input: Record<string, unknown>; signal?: AbortSignal }[] = [];
  const client = {
    send: async (
      command: { constructor: { name: string }; input: Record<string, unknown> },
      sendOptions: { abortSignal?: AbortSignal },
    ) => {
      sent.push({ command: command.constructor.name, input: command.input, signal: sendOptions.abortSignal });
      onSend?.();
      const answer = answers.shift() ?? {};
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as SchedulerSender;
  return { client, sent };
}

const at = (time: number) => () => time;
const KEY = { Name: options.name, GroupName: options.groupName };

describe('EventBridgeSchedule.read', () => {
  it('reads an enabled schedule: armed, when it fires, its state and its reason', async () => {
    const { client, sent } = fakeScheduler([
      {
        ScheduleExpression: 'at(2026-12-06T01:35:00)',
        State: 'ENABLED',
        Target: { Input: JSON.stringify({ reason: 'no heartbeat', origin: 'deadMansSwitch' }) },
      },
    ]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });
    const timeout = vi.spyOn(AbortSignal, 'timeout');

    expect(await schedule.read(NOW + 2000)).toStrictEqual({
      armed: true,
      firesAt: '2026-12-06T01:35:00.000Z',
      state: 'ENABLED',
      reason: 'no heartbeat',
    });
    expect(sent.map((s) => [s.command, s.input])).toEqual([['GetScheduleCommand', KEY]]);
    expect(timeout.mock.calls).toEqual([[2000]]);
    expect(sent[0]?.signal?.aborted).toBe(false);
  });

  it('is not armed when there is no schedule', async () => {
    const { client } = fakeScheduler([named('ResourceNotFoundException')]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    expect(await schedule.read()).toStrictEqual({ armed: false, firesAt: null });
  });

  it('is not armed when the schedule is disabled, though its time and reason are read', async () => {
    const { client } = fakeScheduler([
      {
        ScheduleExpression: 'at(2026-12-06T01:35:00)',
        State: 'DISABLED',
        Target: { Input: '{"reason":"r"}' },
      },
    ]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    expect(await schedule.read()).toStrictEqual({
      armed: false,
      firesAt: null,
      state: 'DISABLED',
      reason: 'r',
    });
  });

  it('is not armed when the expression is not a one-time at()', async () => {
    const { client } = fakeScheduler([{ ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' }]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    expect(await schedule.read()).toStrictEqual({ armed: false, firesAt: null, state: 'ENABLED' });
  });

  it('reads a schedule with no expression, state or target as not armed', async () => {
    const { client } = fakeScheduler([{}]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    expect(await schedule.read()).toStrictEqual({ armed: false, firesAt: null });
  });

  it('is armed without a state, and leaves out a reason that is not a string or an input that is not JSON', async () => {
    const { client } = fakeScheduler([
      { ScheduleExpression: 'at(2026-12-06T01:35:00)', Target: { Input: '{"reason":7}' } },
      { ScheduleExpression: 'at(2026-12-06T01:35:00)', Target: { Input: 'not json' } },
    ]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    expect(await schedule.read()).toStrictEqual({ armed: true, firesAt: '2026-12-06T01:35:00.000Z' });
    expect(await schedule.read()).toStrictEqual({ armed: true, firesAt: '2026-12-06T01:35:00.000Z' });
  });

  it('throws any other failure as a SchedulerError', async () => {
    const { client } = fakeScheduler([named('AccessDeniedException')]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    const error = await schedule.read().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SchedulerError);
    expect(error).not.toBeInstanceOf(SchedulerUnavailableError);
    expect((error as Error).message).toBe(`GetSchedule: ${options.name} failed (AccessDeniedException)`);
    expect((error as SchedulerError).operation).toBe('GetSchedule');
  });

  it('ends by its own deadline rather than the invocation deadline', async () => {
    const { client } = fakeScheduler([named('TimeoutError')]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });
    schedule.deadline = NOW + 1000;

    await expect(schedule.read(NOW + 3000)).rejects.toThrow(
      new SchedulerUnavailableError(
        'GetSchedule',
        `${options.name}: no answer from EventBridge Scheduler within 3000 ms`,
      ),
    );
  });

  it('ends by the invocation deadline when given none', async () => {
    const { client } = fakeScheduler([named('TimeoutError')]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });
    schedule.deadline = NOW + 1000;

    await expect(schedule.read()).rejects.toThrow('no answer from EventBridge Scheduler within 1000 ms');
  });
});

describe('EventBridgeSchedule.arm', () => {
  it('moves the schedule with the whole definition and a dead-letter queue when one is named', async () => {
    const { client, sent } = fakeScheduler([{}]);
    const schedule = new EventBridgeSchedule({
      ...options,
      deadLetterArn: 'arn:aws:sqs:ap-southeast-1:123456789012:failures',
      client,
      now: at(NOW),
    });

    expect(await schedule.arm(plan)).toEqual({ created: false });
    expect(sent.map((s) => s.command)).toEqual(['UpdateScheduleCommand']);
    expect(sent[0]?.input).toStrictEqual({
      Name: options.name,
      GroupName: options.groupName,
      ScheduleExpression: 'at(2026-12-06T01:35:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Description: "bybit-cancel dead man's switch: dead man's switch: bot-1",
      Target: {
        Arn: options.busArn,
        RoleArn: options.roleArn,
        Input: JSON.stringify(plan.detail),
        EventBridgeParameters: { Source: 'bybit.killswitch', DetailType: 'Kill Switch' },
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:ap-southeast-1:123456789012:failures' },
      },
    });
  });

  it('names no dead-letter queue when none is configured, and cuts the description to 512 characters', async () => {
    const { client, sent } = fakeScheduler([{}]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });
    const long = { ...plan, detail: { ...plan.detail, reason: 'r'.repeat(600) } };

    await schedule.arm(long);

    const input = sent[0]?.input as { Description: string; Target: Record<string, unknown> };
    expect(input.Target).not.toHaveProperty('DeadLetterConfig');
    expect(input.Description).toBe(`bybit-cancel dead man's switch: ${'r'.repeat(600)}`.slice(0, 512));
    expect(input.Description).toHaveLength(512);
  });

  it('creates the schedule when there is none', async () => {
    const { client, sent } = fakeScheduler([named('ResourceNotFoundException'), {}]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    expect(await schedule.arm(plan)).toEqual({ created: true });
    expect(sent.map((s) => s.command)).toEqual(['UpdateScheduleCommand', 'CreateScheduleCommand']);
    expect(sent[1]?.input).toStrictEqual(sent[0]?.input);
  });

  it('moves the one another heartbeat created meanwhile', async () => {
    const { client, sent } = fakeScheduler([
      named('ResourceNotFoundException'),
      named('ConflictException'),
      {},
    ]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    expect(await schedule.arm(plan)).toEqual({ created: false });
    expect(sent.map((s) => s.command)).toEqual([
      'UpdateScheduleCommand',
      'CreateScheduleCommand',
      'UpdateScheduleCommand',
    ]);
  });

  it('throws a failed update without creating anything', async () => {
    const { client, sent } = fakeScheduler([named('ValidationException')]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    await expect(schedule.arm(plan)).rejects.toThrow(
      new SchedulerError('UpdateSchedule', `${options.name} failed (ValidationException)`),
    );
    expect(sent).toHaveLength(1);
  });

  it('throws a failed create without moving anything', async () => {
    const { client, sent } = fakeScheduler([
      named('ResourceNotFoundException'),
      named('ValidationException'),
    ]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    await expect(schedule.arm(plan)).rejects.toThrow(
      `CreateSchedule: ${options.name} failed (ValidationException)`,
    );
    expect(sent).toHaveLength(2);
  });

  it('throws when the second move fails too, with its own operation', async () => {
    const { client } = fakeScheduler([
      named('ResourceNotFoundException'),
      named('ConflictException'),
      named('ResourceNotFoundException'),
    ]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    const error = (await schedule.arm(plan).catch((e: unknown) => e)) as SchedulerError;

    expect(error).toBeInstanceOf(SchedulerError);
    expect(error.operation).toBe('UpdateSchedule');
    expect(error.message).toBe(`UpdateSchedule: ${options.name} failed (ResourceNotFoundException)`);
  });

  it.each([
    ['busArn', 'DEAD_MANS_SWITCH_BUS_ARN is not set'],
    ['roleArn', 'DEAD_MANS_SWITCH_ROLE_ARN is not set'],
  ])('refuses to arm without %s, sending nothing', async (field, message) => {
    const { client, sent } = fakeScheduler([]);
    const schedule = new EventBridgeSchedule({ ...options, [field]: '', client, now: at(NOW) });

    const error = await schedule.arm(plan).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
    expect(sent).toHaveLength(0);
  });
});

describe('EventBridgeSchedule.disarm', () => {
  it('deletes the schedule and says it did', async () => {
    const { client, sent } = fakeScheduler([{}]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    expect(await schedule.disarm()).toBe(true);
    expect(sent.map((s) => [s.command, s.input])).toEqual([['DeleteScheduleCommand', KEY]]);
  });

  it('says there was none to delete', async () => {
    const { client } = fakeScheduler([named('ResourceNotFoundException')]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    expect(await schedule.disarm()).toBe(false);
  });

  it('throws any other failure', async () => {
    const { client } = fakeScheduler([named('ConflictException')]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    await expect(schedule.disarm()).rejects.toThrow(
      `DeleteSchedule: ${options.name} failed (ConflictException)`,
    );
  });
});

describe('EventBridgeSchedule failures', () => {
  it.each(['ThrottlingException', 'InternalServerException', 'ServiceUnavailableException'])(
    'says %s is unavailable: retries were exhausted',
    async (name) => {
      const { client } = fakeScheduler([named(name)]);
      const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

      const error = (await schedule.disarm().catch((e: unknown) => e)) as Error;

      expect(error).toBeInstanceOf(SchedulerUnavailableError);
      expect(error.message).toBe(`DeleteSchedule: ${options.name} failed (${name}); retries were exhausted`);
      expect((error as Error).cause).toMatchObject({ name });
    },
  );

  it.each(['TimeoutError', 'AbortError', 'RequestTimeout'])(
    'says %s is no answer within the time the call had (the invocation deadline)',
    async (name) => {
      const { client } = fakeScheduler([named(name)]);
      const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });
      schedule.deadline = NOW + 1234;

      const error = (await schedule.disarm().catch((e: unknown) => e)) as Error;

      expect(error).toBeInstanceOf(SchedulerUnavailableError);
      expect(error.message).toBe(
        `DeleteSchedule: ${options.name}: no answer from EventBridge Scheduler within 1234 ms`,
      );
    },
  );

  it('gives a call at most 5 s, deadline or not', async () => {
    const { client } = fakeScheduler([named('TimeoutError')]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });
    schedule.deadline = NOW + 60_000;

    await expect(schedule.disarm()).rejects.toThrow('no answer from EventBridge Scheduler within 5000 ms');

    const without = new EventBridgeSchedule({
      ...options,
      client: fakeScheduler([named('AbortError')]).client,
    });
    await expect(without.disarm()).rejects.toThrow('no answer from EventBridge Scheduler within 5000 ms');
  });

  it('says 0 ms when the deadline had already passed, and aborts the call at once', async () => {
    const { client, sent } = fakeScheduler([named('AbortError')]);
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });
    schedule.deadline = NOW - 500;
    const timeout = vi.spyOn(AbortSignal, 'timeout');

    await expect(schedule.disarm()).rejects.toThrow('no answer from EventBridge Scheduler within 0 ms');
    expect(timeout.mock.calls).toEqual([[1]]);
    expect(sent[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('calls any failure that outlasts the deadline unavailable', async () => {
    let time = NOW;
    const { client } = fakeScheduler([named('UnknownError')], () => {
      time = NOW + 2000;
    });
    const schedule = new EventBridgeSchedule({ ...options, client, now: () => time });
    schedule.deadline = NOW + 2000;

    const error = (await schedule.disarm().catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(SchedulerUnavailableError);
    expect(error.message).toBe(
      `DeleteSchedule: ${options.name}: no answer from EventBridge Scheduler within 2000 ms`,
    );
  });

  it('calls a failure one millisecond before the deadline a plain SchedulerError', async () => {
    let time = NOW;
    const { client } = fakeScheduler([named('UnknownError')], () => {
      time = NOW + 1999;
    });
    const schedule = new EventBridgeSchedule({ ...options, client, now: () => time });
    schedule.deadline = NOW + 2000;

    const error = (await schedule.disarm().catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(SchedulerError);
    expect(error).not.toBeInstanceOf(SchedulerUnavailableError);
    expect(error.message).toBe(`DeleteSchedule: ${options.name} failed (UnknownError)`);
  });

  it("names a thrown value that is not an error 'Error'", async () => {
    const { client } = fakeScheduler([]);
    (client as { send: unknown }).send = async () => {
      throw undefined;
    };
    const schedule = new EventBridgeSchedule({ ...options, client, now: at(NOW) });

    await expect(schedule.disarm()).rejects.toThrow(`DeleteSchedule: ${options.name} failed (Error)`);
  });
});

describe('EventBridgeSchedule without a client', () => {
  it('builds one SDK client with three attempts and keeps it', async () => {
    const seen: { client: unknown; attempts: number; handler: unknown }[] = [];
    const send = vi.spyOn(SchedulerClient.prototype, 'send').mockImplementation(async function (
      this: SchedulerClient,
    ) {
      const config = await (
        this.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> }
      ).configProvider;
      const { connectionTimeout, requestTimeout, throwOnRequestTimeout } = config;
      seen.push({
        client: this,
        attempts: await (this.config.maxAttempts as () => Promise<number>)(),
        handler: { connectionTimeout, requestTimeout, throwOnRequestTimeout },
      });
      return {};
    });
    try {
      const schedule = new EventBridgeSchedule(options);

      expect(await schedule.disarm()).toBe(true);
      expect(await schedule.disarm()).toBe(true);

      expect(seen).toHaveLength(2);
      expect(seen[0]?.client).toBeInstanceOf(SchedulerClient);
      expect(seen[1]?.client).toBe(seen[0]?.client);
      expect(seen[0]?.attempts).toBe(3);
      expect(seen[0]?.handler).toEqual({
        connectionTimeout: 1000,
        requestTimeout: 3000,
        throwOnRequestTimeout: true,
      });
    } finally {
      send.mockRestore();
    }
  });
});
