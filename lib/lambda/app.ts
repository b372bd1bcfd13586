// The composition root and the one invocation flow every handler shares: read the trigger, give the work a
// deadline inside the Lambda's remaining time, and, for HTTP, authenticate, take the signature (each is served
// once: replay.ts) and validate before anything touches the exchange or its secret; once the work has its final
// report, log, record and tell (reporting.ts), and keep the account names the work read (accounts.ts).

import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { IpBudget } from '../bybit/ip-budget.ts';
import type { Transport } from '../bybit/transport.ts';
import { discoverCoverage } from '../cancel/coverage.ts';
import { Exchange } from '../cancel/exchange.ts';
import type { HaltSetup } from '../cancel/halt.ts';
import { type Clock, systemClock } from '../clock.ts';
import { AuthenticationError, DuplicateRequestError, SignatureMismatchError } from '../errors.ts';
import { createLogger, describeError, type Logger } from '../log.ts';
import { AccountNames } from './accounts.ts';
import {
  type Config,
  initializationType,
  readSettings,
  type SettingProblem,
  type SettingsReader,
  settingsFor,
} from './config.ts';
import { DrillFunction } from './drill-function.ts';
import { LambdaFunctions, type LambdaSender } from './functions.ts';
import { StateHaltStore } from './halts.ts';
import { decodeBody, errorResponse, parseJsonBody, resultResponse, scopeErrors } from './http.ts';
import { type EventBridgeSender, KillSwitchEvents } from './kill-switch-event.ts';
import { type Operation, staleSecretLine } from './metrics.ts';
import { type FetchLike, Notifier, type SnsSender } from './notify.ts';
import { type Claim, releaseSignature, takeSignature } from './replay.ts';
import { type Aftermath, afterRun } from './reporting.ts';
import { EventBridgeSchedule, type SchedulerSender } from './scheduler.ts';
import {
  exchangeCredentials,
  masterKey,
  parseWebhookSecret,
  type SecretReader,
  SecretStore,
} from './secrets.ts';
import { type StateClient, StateStore } from './state.ts';
import { DRILL_ACTION, type HttpTrigger, readTrigger, type Trigger } from './triggers.ts';
import { type Authentication, authenticateWebhook, sourceAllowlist } from './webhook-auth.ts';

export interface App {
  config: Config;
  /** Settings that could not be read (their defaults are in place): each operation decides (settingsFor). */
  settingProblems: SettingProblem[];
  logger: Logger;
  /** Writes one raw line to the function's log (CloudWatch Logs): JSON logs and EMF metrics. */
  write: (line: string) => void;
  secrets: SecretStore;
  exchange: Exchange;
  /** The dead man's switch schedule (the heartbeat function); nothing is loaded until it is used. */
  deadMansSwitch: EventBridgeSchedule;
  /** The drill function, which a webhook drill is handed to; nothing is loaded until it is used. */
  drillFunction: DrillFunction;
  /** The state table (STATE_TABLE); nothing is loaded until it is used. */
  state: StateStore;
  /** The halt records, in the state table (lib/lambda/halts.ts). */
  halts: StateHaltStore;
  /** The reports topic and Telegram; nothing is loaded until a message is sent. */
  notifier: Notifier;
  /** What Telegram calls are sent with (the global fetch). */
  fetch: FetchLike;
  /** The stack's functions, invoked by name (Telegram commands); nothing is loaded until one is invoked. */
  functions: LambdaFunctions;
  /** The kill-switch event on the default bus (Telegram's Kill now); nothing is loaded until one is put. */
  killSwitchEvents: KillSwitchEvents;
  /** What the current invocation's aftermath could not do (for its metrics); reset when one starts. */
  reported: Aftermath;
  clock: Clock;
  /** Shared by every request this container sends to Bybit; a 403 closes it for everyone. */
  ipBudget: IpBudget;
  /** Throws SourceNotAllowedError unless the address is in WEBHOOK_ALLOWED_SOURCE_IPS (or that is empty). */
  admitSource: (sourceIp: string | undefined) => void;
  /** When this container last re-read the webhook key after a signature mismatch. */
  webhookRereadAt: number;
  /** The exchange secret's account names as last parsed, kept in the state table after a run. */
  accountNames: AccountNames;
  /** Logs a state-table call that failed and counts it in this invocation's StateFailures (never throws). */
  stateFailed: (what: string, error: unknown) => void;
}

export interface AppOverrides {
  env?: Record<string, string | undefined>;
  secretsClient?: SecretReader;
  schedulerClient?: SchedulerSender;
  lambdaClient?: LambdaSender;
  stateClient?: StateClient;
  snsClient?: SnsSender;
  eventBridgeClient?: EventBridgeSender;
  /** What Telegram messages are sent with (the global fetch). */
  fetch?: FetchLike;
  transport?: Transport;
  clock?: Clock;
  write?: (line: string) => void;
}

/** Builds the app from the environment; every side effect can be replaced (tests pass fakes). */
export function createApp(overrides: AppOverrides = {}): App {
  const { config, problems: settingProblems } = readSettings(overrides.env);
  const clock = overrides.clock ?? systemClock;
  const write = overrides.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logger = createLogger({ level: config.logLevel, service: 'bybit-cancel', write });
  const secrets = new SecretStore({
    client: overrides.secretsClient,
    ttlMs: config.secretCacheTtlMs,
    now: clock.now,
    onStale: ({ secretId, ageMs, error }) => {
      logger.warn('secret read failed: the value read before is served', {
        secretId,
        ageMs,
        ...describeError(error),
      });
      write(staleSecretLine(config.metricsNamespace, clock.now()));
    },
  });
  // One IP budget for the container: every client of every account, every operation, signed or not.
  const ipBudget = new IpBudget({
    requestsPer5s: config.ipRequestsPer5s,
    now: clock.now,
    sleep: clock.sleep,
  });
  const accountNames = new AccountNames();
  const exchange = new Exchange({
    credentials: exchangeCredentials(secrets, config.bybitSecretId, (names) => accountNames.parsed(names)),
    // Read only when a halt first needs it.
    ...(config.haltMasterSecretId ? { master: masterKey(secrets, config.haltMasterSecretId) } : {}),
    client: {
      baseUrl: config.baseUrl,
      recvWindow: config.recvWindow,
      requestTimeoutMs: config.requestTimeoutMs,
      maxAttempts: config.maxAttempts,
      transport: overrides.transport,
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
    deadLetterArn: config.deadMansSwitch.deadLetterArn,
    source: config.killSwitch.source,
    detailType: config.killSwitch.detailType,
    now: clock.now,
  });
  const functions = new LambdaFunctions({ client: overrides.lambdaClient, now: clock.now });
  const drillFunction = new DrillFunction(functions, config.drill.functionName);
  const admitSource = sourceAllowlist(config.webhookAllowedSourceIps);
  const state = new StateStore({
    tableName: config.stateTable,
    client: overrides.stateClient,
    now: clock.now,
  });
  const notifier = new Notifier({
    topicArn: config.notify.topicArn,
    telegramSecretId: config.notify.telegramSecretId,
    telegramApiUrl: config.notify.telegramApiUrl,
    timeoutMs: config.notify.timeoutMs,
    secrets,
    snsClient: overrides.snsClient,
    fetch: overrides.fetch,
    now: clock.now,
  });
  const killSwitchEvents = new KillSwitchEvents({
    client: overrides.eventBridgeClient,
    source: config.killSwitch.source,
    detailType: config.killSwitch.detailType,
    now: clock.now,
  });
  const app: App = {
    config,
    settingProblems,
    logger,
    write,
    secrets,
    exchange,
    deadMansSwitch,
    drillFunction,
    state,
    halts: new StateHaltStore(state),
    notifier,
    fetch: overrides.fetch ?? ((url, init) => fetch(url, init)),
    functions,
    killSwitchEvents,
    reported: { notifyFailures: 0, stateFailures: 0 },
    clock,
    ipBudget,
    admitSource,
    webhookRereadAt: Number.NEGATIVE_INFINITY,
    accountNames,
    stateFailed: (what, error) => {
      app.reported.stateFailures++;
      logger.error('state table call failed', { what, ...describeError(error) });
    },
  };
  return app;
}

/**
 * What a kill switch halts with, and a reset restores with: the halt records and the master key (read only
 * when an enforced halt first needs it). Undefined without a state table: a halt nobody can read back would
 * stop nothing, and no reset could find it.
 */
export function haltSetup(app: App): HaltSetup | undefined {
  if (!app.state.enabled) return undefined;
  return { store: app.halts, master: () => app.exchange.masterClient() };
}

let shared: App | undefined;

/** The app of this Lambda container: built on first use, kept across warm invocations. */
export function currentApp(): App {
  shared ??= createApp();
  return shared;
}

/** How long a warm-up may take: well inside the 10 s Lambda gives an init, so it can never time the init out. */
const WARM_UP_MS = 5000;

/**
 * Gets a container ready for its first kill switch while Lambda initialises it ahead of any event (provisioned
 * concurrency): reads and parses the exchange keys, builds each account's client, and lists the linear
 * instruments (the discovery cache; it also opens the TLS session to Bybit, which later connections resume).
 * An on-demand container initialises once its event has arrived, so there it does nothing: the invocation
 * needs the same work at once, and discovery belongs beside the first wave, not in front of it. Never throws:
 * what failed is logged, and the first invocation does it again.
 */
export async function warmUp(
  app: () => App = currentApp,
  initialization: string = initializationType(),
): Promise<void> {
  if (initialization !== 'provisioned-concurrency') return;
  let current: App;
  try {
    current = app();
  } catch {
    // A configuration error: the first invocation reports it, as it would without a warm-up.
    return;
  }
  const { exchange, config, logger, clock, secrets, state } = current;
  const started = clock.now();
  const deadline = started + WARM_UP_MS;
  secrets.deadline = deadline;
  try {
    const accounts = await exchange.accountNames();
    const [clients, coverage] = await Promise.all([
      Promise.allSettled(accounts.map((account) => exchange.withAccount(account, async () => account))),
      discoverCoverage(exchange, config.scope, deadline, 'background'),
      // The halt's first write must not load the DynamoDB client beside the first wave's answers.
      state.enabled ? state.preload() : undefined,
    ]);
    logger.info('warmed up', {
      accounts: accounts.length,
      clients: clients.filter((c) => c.status === 'fulfilled').length,
      instrumentsListed: coverage.confirmed,
      durationMs: clock.now() - started,
    });
  } catch (error) {
    logger.warn('warm-up failed; the first invocation tries again', {
      ...describeError(error),
      durationMs: clock.now() - started,
    });
  } finally {
    secrets.deadline = undefined;
  }
}

/** API Gateway stops waiting after 30 s: an HTTP answer must be ready before that. */
const HTTP_BUDGET_MS = 28_000;
/**
 * After a signature mismatch the webhook key is read again (it may just have been rotated), at most this often
 * per container: an unsigned flood costs one extra read per interval, and a rotation takes effect within it.
 */
const WEBHOOK_REREAD_INTERVAL_MS = 30_000;
/** Operations a passphrase request may not start, by what they are called (a drill is no emergency). */
const PASSPHRASE_REFUSED = new Map<Operation, string>([['drillStart', 'drill']]);

export interface Invocation {
  app: App;
  /** Epoch ms by which the work must be done. */
  deadline: number;
  /** The Lambda request id: every answer carries it. */
  requestId: string;
  /**
   * When the request was made (epoch ms): its signed `x-timestamp`, or when the invocation started. The dead
   * man's switch applies heartbeats in this order.
   */
  at: number;
  /** What the work was asked to do (set before it starts). */
  operation?: Operation;
  /** The id of the EventBridge event that fired it (a kill-switch event). */
  eventId?: string;
  /** How it was invoked. */
  trigger: Trigger['type'];
  /** What the work returned or threw, once it ran (an HTTP request refused before it has none). */
  outcome?: { result?: unknown; error?: unknown };
  /** Malformed settings this invocation's operation does not read, already logged: a kill switch reports them. */
  ignoredSettings: string[];
}

type Work<T> = (input: T, run: Invocation) => Promise<unknown>;

/** The triggers a function serves; a trigger without a route is refused. */
export interface Routes {
  request: Work<unknown>;
  schedule?: Work<Record<string, unknown>>;
  killSwitch?: Work<unknown>;
  /** The operation a request body asks for (named in 5xx answers and their metrics); `unknown` if not given. */
  operation?: (request: unknown) => Operation;
  /** Only the signature authenticates this route, whatever WEBHOOK_PASSPHRASE_MODE says. */
  signedOnly?: boolean;
  /**
   * An HTTP route that authenticates its requests itself (Telegram's secret token), in place of the source
   * allowlist and the signed request: it answers every request, refusals included.
   */
  webhook?: (trigger: HttpTrigger, run: Invocation) => Promise<APIGatewayProxyResult>;
  /** False for a function no HTTP route reaches (the drill): an HTTP event is refused before any secret read. */
  http?: boolean;
  /** Only the route-bound signature authenticates this route, whatever WEBHOOK_LEGACY_SIGNATURE says. */
  routeBoundOnly?: boolean;
  /**
   * A direct invocation gets the answer an HTTP request would, as `{statusCode, …body}`, refusals and failures
   * included, instead of a result or a thrown error: its caller (a bot) acts on the status either way.
   */
  directAnswers?: boolean;
}

/**
 * Throws the ConfigError of the malformed settings `reader` cannot do without; logs the others, which it
 * ignores, and keeps them for the report (a kill switch reads none it cannot do without).
 */
function admitSettings(run: Invocation, reader: SettingsReader): void {
  const ignored = settingsFor(run.app.settingProblems, reader);
  if (ignored.length === 0) return;
  run.app.logger.warn('settings ignored', { ignored: ignored.map((p) => p.message) });
  run.ignoredSettings = ignored.map((p) => `setting ${p.message}: ignored`);
}

/** Room left after the aftermath for the function to return before Lambda stops it. */
const AFTERMATH_SAFETY_MS = 250;
/** An HTTP answer must reach API Gateway (30 s) whatever the aftermath does. */
const HTTP_ANSWER_MS = 29_500;

/** The Lambda entry point for a set of routes (wrapped with middy by each handler). */
export function route(routes: Routes, app: () => App = currentApp) {
  return async (event: unknown, context: Context): Promise<unknown> => {
    const current = app();
    const trigger = readTrigger(event, current.config);
    current.logger.append({ trigger: trigger.type });
    const startedAt = current.clock.now();
    const run: Invocation = {
      app: current,
      deadline: deadlineOf(current, context, trigger),
      ignoredSettings: [],
      requestId: context.awsRequestId,
      at: startedAt,
      trigger: trigger.type,
      ...(trigger.type === 'killSwitch' && trigger.eventId ? { eventId: trigger.eventId } : {}),
    };
    // Every secret read, state call and Scheduler call of this invocation ends by its deadline, wherever in the
    // work it happens.
    current.secrets.deadline = run.deadline;
    current.state.deadline = run.deadline;
    current.deadMansSwitch.deadline = run.deadline;
    const refusals = current.ipBudget.refusals;
    try {
      return await dispatch(trigger, run, routes);
    } finally {
      // Once the work has its final outcome: log, record and tell (never before, never throwing).
      if (run.outcome) {
        const after = await aftermath(run, trigger, event, context, startedAt, refusals);
        current.reported.notifyFailures += after.notifyFailures;
        current.reported.stateFailures += after.stateFailures;
      }
    }
  };
}

/** The run's aftermath (reporting.ts), given what the function has left, and for HTTP, API Gateway's wait. */
async function aftermath(
  run: Invocation,
  trigger: Trigger,
  event: unknown,
  context: Context,
  startedAt: number,
  refusalsBefore: number,
) {
  const { app } = run;
  const remaining = context.getRemainingTimeInMillis?.() ?? HTTP_ANSWER_MS;
  let until = app.clock.now() + remaining - AFTERMATH_SAFETY_MS;
  if (trigger.type === 'http') until = Math.min(until, startedAt + HTTP_ANSWER_MS);
  // The account names the work read, for the heartbeat to check its accounts against (accounts.ts).
  const names = app.accountNames.sync(app.state, app.clock.now()).then(
    () => 0,
    (error: unknown) => {
      app.logger.error('state table call failed', {
        what: 'record the account names',
        ...describeError(error),
      });
      return 1;
    },
  );
  const reported = afterRun(
    { ...app, stage: app.config.stage },
    {
      trigger,
      event,
      operation: run.operation ?? 'unknown',
      outcome: run.outcome ?? {},
      requestId: context.awsRequestId,
      functionName: context.functionName,
      logGroup: logGroupOf(context),
      startedAt,
      until,
      ipRefusal: app.ipBudget.refusals > refusalsBefore ? app.ipBudget.refused : undefined,
    },
  );
  const [counts, namesFailed] = await Promise.all([reported, names]);
  return { ...counts, stateFailures: counts.stateFailures + namesFailed };
}

async function dispatch(trigger: Trigger, run: Invocation, routes: Routes) {
  switch (trigger.type) {
    case 'http':
      if (routes.http === false) throw new Error('this function does not handle HTTP requests');
      return routes.webhook ? serveWebhook(trigger, run, routes.webhook) : serveHttp(trigger, run, routes);
    case 'direct':
      run.operation = routes.operation?.(trigger.body);
      if (routes.directAnswers) return serveDirect(trigger.body, run, routes);
      admitSettings(run, run.operation ?? 'unknown');
      return settle(run, () => routes.request(trigger.body, run));
    case 'schedule':
    case 'killSwitch': {
      const work = routes[trigger.type] as Work<unknown> | undefined;
      if (!work) throw new Error(`this function does not handle ${trigger.type} events`);
      run.operation =
        trigger.type === 'killSwitch'
          ? 'killSwitch'
          : trigger.input.action === DRILL_ACTION
            ? 'drill'
            : 'sweep';
      admitSettings(run, run.operation);
      return settle(run, () => work(trigger.type === 'schedule' ? trigger.input : trigger.detail, run));
    }
  }
}

/** Runs the work and keeps what it returned or threw on the invocation, for its aftermath. */
async function settle(run: Invocation, work: () => Promise<unknown>): Promise<unknown> {
  try {
    const result = await work();
    run.outcome = { result };
    return result;
  } catch (error) {
    run.outcome = { error };
    throw error;
  }
}

/**
 * Admitted by source address, authenticated, taken once, validated, answered in JSON: a caller's mistake is a
 * 4xx, never an exchange call. Steps: source allowlist (before anything else), body size, webhook key and
 * signature (bound to this route where the route says so), the signature taken in the state table (a replay is a
 * duplicate), JSON, the work; a 5xx gives the signature back, so that the same request may be sent again.
 */
async function serveHttp(trigger: HttpTrigger, run: Invocation, routes: Routes) {
  const { config, logger } = run.app;
  let operation: Operation = 'unknown';
  let claim: Claim | undefined;
  try {
    // The HTTP settings first: without them no request can be admitted safely.
    settingsFor(run.app.settingProblems, 'http');
    run.app.admitSource(trigger.sourceIp);
    const body = decodeBody(trigger, config.maxBodyBytes);
    operation = routes.operation?.(peekJson(body)) ?? 'unknown';
    const how = await authenticate(trigger, body, run.app, routes);
    // The passphrase sits in every TradingView alert: it may cancel, never start what it has no use for.
    const refused = how === 'passphrase' ? PASSPHRASE_REFUSED.get(operation) : undefined;
    if (refused)
      throw new AuthenticationError(`${refused} needs a signed request: the passphrase cannot start it`);
    if (how !== 'passphrase') {
      run.at = Number(trigger.headers['x-timestamp']);
      claim = await takeOnce(trigger, run);
    }
    const request = parseJsonBody(body);
    admitSettings(run, operation);
    if (how === 'passphrase') delete (request as { passphrase?: unknown }).passphrase;
    run.operation = operation;
    const response = resultResponse(await settle(run, () => routes.request(request, run)));
    logger.info('request served', { statusCode: response.statusCode, authenticatedBy: how });
    return response;
  } catch (error) {
    const response = errorResponse(error, run.requestId, operation);
    const level = response.statusCode >= 500 ? 'error' : 'warn';
    // The answer shows per-scope errors reduced to type and fixed message; the log keeps all of them.
    const scopes = scopeErrors(error);
    logger[level]('request refused', {
      statusCode: response.statusCode,
      ...describeError(error),
      ...(scopes.length > 0 ? { scopes } : {}),
    });
    if (response.statusCode >= 500 && claim?.first) await giveBack(run, claim.key);
    return response;
  }
}

/** A self-authenticating route: what it answers, or a 5xx naming the request id when it throws. */
async function serveWebhook(
  trigger: HttpTrigger,
  run: Invocation,
  webhook: NonNullable<Routes['webhook']>,
): Promise<APIGatewayProxyResult> {
  try {
    const response = await webhook(trigger, run);
    run.app.logger.info('request served', { statusCode: response.statusCode });
    return response;
  } catch (error) {
    const response = errorResponse(error, run.requestId);
    run.app.logger[response.statusCode >= 500 ? 'error' : 'warn']('request refused', {
      statusCode: response.statusCode,
      ...describeError(error),
    });
    return response;
  }
}

/**
 * A direct invocation answered as HTTP is (`{statusCode, …body}`): IAM authenticated it, so it is neither
 * signed nor taken; the work runs as it would for a request.
 */
async function serveDirect(body: unknown, run: Invocation, routes: Routes) {
  try {
    admitSettings(run, run.operation ?? 'unknown');
    const response = resultResponse(await settle(run, () => routes.request(body, run)));
    return { statusCode: response.statusCode, ...JSON.parse(response.body) };
  } catch (error) {
    const response = errorResponse(error, run.requestId, run.operation);
    const level = response.statusCode >= 500 ? 'error' : 'warn';
    run.app.logger[level]('invocation refused', { statusCode: response.statusCode, ...describeError(error) });
    return { statusCode: response.statusCode, ...JSON.parse(response.body) };
  }
}

/**
 * Takes the request's signature in the state table: a second request with it is a duplicate (409), and nothing
 * is done again. When the table cannot be reached the request is served unchecked, logged and counted: never
 * refuse a kill switch, nor fire the dead man's switch, over a detail of bookkeeping.
 */
async function takeOnce(trigger: HttpTrigger, run: Invocation): Promise<Claim | undefined> {
  const { app } = run;
  // Without a table (a local run that names none) there is nothing to keep signatures in.
  if (!app.state.enabled) return undefined;
  let claim: Claim;
  try {
    claim = await takeSignature(
      app.state,
      {
        signature: trigger.headers['x-signature'] as string,
        timestamp: run.at,
        route: trigger.route,
        requestId: run.requestId,
      },
      app.config.webhookMaxSkewMs,
      app.clock.now(),
    );
  } catch (error) {
    app.stateFailed('take the signature (the request was served without the replay check)', error);
    return undefined;
  }
  if (!claim.first) throw new DuplicateRequestError(claim.firstRequestId);
  return claim;
}

/** Gives a signature back after a 5xx; a failure is logged and counted, never thrown. */
async function giveBack(run: Invocation, key: Parameters<typeof releaseSignature>[1]) {
  try {
    await releaseSignature(run.app.state, key);
  } catch (error) {
    run.app.stateFailed('give the signature back after a failure', error);
  }
}

/**
 * Checks the signature (route-bound, or also the legacy one where the route and WEBHOOK_LEGACY_SIGNATURE allow
 * it); on a mismatch, reads the key once more (rate-limited) in case it was just rotated.
 */
async function authenticate(
  trigger: HttpTrigger,
  body: Buffer,
  app: App,
  routes: Routes,
): Promise<Authentication> {
  const { config, secrets, clock } = app;
  const signedOnly = routes.signedOnly === true;
  // The passphrase sits in every TradingView alert: a route it must never reach refuses it before any secret read.
  if (
    signedOnly &&
    trigger.headers['x-timestamp'] === undefined &&
    trigger.headers['x-signature'] === undefined
  )
    throw new AuthenticationError(
      `${trigger.route} accepts only a signed request (x-timestamp, x-signature); never the passphrase`,
    );
  const check = async (refresh: boolean) => {
    const value = await secrets.getJson(config.webhookSecretId, { refresh });
    return authenticateWebhook(trigger.headers, body, parseWebhookSecret(config.webhookSecretId, value), {
      maxSkewMs: config.webhookMaxSkewMs,
      passphraseMode: config.webhookPassphraseMode && !signedOnly,
      route: trigger.route,
      legacySignature: config.webhookLegacySignature && routes.routeBoundOnly !== true,
      now: clock.now,
    });
  };
  try {
    return await check(false);
  } catch (error) {
    const now = clock.now();
    if (!(error instanceof SignatureMismatchError) || now - app.webhookRereadAt < WEBHOOK_REREAD_INTERVAL_MS)
      throw error;
    app.webhookRereadAt = now;
    return check(true);
  }
}

/** The body as JSON if it is JSON, for naming the operation before it is authenticated; never throws. */
function peekJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Where the function's lines go: Lambda's group, or its default name where a local runner invents one. */
function logGroupOf(context: Context): string {
  return context.logGroupName?.startsWith('/') ? context.logGroupName : `/aws/lambda/${context.functionName}`;
}

function deadlineOf(app: App, context: Context, trigger: Trigger): number {
  const remaining = context.getRemainingTimeInMillis?.() ?? HTTP_BUDGET_MS;
  let budget = remaining - app.config.deadlineMarginMs;
  if (trigger.type === 'http') budget = Math.min(budget, HTTP_BUDGET_MS);
  return app.clock.now() + Math.max(0, budget);
}
