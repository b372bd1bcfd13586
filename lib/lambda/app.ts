// The composition root and the one invocation flow both handlers share: read the trigger, give the work a
// deadline inside the Lambda's remaining time, and, for HTTP, authenticate and validate before anything
// touches the exchange or its secret.

import type { Context } from 'aws-lambda';
import { IpBudget } from '../bybit/ip-budget.ts';
import type { DeadMansSwitchSchedule } from '../cancel/dead-mans-switch.ts';
import { Exchange } from '../cancel/exchange.ts';
import { type Clock, systemClock } from '../clock.ts';
import { createLogger, describeError, type Logger } from '../log.ts';
import { type Config, loadConfig } from './config.ts';
import { decodeBody, errorResponse, parseJsonBody, resultResponse } from './http.ts';
import { EventBridgeSchedule, type SchedulerSender } from './scheduler.ts';
import { exchangeCredentials, parseWebhookSecret, type SecretReader, SecretStore } from './secrets.ts';
import { type HttpTrigger, readTrigger, type Trigger } from './triggers.ts';
import { authenticateWebhook } from './webhook-auth.ts';

export interface App {
  config: Config;
  logger: Logger;
  /** Writes one raw line to the function's log (CloudWatch Logs): JSON logs and EMF metrics. */
  write: (line: string) => void;
  secrets: SecretStore;
  exchange: Exchange;
  /** The dead man's switch schedule (the heartbeat function); nothing is loaded until it is used. */
  deadMansSwitch: DeadMansSwitchSchedule;
  clock: Clock;
  /** Shared by every request this container sends to Bybit; a 403 closes it for everyone. */
  ipBudget: IpBudget;
}

export interface AppOverrides {
  env?: Record<string, string | undefined>;
  secretsClient?: SecretReader;
  schedulerClient?: SchedulerSender;
  fetch?: typeof globalThis.fetch;
  clock?: Clock;
  write?: (line: string) => void;
}

/** Builds the app from the environment; every side effect can be replaced (tests pass fakes). */
export function createApp(overrides: AppOverrides = {}): App {
  const config = loadConfig(overrides.env);
  const clock = overrides.clock ?? systemClock;
  const write = overrides.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logger = createLogger({ level: config.logLevel, service: 'bybit-cancel', write });
  const secrets = new SecretStore({
    client: overrides.secretsClient,
    ttlMs: config.secretCacheTtlMs,
    now: clock.now,
  });
  // One IP budget for the container: every client of every account, every operation, signed or not.
  const ipBudget = new IpBudget({
    requestsPer5s: config.ipRequestsPer5s,
    now: clock.now,
    sleep: clock.sleep,
  });
  const exchange = new Exchange({
    credentials: exchangeCredentials(secrets, config.bybitSecretId),
    client: {
      baseUrl: config.baseUrl,
      recvWindow: config.recvWindow,
      requestTimeoutMs: config.requestTimeoutMs,
      maxAttempts: config.maxAttempts,
      fetch: overrides.fetch,
      now: clock.now,
      sleep: clock.sleep,
      ipBudget,
    },
  });
  const deadMansSwitch = new EventBridgeSchedule({
    client: overrides.schedulerClient,
    name: config.deadMansSwitch.scheduleName,
    groupName: config.deadMansSwitch.groupName,
    busArn: config.deadMansSwitch.busArn,
    roleArn: config.deadMansSwitch.roleArn,
    source: config.killSwitch.source,
    detailType: config.killSwitch.detailType,
  });
  return { config, logger, write, secrets, exchange, deadMansSwitch, clock, ipBudget };
}

let shared: App | undefined;

/** The app of this Lambda container: built on first use, kept across warm invocations. */
export function currentApp(): App {
  shared ??= createApp();
  return shared;
}

/** API Gateway stops waiting after 30 s: an HTTP answer must be ready before that. */
const HTTP_BUDGET_MS = 28_000;

export interface Invocation {
  app: App;
  /** Epoch ms by which the work must be done. */
  deadline: number;
}

type Work<T> = (input: T, run: Invocation) => Promise<unknown>;

/** The triggers a function serves; a trigger without a route is refused. */
export interface Routes {
  request: Work<unknown>;
  schedule?: Work<Record<string, unknown>>;
  killSwitch?: Work<unknown>;
}

/** The Lambda entry point for a set of routes (wrapped with middy by each handler). */
export function route(routes: Routes, app: () => App = currentApp) {
  return async (event: unknown, context: Context): Promise<unknown> => {
    const current = app();
    const trigger = readTrigger(event, current.config);
    current.logger.append({ trigger: trigger.type });
    const run = { app: current, deadline: deadlineOf(current, context, trigger) };
    switch (trigger.type) {
      case 'http':
        return serveHttp(trigger, run, routes.request, context.awsRequestId);
      case 'direct':
        return routes.request(trigger.body, run);
      case 'schedule':
      case 'killSwitch': {
        const work = routes[trigger.type] as Work<unknown> | undefined;
        if (!work) throw new Error(`this function does not handle ${trigger.type} events`);
        return work(trigger.type === 'schedule' ? trigger.input : trigger.detail, run);
      }
    }
  };
}

/** Authenticated, validated, answered in JSON: a caller's mistake is a 4xx, never an exchange call. */
async function serveHttp(trigger: HttpTrigger, run: Invocation, work: Work<unknown>, requestId: string) {
  const { config, secrets, logger, clock } = run.app;
  try {
    const body = decodeBody(trigger, config.maxBodyBytes);
    const webhook = parseWebhookSecret(config.webhookSecretId, await secrets.getJson(config.webhookSecretId));
    const how = authenticateWebhook(trigger.headers, body, webhook, {
      maxSkewMs: config.webhookMaxSkewMs,
      passphraseMode: config.webhookPassphraseMode,
      now: clock.now,
    });
    const request = parseJsonBody(body);
    if (how === 'passphrase') delete (request as { passphrase?: unknown }).passphrase;
    const response = resultResponse(await work(request, run));
    logger.info('request served', { statusCode: response.statusCode, authenticatedBy: how });
    return response;
  } catch (error) {
    const response = errorResponse(error, requestId);
    const level = response.statusCode >= 500 ? 'error' : 'warn';
    logger[level]('request refused', { statusCode: response.statusCode, ...describeError(error) });
    return response;
  }
}

function deadlineOf(app: App, context: Context, trigger: Trigger): number {
  const remaining = context.getRemainingTimeInMillis?.() ?? HTTP_BUDGET_MS;
  let budget = remaining - app.config.deadlineMarginMs;
  if (trigger.type === 'http') budget = Math.min(budget, HTTP_BUDGET_MS);
  return app.clock.now() + Math.max(0, budget);
}
