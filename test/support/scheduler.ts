// A wire-level Amazon EventBridge Scheduler endpoint on loopback, so the real @aws-sdk/client-scheduler runs end
// to end in tests and local runs (point AWS_ENDPOINT_URL_SCHEDULER at `url`). It speaks REST-JSON as the
// Scheduler API reference describes it: `POST /schedules/{Name}` CreateSchedule, `PUT` UpdateSchedule, `GET`
// GetSchedule, `DELETE` DeleteSchedule (`?groupName=`), errors named in `x-amzn-errortype`
// (ResourceNotFoundException 404, ConflictException 409, ValidationException 400).
//
// It keeps the schedules and fires one-time `at()` schedules at their time: the target's EventBridge event
// (Source, DetailType, Input as detail) goes to `onFire`, the way the bus would hand it to the kill-switch
// rule; ActionAfterCompletion DELETE then removes the schedule. `timeScale` shortens the wait for a local
// demo (0.05: a schedule 120 s ahead fires after 6 s); the product's own rules stay as they are.
//
// Signature V4 is NOT verified: any Authorization header is accepted; a request without one is refused.
// `failNext` makes the next calls of an operation fail as Scheduler would (AccessDeniedException, a 500).

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsApiError, type Body, listen, parseBody, readBody } from './aws-endpoint.ts';

export interface StoredSchedule {
  Name: string;
  GroupName: string;
  Arn: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  FlexibleTimeWindow: { Mode: string; MaximumWindowInMinutes?: number };
  ActionAfterCompletion?: string;
  State?: string;
  Description?: string;
  Target: {
    Arn: string;
    RoleArn: string;
    Input?: string;
    EventBridgeParameters?: { Source: string; DetailType: string };
    RetryPolicy?: Record<string, number>;
    DeadLetterConfig?: { Arn?: string };
  };
  CreationDate: number;
  LastModificationDate: number;
}

export interface SchedulerCall {
  operation: 'CreateSchedule' | 'UpdateSchedule' | 'GetSchedule' | 'DeleteSchedule';
  name: string;
  /** When the call arrived (ms). */
  at: number;
  status: number;
}

export interface FiredSchedule {
  name: string;
  /** The time the schedule named, and when it fired (ms; scaled by `timeScale`). */
  scheduledFor: number;
  firedAt: number;
  event: ScheduledEvent;
  error?: string;
}

/** The EventBridge event the bus delivers to a rule's target for a schedule whose target is the bus. */
export interface ScheduledEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export interface SchedulerEndpoint {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** The schedule of that name (default group), as stored. */
  get(name: string): StoredSchedule | undefined;
  /** Every call received, in order, failed ones included. */
  readonly calls: readonly SchedulerCall[];
  /** Schedules that fired, in order. */
  readonly fired: readonly FiredSchedule[];
  /** Resolves with the next schedule to fire. */
  nextFire(timeoutMs: number): Promise<FiredSchedule>;
  /**
   * Holds the next call of `operation` for `ms` before handling it, as a slow connection would deliver it late
   * (a heartbeat still in flight).
   */
  hold(operation: SchedulerCall['operation'], ms: number): void;
  /** The next `times` calls of `operation` fail with that error, before they touch any schedule. */
  failNext(
    operation: SchedulerCall['operation'],
    failure: { status: number; type: string },
    times?: number,
  ): void;
  /** Forgets calls, fired schedules, failures to come and the schedules themselves (their timers too). */
  reset(): void;
  close(): Promise<void>;
}

export interface SchedulerOptions {
  port?: number;
  host?: string;
  region?: string;
  /** Multiplies the wait until a schedule's time (1: real time). */
  timeScale?: number;
  /** Receives the event when a schedule fires; a rejection is recorded on the fired schedule. */
  onFire?: (event: ScheduledEvent, schedule: StoredSchedule) => Promise<unknown> | unknown;
  now?: () => number;
}

const defaults = {
  port: 0,
  host: '127.0.0.1',
  region: 'us-east-1',
  timeScale: 1,
  onFire: () => undefined,
  now: Date.now,
} satisfies Required<SchedulerOptions>;

const ACCOUNT_ID = '123456789012';
const DEFAULT_GROUP = 'default';
const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;

/**
 * The time of a one-time schedule's `at(yyyy-mm-ddThh:mm:ss)` expression (UTC here: the product sets
 * ScheduleExpressionTimezone UTC), to the second, or undefined when it names no such moment. Written from
 * the Scheduler user guide ("Schedule types": one-time schedules), not taken from the product's own reader.
 */
export function atTime(expression: string): number | undefined {
  const match = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(expression);
  if (!match) return undefined;
  const fields = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = fields;
  const time = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 2026-02-30 over into March: a field out of its range reads back as another moment.
  const back = [
    time.getUTCFullYear(),
    time.getUTCMonth() + 1,
    time.getUTCDate(),
    time.getUTCHours(),
    time.getUTCMinutes(),
    time.getUTCSeconds(),
  ];
  return back.join() === fields.join() ? time.getTime() : undefined;
}

/** Starts the endpoint; resolves once it listens. */
export async function startScheduler(opts: SchedulerOptions = {}): Promise<SchedulerEndpoint> {
  const options = { ...defaults, ...opts };
  const schedules = new Map<string, StoredSchedule>();
  const timers = new Map<string, NodeJS.Timeout>();
  const calls: SchedulerCall[] = [];
  const fired: FiredSchedule[] = [];
  let waiters: ((fire: FiredSchedule) => void)[] = [];
  const holds = new Map<SchedulerCall['operation'], number>();
  const failures: { operation: SchedulerCall['operation']; status: number; type: string }[] = [];
  const key = (group: string, name: string) => `${group}/${name}`;

  function arm(schedule: StoredSchedule): void {
    const id = key(schedule.GroupName, schedule.Name);
    clearTimeout(timers.get(id));
    timers.delete(id);
    const time = atTime(schedule.ScheduleExpression);
    if (time === undefined || schedule.State === 'DISABLED') return;
    const delay = Math.max(0, (time - options.now()) * options.timeScale);
    timers.set(
      id,
      setTimeout(() => void fire(schedule, time), delay),
    );
  }

  async function fire(schedule: StoredSchedule, scheduledFor: number): Promise<void> {
    const id = key(schedule.GroupName, schedule.Name);
    timers.delete(id);
    const params = schedule.Target.EventBridgeParameters;
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': params?.DetailType ?? 'Scheduled Event',
      source: params?.Source ?? 'aws.scheduler',
      account: ACCOUNT_ID,
      time: new Date(options.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: options.region,
      resources: [],
      detail: JSON.parse(schedule.Target.Input ?? '{}'),
    };
    if (schedule.ActionAfterCompletion === 'DELETE' && schedules.get(id) === schedule) schedules.delete(id);
    const record: FiredSchedule = { name: schedule.Name, scheduledFor, firedAt: options.now(), event };
    try {
      await options.onFire(event, schedule);
    } catch (error) {
      record.error = (error as Error).message;
    }
    fired.push(record);
    const pending = waiters;
    waiters = [];
    for (const resolve of pending) resolve(record);
  }

  function validate(
    body: Body,
  ): Omit<StoredSchedule, 'Name' | 'GroupName' | 'Arn' | 'CreationDate' | 'LastModificationDate'> {
    const expression = body.ScheduleExpression;
    if (typeof expression !== 'string' || !/^(at|rate|cron)\(.+\)$/.test(expression))
      throw new AwsApiError(400, 'ValidationException', 'Invalid Schedule Expression');
    if (expression.startsWith('at(') && atTime(expression) === undefined)
      throw new AwsApiError(400, 'ValidationException', `Invalid Schedule Expression ${expression}`);
    const window = body.FlexibleTimeWindow as StoredSchedule['FlexibleTimeWindow'] | undefined;
    if (!window || !['OFF', 'FLEXIBLE'].includes(window.Mode))
      throw new AwsApiError(400, 'ValidationException', 'FlexibleTimeWindow.Mode must be OFF or FLEXIBLE');
    const target = body.Target as StoredSchedule['Target'] | undefined;
    if (!target || typeof target.Arn !== 'string' || typeof target.RoleArn !== 'string')
      throw new AwsApiError(400, 'ValidationException', 'Target needs Arn and RoleArn');
    // Scheduler's dead-letter queue is an SQS queue, named by ARN.
    const dlq = target.DeadLetterConfig;
    if (dlq !== undefined && !(typeof dlq.Arn === 'string' && /^arn:aws[a-z-]*:sqs:/.test(dlq.Arn)))
      throw new AwsApiError(
        400,
        'ValidationException',
        'Target.DeadLetterConfig.Arn must be an SQS queue ARN',
      );
    if (target.Input !== undefined) {
      try {
        JSON.parse(target.Input);
      } catch {
        throw new AwsApiError(400, 'ValidationException', 'Target.Input is not valid JSON');
      }
    }
    const after = body.ActionAfterCompletion;
    if (after !== undefined && after !== 'NONE' && after !== 'DELETE')
      throw new AwsApiError(400, 'ValidationException', 'ActionAfterCompletion must be NONE or DELETE');
    return {
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: body.ScheduleExpressionTimezone as string | undefined,
      FlexibleTimeWindow: window,
      ActionAfterCompletion: after as string | undefined,
      State: (body.State as string | undefined) ?? 'ENABLED',
      Description: body.Description as string | undefined,
      Target: target,
    };
  }

  function handleOperation(
    method: string,
    name: string,
    group: string,
    body: Body,
  ): [SchedulerCall['operation'], Body] {
    const id = key(group, name);
    const existing = schedules.get(id);
    const notFound = () =>
      new AwsApiError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
    const arn = `arn:aws:scheduler:${options.region}:${ACCOUNT_ID}:schedule/${group}/${name}`;
    const now = options.now() / 1000;
    switch (method) {
      case 'POST': {
        if (existing) throw new AwsApiError(409, 'ConflictException', `Schedule ${name} already exists.`);
        const schedule = {
          ...validate(body),
          Name: name,
          GroupName: group,
          Arn: arn,
          CreationDate: now,
          LastModificationDate: now,
        };
        schedules.set(id, schedule);
        arm(schedule);
        return ['CreateSchedule', { ScheduleArn: arn }];
      }
      case 'PUT': {
        if (!existing) throw notFound();
        const schedule = {
          ...validate(body),
          Name: name,
          GroupName: group,
          Arn: arn,
          CreationDate: existing.CreationDate,
          LastModificationDate: now,
        };
        schedules.set(id, schedule);
        arm(schedule);
        return ['UpdateSchedule', { ScheduleArn: arn }];
      }
      case 'GET':
        if (!existing) throw notFound();
        return ['GetSchedule', { ...existing }];
      case 'DELETE':
        if (!existing) throw notFound();
        schedules.delete(id);
        clearTimeout(timers.get(id));
        timers.delete(id);
        return ['DeleteSchedule', {}];
      default:
        throw new AwsApiError(405, 'UnknownOperationException', `Unsupported method ${method}`);
    }
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const reply = (status: number, body: Body, errorType?: string) => {
      response.writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-requestid': randomUUID(),
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      response.end(JSON.stringify(body));
    };
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = /^\/schedules\/([^/]+)$/.exec(url.pathname);
    const name = match ? decodeURIComponent(match[1] as string) : '';
    const method = request.method ?? 'GET';
    const call: SchedulerCall = { operation: 'GetSchedule', name, at: options.now(), status: 200 };
    try {
      const raw = await readBody(request);
      if (request.headers.authorization === undefined)
        throw new AwsApiError(403, 'UnrecognizedClientException', 'Missing Authentication Token');
      if (!match || !NAME.test(name))
        throw new AwsApiError(400, 'ValidationException', `Invalid schedule path ${url.pathname}`);
      const body = parseBody(raw, 'ValidationException');
      const delay = holds.get(operationOf(method));
      if (delay !== undefined) {
        holds.delete(operationOf(method));
        await new Promise((resolve) => setTimeout(resolve, delay));
        call.at = options.now();
      }
      const group = (
        method === 'GET' || method === 'DELETE' ? url.searchParams.get('groupName') : body.GroupName
      ) as string | null | undefined;
      const planned = failures.findIndex((f) => f.operation === operationOf(method));
      if (planned >= 0) {
        const [failure] = failures.splice(planned, 1) as [(typeof failures)[number]];
        throw new AwsApiError(failure.status, failure.type, `Injected ${failure.type}`);
      }
      const [operation, answer] = handleOperation(method, name, group || DEFAULT_GROUP, body);
      call.operation = operation;
      reply(200, answer);
    } catch (error) {
      const failure =
        error instanceof AwsApiError
          ? error
          : new AwsApiError(500, 'InternalServerException', 'Test endpoint failure');
      call.operation = operationOf(method);
      call.status = failure.status;
      reply(failure.status, { Message: failure.message }, failure.type);
    }
    calls.push(call);
  }

  const operationOf = (method: string): SchedulerCall['operation'] =>
    (({ POST: 'CreateSchedule', PUT: 'UpdateSchedule', DELETE: 'DeleteSchedule' }) as const)[
      method as 'POST'
    ] ?? 'GetSchedule';

  const server = await listen(options.host, options.port, handle);

  const clearTimers = () => {
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
  };
  return {
    url: server.url,
    get: (name) => schedules.get(key(DEFAULT_GROUP, name)),
    calls,
    fired,
    nextFire: (timeoutMs) =>
      new Promise<FiredSchedule>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no schedule fired within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push((fire) => {
          clearTimeout(timer);
          resolve(fire);
        });
      }),
    hold: (operation, ms) => {
      holds.set(operation, ms);
    },
    failNext: (operation, failure, times = 1) => {
      for (let i = 0; i < times; i++) failures.push({ operation, ...failure });
    },
    reset: () => {
      clearTimers();
      failures.length = 0;
      holds.clear();
      schedules.clear();
      calls.length = 0;
      fired.length = 0;
    },
    close: () => {
      clearTimers();
      return server.close();
    },
  };
}
