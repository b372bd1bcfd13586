// The dead man's switch end to end from source: signed heartbeats through the heartbeat handler, the real
// @aws-sdk/client-scheduler talking to the Scheduler endpoint on loopback, and the schedule, when it fires,
// delivering its kill-switch event to the cancelAll handler against the exchange emulator.

import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AnyEvent, lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { atTime, type SchedulerEndpoint, startScheduler } from '../support/scheduler.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const SCHEDULE = 'bybit-cancel-test-dead-mans-switch';
const BUS_ARN = 'arn:aws:events:ap-southeast-1:123456789012:event-bus/default';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/bybit-cancel-test-dead-mans-switch-scheduler';
const DLQ_ARN = 'arn:aws:sqs:ap-southeast-1:123456789012:bybit-cancel-test-failures';
/** A schedule 120 s ahead fires after 1.2 s. */
const TIME_SCALE = 0.01;

let stack: LocalStack;
let scheduler: SchedulerEndpoint;
let heartbeat: Handler;
let cancelAll: Handler;
const output: string[] = [];
const delivered: unknown[] = [];

beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'hedge'] });
  scheduler = await startScheduler({
    region: 'ap-southeast-1',
    timeScale: TIME_SCALE,
    // The bus hands the event to the kill-switch rule's target: the cancelAll function.
    onFire: async (event) => {
      delivered.push(await cancelAll(event, lambdaContext(60_000)).catch((error: Error) => error));
    },
  });
  Object.assign(process.env, stack.env, {
    LOG_LEVEL: 'info',
    STAGE: 'test',
    AWS_ENDPOINT_URL_SCHEDULER: scheduler.url,
    DEAD_MANS_SWITCH_BUS_ARN: BUS_ARN,
    DEAD_MANS_SWITCH_ROLE_ARN: ROLE_ARN,
    DEAD_MANS_SWITCH_DLQ_ARN: DLQ_ARN,
  });
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    output.push(String(chunk));
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  heartbeat = (await import('../../handlers/heartbeat.ts')).handler as Handler;
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as Handler;
});
afterAll(async () => {
  await scheduler.close();
  await stack.close();
});
beforeEach(() => {
  stack.emulator.reset();
  scheduler.reset();
  delivered.length = 0;
  output.length = 0;
});

const apiKey = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;
const send = async (
  body: unknown,
  event: AnyEvent = signedHttpEvent('http-v2-heartbeat.json', body, stack.webhookSecret),
) => (await heartbeat(event, lambdaContext())) as APIGatewayProxyResult;
const bodyOf = (response: APIGatewayProxyResult) => JSON.parse(response.body);
/** The time the stored schedule names, to the second. */
const scheduledAt = () => atTime(scheduler.get(SCHEDULE)?.ScheduleExpression ?? '');
/** The next whole second at or after `ms`: `at()` names seconds, and the switch must not fire before the ttl. */
const secondUp = (ms: number) => Math.ceil(ms / 1000) * 1000;

/** Sends a heartbeat and the seconds its schedule may name: now + ttl, rounded up, for any now during it. */
async function timedSend(body: { ttlSeconds?: number } & Record<string, unknown>, ttlSeconds = 300) {
  const before = Date.now();
  const response = await send(body);
  const after = Date.now();
  return {
    response,
    earliest: secondUp(before + ttlSeconds * 1000),
    latest: secondUp(after + ttlSeconds * 1000),
  };
}

describe('POST /heartbeat', () => {
  it('arms with a signed heartbeat: exactly that schedule, at(now + ttl), flexible window OFF, deleted after it runs', async () => {
    const { response, earliest, latest } = await timedSend({ ttlSeconds: 300 });
    expect(response.statusCode).toBe(200);
    const answer = bodyOf(response);
    expect(answer).toMatchObject({ operation: 'heartbeat', armed: true, ttlSeconds: 300 });

    expect(scheduler.calls.map((c) => [c.operation, c.name, c.status])).toEqual([
      ['UpdateSchedule', SCHEDULE, 404],
      ['CreateSchedule', SCHEDULE, 200],
    ]);
    const schedule = scheduler.get(SCHEDULE);
    expect(schedule).toBeDefined();
    const at = scheduledAt() as number;
    expect(at).toBeGreaterThanOrEqual(earliest);
    expect(at).toBeLessThanOrEqual(latest);
    expect(schedule?.ScheduleExpressionTimezone).toBe('UTC');
    expect(answer.firesAt).toBe(new Date(at).toISOString());
    expect(schedule).toMatchObject({
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: BUS_ARN,
        RoleArn: ROLE_ARN,
        EventBridgeParameters: { Source: 'bybit.killswitch', DetailType: 'Kill Switch' },
        DeadLetterConfig: { Arn: DLQ_ARN },
      },
    });
    expect(JSON.parse(schedule?.Target.Input as string)).toEqual({
      origin: 'deadMansSwitch',
      reason: expect.stringMatching(/^dead man's switch: no heartbeat since \d{4}-\d\d-\d\dT[\d:.]+Z$/),
    });
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it('moves the same schedule with each heartbeat, one Scheduler call each, to the default ttl', async () => {
    const first = await timedSend({ ttlSeconds: 120 }, 120);
    expect(scheduledAt()).toBeGreaterThanOrEqual(first.earliest);
    expect(scheduledAt()).toBeLessThanOrEqual(first.latest);
    const seen = scheduler.calls.length;
    const { response, earliest, latest } = await timedSend({});
    expect(bodyOf(response)).toMatchObject({ armed: true, ttlSeconds: 300 });
    expect(scheduler.calls.slice(seen).map((c) => [c.operation, c.name, c.status])).toEqual([
      ['UpdateSchedule', SCHEDULE, 200],
    ]);
    expect(scheduledAt()).toBeGreaterThanOrEqual(earliest);
    expect(scheduledAt()).toBeLessThanOrEqual(latest);
  });

  it.each([
    [
      'a refusal (AccessDeniedException)',
      { status: 400, type: 'AccessDeniedException' },
      1,
      500,
      'InternalError',
    ],
    [
      'a failure on every retry (500)',
      { status: 500, type: 'InternalServerException' },
      3,
      503,
      'SchedulerUnavailableError',
    ],
  ])(
    'never says armed when the schedule did not move: %s answers 5xx and leaves it where it was',
    async (_, failure, times, statusCode, error) => {
      await send({ ttlSeconds: 600 });
      const armedAt = scheduler.get(SCHEDULE)?.ScheduleExpression;
      expect(armedAt).toMatch(/^at\(/);
      scheduler.failNext('UpdateSchedule', failure, times);
      const response = await send({ ttlSeconds: 120 });
      // A refusal is ours to fix (500); a Scheduler that kept failing is one to retry (503).
      expect(response.statusCode).toBe(statusCode);
      const answer = bodyOf(response);
      expect(answer).not.toHaveProperty('armed');
      expect(answer).toMatchObject({ error, operation: 'heartbeat' });
      expect(scheduler.get(SCHEDULE)?.ScheduleExpression).toBe(armedAt);
      expect(scheduler.calls.filter((c) => c.operation === 'UpdateSchedule').map((c) => c.status)).toEqual([
        404,
        ...Array(times).fill(failure.status),
      ]);
    },
  );

  it('never says armed when there was no schedule and creating one failed', async () => {
    scheduler.failNext('CreateSchedule', { status: 400, type: 'AccessDeniedException' });
    const response = await send({ ttlSeconds: 120 });
    expect(response.statusCode).toBe(500);
    expect(bodyOf(response)).not.toHaveProperty('armed');
    expect(scheduler.get(SCHEDULE)).toBeUndefined();
    expect(scheduler.calls.map((c) => [c.operation, c.status])).toEqual([
      ['UpdateSchedule', 404],
      ['CreateSchedule', 400],
    ]);
  });

  it('answers 401 to an unsigned or forged heartbeat and makes no Scheduler call', async () => {
    const unsigned = loadEvent('http-v2-heartbeat.json');
    delete unsigned.headers['x-timestamp'];
    delete unsigned.headers['x-signature'];
    expect((await send(null, unsigned)).statusCode).toBe(401);
    const forged = signedHttpEvent('http-v2-heartbeat.json', { ttlSeconds: 300 }, stack.webhookSecret, {
      signature: 'ab'.repeat(32),
    });
    expect((await send(null, forged)).statusCode).toBe(401);
    expect(scheduler.calls).toEqual([]);
  });

  it.each([
    [{ ttlSeconds: 30 }, 'ttlSeconds'],
    [{ ttlSeconds: 86_401 }, 'ttlSeconds'],
    [{ ttlSeconds: 300.5 }, 'ttlSeconds'],
    [{ ttlSeconds: '300' }, 'ttlSeconds'],
    [{ disarm: false }, 'disarm'],
    [{ ttl: 300 }, 'ttl'],
    [{ accounts: [] }, 'accounts'],
  ])('answers 400 to %j, naming %s, and makes no Scheduler call', async (body, field) => {
    const response = await send(body);
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response)).toMatchObject({ error: 'ValidationError', field });
    expect(scheduler.calls).toEqual([]);
  });

  it('refuses the passphrase even when passphrase mode is on: 401 before any secret read or Scheduler call', async () => {
    process.env.WEBHOOK_PASSPHRASE_MODE = 'true';
    vi.resetModules();
    try {
      const fresh = (await import('../../handlers/heartbeat.ts')).handler as Handler;
      const withPassphrase = (body: object) => {
        const event = loadEvent('http-v2-heartbeat.json');
        delete event.headers['x-timestamp'];
        delete event.headers['x-signature'];
        event.body = JSON.stringify(body);
        return fresh(event, lambdaContext()) as Promise<APIGatewayProxyResult>;
      };
      const reads = stack.secrets.reads();
      for (const body of [
        { ttlSeconds: 86_400, passphrase: stack.passphrase },
        { disarm: true, passphrase: stack.passphrase },
      ]) {
        const response = await withPassphrase(body);
        expect(response.statusCode).toBe(401);
        expect(bodyOf(response).message).toBe(
          'POST /heartbeat accepts only a signed request (x-timestamp, x-signature); never the passphrase',
        );
      }
      expect(stack.secrets.reads()).toBe(reads);
      expect(scheduler.calls).toEqual([]);
    } finally {
      process.env.WEBHOOK_PASSPHRASE_MODE = 'false';
      vi.resetModules();
    }
  });

  it('deletes the schedule on disarm, and says it is off', async () => {
    await send({ ttlSeconds: 600 });
    expect(scheduler.get(SCHEDULE)).toBeDefined();
    const response = await send({ disarm: true });
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toEqual({
      operation: 'heartbeat',
      armed: false,
      firesAt: null,
      ttlSeconds: 300,
    });
    expect(scheduler.calls.at(-1)).toMatchObject({
      operation: 'DeleteSchedule',
      name: SCHEDULE,
      status: 200,
    });
    expect(scheduler.get(SCHEDULE)).toBeUndefined();
    // Disarming what is not armed is no error.
    expect((await send({ disarm: true })).statusCode).toBe(200);
  });
});

describe('when the heartbeats stop', () => {
  it("delivers a kill-switch event that clears the book and names the dead man's switch", async () => {
    stack.emulator.addOrders(apiKey('main'), [
      { category: 'linear', symbol: 'BTCUSDT' },
      { category: 'spot', symbol: 'ETHUSDT' },
    ]);
    stack.emulator.addOrders(apiKey('hedge'), [{ category: 'linear', symbol: 'ETHUSDT' }]);
    const fired = scheduler.nextFire(20_000);
    const answer = bodyOf(await send({ ttlSeconds: 120, reason: 'bot-1 on vps-3' }));
    const fire = await fired;

    expect(fire.name).toBe(SCHEDULE);
    expect(fire.scheduledFor).toBe(new Date(answer.firesAt).getTime());
    expect(fire.error).toBeUndefined();
    expect(stack.emulator.openOrders()).toHaveLength(0);
    const [report] = delivered as Record<string, unknown>[];
    expect(report).toMatchObject({
      operation: 'killSwitch',
      ok: true,
      origin: 'deadMansSwitch',
      cancelled: 3,
      remaining: 0,
      reason: expect.stringMatching(/^dead man's switch: no heartbeat since .+Z; bot-1 on vps-3$/),
    });
    // Deleted after it ran: the next heartbeat arms it again.
    expect(scheduler.get(SCHEDULE)).toBeUndefined();

    const lines = output
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const finished = lines.find((l) => l.message === 'invocation finished' && l.trigger === 'killSwitch');
    expect(finished).toMatchObject({ origin: 'deadMansSwitch' });
    const emf = lines.find((l) => l._aws && l.Operation === 'killSwitch');
    expect(emf).toMatchObject({ Origin: 'deadMansSwitch', OrdersCancelled: 3, Failures: 0 });
    expect(emf._aws.CloudWatchMetrics[0].Dimensions).toContainEqual(['Operation']);
  });

  it('cancels only the accounts the heartbeat named', async () => {
    stack.emulator.addOrders(apiKey('main'), [{ category: 'linear', symbol: 'BTCUSDT' }]);
    stack.emulator.addOrders(apiKey('hedge'), [{ category: 'linear', symbol: 'ETHUSDT' }]);
    const fired = scheduler.nextFire(20_000);
    await send({ ttlSeconds: 120, accounts: ['hedge'] });
    await fired;
    expect(stack.emulator.openOrders(apiKey('hedge'))).toHaveLength(0);
    expect(stack.emulator.openOrders(apiKey('main'))).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ accounts: ['hedge'], origin: 'deadMansSwitch' });
  });

  it("runs the event in events/dead-mans-switch.json as a kill switch named for the dead man's switch", async () => {
    stack.emulator.addOrders(apiKey('main'), [{ category: 'option', symbol: 'BTC-27DEC26-100000-C' }]);
    const report = await cancelAll(loadEvent('dead-mans-switch.json'), lambdaContext(60_000));
    expect(report).toMatchObject({
      operation: 'killSwitch',
      ok: true,
      origin: 'deadMansSwitch',
      cancelled: 1,
    });
    expect(stack.emulator.openOrders()).toHaveLength(0);
  });

  it('does not fire once disarmed', async () => {
    stack.emulator.addOrders(apiKey('main'), [{ category: 'linear', symbol: 'BTCUSDT' }]);
    await send({ ttlSeconds: 120 });
    await send({ disarm: true });
    await new Promise((resolve) => setTimeout(resolve, 120_000 * TIME_SCALE + 500));
    expect(scheduler.fired).toEqual([]);
    expect(stack.emulator.openOrders()).toHaveLength(1);
  });
});
