// The dead man's switch schedule on EventBridge Scheduler: one one-time `at()` schedule whose target is the
// EventBridge bus, so that when it fires the kill-switch event takes the same rule, retry policy, dead-letter
// queue and alarms as every other kill switch. Every call ends by the invocation's deadline (or a fixed limit
// when there is none): a Scheduler that hangs is answered 503, never held to the Lambda timeout. The SDK is
// loaded on first use: the cancel functions share this composition root and must not pay for it at cold start.

import type {
  CreateScheduleCommandInput,
  SchedulerClient,
  UpdateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { type ArmPlan, type DeadMansSwitchSchedule, parseAtExpression } from '../cancel/dead-mans-switch.ts';
import { ConfigError, SchedulerError, SchedulerUnavailableError } from '../errors.ts';

/** The one method of the SDK client this adapter uses (tests pass their own). */
export type SchedulerSender = Pick<SchedulerClient, 'send'>;

/** Where the dead man's switch stands, as the Scheduler has it. */
export interface ScheduleStatus {
  /** True when a schedule exists and is enabled: it will fire unless a heartbeat moves it. */
  armed: boolean;
  /** When it fires (ISO; it fires within the following minute); null when not armed. */
  firesAt: string | null;
  /** The Scheduler's state (ENABLED, DISABLED) when a schedule exists. */
  state?: string;
  /** The reason its kill switch will carry. */
  reason?: string;
}

export interface EventBridgeScheduleOptions {
  /** Defaults to the SDK client, which follows the standard AWS_* endpoint and region settings. */
  client?: SchedulerSender;
  name: string;
  groupName: string;
  /** The event bus the kill-switch rule listens on. */
  busArn: string;
  /** The role the scheduler assumes to put the event (it may do nothing else). */
  roleArn: string;
  /** Where the scheduler drops the event when the bus still refuses it after every retry (SQS). */
  deadLetterArn?: string;
  source: string;
  detailType: string;
  /** The clock deadlines are measured by (the app's). */
  now?: () => number;
}

const defaults = {
  maxAttempts: 3,
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 3000,
  /** No call waits longer than this, deadline or not (tools, tests). */
  callLimitMs: 5000,
  /** Retries by the scheduler itself when the bus refuses the event. */
  targetRetries: 10,
  targetMaxEventAgeSeconds: 3600,
};

type Sdk = typeof import('@aws-sdk/client-scheduler');

/** Error types that say the Scheduler could not answer in time, or kept throttling or failing: retry later. */
const UNAVAILABLE = new Set([
  'ThrottlingException',
  'InternalServerException',
  'ServiceUnavailableException',
  'TimeoutError',
  'AbortError',
  'RequestTimeout',
]);

export class EventBridgeSchedule implements DeadMansSwitchSchedule {
  /** Epoch ms by which every call must have ended: the current invocation's deadline, set when it starts. */
  deadline: number | undefined;
  private client: SchedulerSender | undefined;
  private sdk: Promise<Sdk> | undefined;
  private readonly options: EventBridgeScheduleOptions;

  constructor(options: EventBridgeScheduleOptions) {
    this.options = options;
    this.client = options.client;
  }

  /** Moves the schedule (the usual case, one call); creates it when there is none, e.g. after it fired. */
  async arm(plan: ArmPlan): Promise<{ created: boolean }> {
    const input = this.scheduleInput(plan);
    const sdk = await this.load();
    try {
      await this.send('UpdateSchedule', new sdk.UpdateScheduleCommand(input), ['ResourceNotFoundException']);
      return { created: false };
    } catch (error) {
      if (!isNamed(error, 'ResourceNotFoundException')) throw error;
    }
    try {
      await this.send('CreateSchedule', new sdk.CreateScheduleCommand(input), ['ConflictException']);
      return { created: true };
    } catch (error) {
      if (!isNamed(error, 'ConflictException')) throw error;
      // Another heartbeat created it meanwhile: move that one.
      await this.send('UpdateSchedule', new sdk.UpdateScheduleCommand(input));
      return { created: false };
    }
  }

  async disarm(): Promise<boolean> {
    const sdk = await this.load();
    const { name: Name, groupName: GroupName } = this.options;
    try {
      await this.send('DeleteSchedule', new sdk.DeleteScheduleCommand({ Name, GroupName }), [
        'ResourceNotFoundException',
      ]);
      return true;
    } catch (error) {
      if (isNamed(error, 'ResourceNotFoundException')) return false;
      throw error;
    }
  }

  /** The schedule as it stands (GetSchedule): armed and when it fires, or not armed. Ends by `deadline`. */
  async read(deadline?: number): Promise<ScheduleStatus> {
    const sdk = await this.load();
    const { name: Name, groupName: GroupName } = this.options;
    let schedule: { ScheduleExpression?: string; State?: string; Target?: { Input?: string } };
    try {
      schedule = (await this.send(
        'GetSchedule',
        new sdk.GetScheduleCommand({ Name, GroupName }),
        ['ResourceNotFoundException'],
        deadline,
      )) as typeof schedule;
    } catch (error) {
      if (isNamed(error, 'ResourceNotFoundException')) return { armed: false, firesAt: null };
      throw error;
    }
    const time = parseAtExpression(schedule.ScheduleExpression ?? '');
    const armed = schedule.State !== 'DISABLED' && time !== undefined;
    let reason: string | undefined;
    try {
      const detail = JSON.parse(schedule.Target?.Input ?? '{}') as { reason?: unknown };
      reason = typeof detail.reason === 'string' ? detail.reason : undefined;
    } catch {
      // Not ours to judge: the status still says whether it is armed.
    }
    return {
      armed,
      firesAt: armed && time ? time.toISOString() : null,
      ...(schedule.State ? { state: schedule.State } : {}),
      ...(reason ? { reason } : {}),
    };
  }

  private scheduleInput(plan: ArmPlan): CreateScheduleCommandInput & UpdateScheduleCommandInput {
    const { name, groupName, busArn, roleArn, deadLetterArn, source, detailType } = this.options;
    if (!busArn) throw new ConfigError('DEAD_MANS_SWITCH_BUS_ARN is not set');
    if (!roleArn) throw new ConfigError('DEAD_MANS_SWITCH_ROLE_ARN is not set');
    return {
      Name: name,
      GroupName: groupName,
      ScheduleExpression: plan.expression,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Description: `bybit-cancel dead man's switch: ${plan.detail.reason}`.slice(0, 512),
      Target: {
        Arn: busArn,
        RoleArn: roleArn,
        Input: JSON.stringify(plan.detail),
        EventBridgeParameters: { Source: source, DetailType: detailType },
        RetryPolicy: {
          MaximumRetryAttempts: defaults.targetRetries,
          MaximumEventAgeInSeconds: defaults.targetMaxEventAgeSeconds,
        },
        // A kill switch the bus never took must not vanish: the failure queue's alarm hears of it.
        ...(deadLetterArn ? { DeadLetterConfig: { Arn: deadLetterArn } } : {}),
      },
    };
  }

  private load(): Promise<Sdk> {
    this.sdk ??= import('@aws-sdk/client-scheduler');
    return this.sdk;
  }

  /**
   * Sends a command by the deadline (`deadline`, else the invocation's); an SDK failure becomes a
   * SchedulerError (SchedulerUnavailableError when it did not answer in time or kept throttling), except the
   * ones the caller handles.
   */
  private async send(
    operation: string,
    command: unknown,
    expected: string[] = [],
    deadline: number | undefined = this.deadline,
  ): Promise<unknown> {
    const sdk = await this.load();
    this.client ??= new sdk.SchedulerClient({
      maxAttempts: defaults.maxAttempts,
      // Without these a hung connection would hold the heartbeat; the SDK only warns unless told to throw.
      requestHandler: {
        connectionTimeout: defaults.connectionTimeoutMs,
        requestTimeout: defaults.requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
    });
    const clock = this.options.now ?? Date.now;
    const now = clock();
    const until = Math.min(deadline ?? Number.POSITIVE_INFINITY, now + defaults.callLimitMs);
    try {
      const abortSignal = AbortSignal.timeout(Math.max(1, until - now));
      // biome-ignore lint/suspicious/noExplicitAny: the client's send is overloaded per command type
      return await this.client.send(command as any, { abortSignal });
    } catch (cause) {
      const name = (cause as Error)?.name ?? 'Error';
      if (expected.includes(name)) throw cause;
      if (UNAVAILABLE.has(name) || clock() >= until) {
        const why =
          UNAVAILABLE.has(name) && !['TimeoutError', 'AbortError', 'RequestTimeout'].includes(name)
            ? `${this.options.name} failed (${name}); retries were exhausted`
            : `${this.options.name}: no answer from EventBridge Scheduler within ${Math.max(0, until - now)} ms`;
        throw new SchedulerUnavailableError(operation, why, { cause });
      }
      throw new SchedulerError(operation, `${this.options.name} failed (${name})`, { cause });
    }
  }
}

function isNamed(error: unknown, name: string): boolean {
  return (error as Error | undefined)?.name === name;
}
