// The dead man's switch in the local run: an EventBridge Scheduler endpoint on loopback that keeps the
// schedule the heartbeat function moves and, when its time comes, delivers the kill-switch event to the local
// cancelAll function (what the bus and the kill-switch rule do in AWS). Local time runs faster: the endpoint
// waits TIME_SCALE of the real delay, so the shortest ttl the product allows (120 s) fires after 6 s.
// The demo step arms it, sends one more heartbeat, stops, and watches the kill switch clear the book (and
// halt it: the step resets the halt at its end).

import { type FiredSchedule, type SchedulerEndpoint, startScheduler } from '../../test/support/scheduler.ts';
import { newStep, type StepOutcome } from './demo.ts';
import type { LocalExchange } from './exchange.ts';
import { type HaltContext, haltLines, resetHalts } from './halt-step.ts';
import { type Invocation, invokeFunction } from './invoke.ts';
import { printMessages } from './reporting.ts';
import { postSigned, signHeaders } from './webhook.ts';

/** 120 s of schedule time pass in 6 s here; the product's own 120 s minimum stays. */
export const TIME_SCALE = 0.05;
const DEMO_TTL_SECONDS = 120;
const HTTP_TIMEOUT_MS = 30_000;
const INVOKE_TIMEOUT_MS = 90_000;
/** The scaled wait, plus the time a kill switch takes, plus room for a loaded machine. */
const FIRE_TIMEOUT_MS = DEMO_TTL_SECONDS * 1000 * TIME_SCALE + 60_000;
/** What the schedule's target and role would be called in AWS; the local endpoint only keeps them. */
export const LOCAL_TARGETS = {
  DEAD_MANS_SWITCH_BUS_ARN: 'arn:aws:events:ap-southeast-1:000000000000:event-bus/default',
  DEAD_MANS_SWITCH_ROLE_ARN: 'arn:aws:iam::000000000000:role/bybit-cancel-local-dead-mans-switch-scheduler',
  DEAD_MANS_SWITCH_DLQ_ARN: 'arn:aws:sqs:ap-southeast-1:000000000000:bybit-cancel-local-failures',
};

export interface LocalScheduler {
  endpoint: SchedulerEndpoint;
  /** The cancelAll invocations the schedule made, in order. */
  deliveries: Invocation[];
  /** Called after each delivery, with the schedule's name (set by whoever should say that it fired). */
  onDelivered?: (name: string, delivery: Invocation) => void;
  close(): Promise<void>;
}

/** Starts the Scheduler endpoint; a fired schedule invokes `functionName` at `lambdaUrl` with its event. */
export async function startLocalScheduler(
  lambdaUrl: string,
  functionName: string,
  region: string,
): Promise<LocalScheduler> {
  const deliveries: Invocation[] = [];
  const scheduler: LocalScheduler = {
    endpoint: await startScheduler({
      region,
      timeScale: TIME_SCALE,
      onFire: async (event, schedule) => {
        const delivery = await invokeFunction(lambdaUrl, functionName, event, INVOKE_TIMEOUT_MS);
        deliveries.push(delivery);
        scheduler.onDelivered?.(schedule.Name, delivery);
      },
    }),
    deliveries,
    close: () => scheduler.endpoint.close(),
  };
  return scheduler;
}

export interface DeadMansSwitchDemo extends HaltContext {
  exchange: LocalExchange;
  scheduler: LocalScheduler;
  httpUrl: string;
}

/** The demo step: arm, beat once more, go quiet, and check the kill switch it fires against the emulator. */
export async function deadMansSwitchStep(ctx: DeadMansSwitchDemo, n: string): Promise<StepOutcome> {
  const { report, exchange, scheduler } = ctx;
  const { outcome, check } = newStep("dead man's switch");
  try {
    const seeded = exchange.seed();
    const body = JSON.stringify({ ttlSeconds: DEMO_TTL_SECONDS, reason: 'demo bot' });
    report.line(`${n} Dead man's switch: a bot sends POST /heartbeat ${body}, then goes quiet`);
    report.line(
      `      ${seeded} new open orders; local time runs ×${1 / TIME_SCALE}: ${DEMO_TTL_SECONDS} s of silence pass in ${DEMO_TTL_SECONDS * TIME_SCALE} s`,
    );
    const beat = () =>
      postSigned(
        `${ctx.httpUrl}/heartbeat`,
        body,
        signHeaders(exchange.webhookSecret, '/heartbeat', body),
        HTTP_TIMEOUT_MS,
      );
    const mark = ctx.reporting.mark();
    const fired = scheduler.endpoint.nextFire(FIRE_TIMEOUT_MS);
    fired.catch(() => undefined);
    const first = await report.wait('      first heartbeat (arms it)', beat);
    report.line(`      → ${first.status} armed ${first.body.armed}, fires at ${first.body.firesAt}`);
    check(
      first.status === 200 && first.body.armed === true,
      `the heartbeat got HTTP ${first.status}: ${JSON.stringify(first.body)}`,
    );
    const second = await report.wait('      second heartbeat (moves it)', beat);
    report.line(`      → ${second.status} armed ${second.body.armed}, fires at ${second.body.firesAt}`);
    check(second.status === 200, `the second heartbeat got HTTP ${second.status}`);
    const calls = scheduler.endpoint.calls.map((c) => `${c.operation} ${c.status}`).join(', ');
    report.line(`      Scheduler calls: ${calls}`);

    const fire: FiredSchedule = await report.wait(
      '      no more heartbeats: waiting for the schedule to fire',
      () => fired,
    );
    const delivery = scheduler.deliveries.at(-1);
    const result = delivery?.ok ? delivery.result : {};
    if (!delivery?.ok)
      check(false, `the kill switch failed: ${delivery ? delivery.errorMessage : 'not delivered'}`);
    report.line(
      `      → fired ${fire.name}; the kill switch (origin ${result.origin}) cancelled ${result.cancelled}, remaining ${result.remaining}, ok ${result.ok}`,
    );
    report.line(`      reason: ${result.reason}`);
    check(result.origin === 'deadMansSwitch', "the kill switch does not name the dead man's switch");
    check(
      String(result.reason).startsWith("dead man's switch: no heartbeat since"),
      'the reason does not say when the last heartbeat came',
    );
    const left = exchange.emulator.openOrders().length;
    report.line(
      `      emulator: ${left} open orders; the schedule ${scheduler.endpoint.get(fire.name) ? 'is STILL THERE' : 'deleted itself'}`,
    );
    check(left === 0, `${left} order(s) still open after the dead man's switch fired`);
    outcome.cancelled = seeded - left;
    for (const line of haltLines(result)) report.line(line);
    const received = ctx.reporting.messagesSince(mark);
    printMessages(report, received);
    check(
      received.messages.length === 1 && /dead man’s switch/.test(received.messages[0]?.message ?? ''),
      "no message says the dead man's switch fired",
    );
    const reset = await resetHalts(ctx);
    check(reset?.ok === true, "the reset after the dead man's switch failed");
  } catch (error) {
    check(false, (error as Error).message);
  }
  outcome.openAfter = exchange.emulator.openOrders().length;
  for (const problem of outcome.problems) report.line(`      ✘ ${problem}`);
  return outcome;
}
