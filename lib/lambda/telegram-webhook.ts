// The telegram function: the webhook Telegram posts updates to (`POST /telegram`), and the jobs it runs on
// itself. Steps of a request:
//   1. before anything else, X-Telegram-Bot-Api-Secret-Token against the Telegram secret's webhookToken, in
//      constant time: a mismatch, or no usable secret, is a 401 and nothing is read or done;
//   2. the update (JSON, at most MAX_BODY_BYTES);
//   3. what it asks, as far as the answer may wait (telegram-commands.ts: who, once, the confirmation, the
//      kill-switch event);
//   4. the rest handed to this function as an asynchronous invocation (a job): the answer never waits on a
//      Telegram call, a drill or a reset.
// Telegram redelivers an update answered with anything but 2xx: every authenticated update is answered 200,
// whatever came of it, except when the secret could not be read at all (then a redelivery may succeed).

import type { APIGatewayProxyResult } from 'aws-lambda';
import { ConfigError, SecretUnavailableError, ValidationError } from '../errors.ts';
import { describeError } from '../log.ts';
import type { App, Invocation, Routes } from './app.ts';
import { decodeBody, json } from './http.ts';
import { type RunRecord, recordKeys } from './records.ts';
import { parseTelegramCommandSecret, type TelegramCommandSecret } from './secrets.ts';
import { readStatus } from './status.ts';
import { TelegramBot } from './telegram-bot.ts';
import { handleUpdate, type Job, runJob } from './telegram-commands.ts';
import { readUpdate } from './telegram-updates.ts';
import type { HttpTrigger } from './triggers.ts';
import { sameSecret } from './webhook-auth.ts';

/** The header Telegram sends setWebhook's secret_token in (lowercased, as triggers.ts keeps headers). */
export const SECRET_TOKEN_HEADER = 'x-telegram-bot-api-secret-token';
/** The payload of a job invocation: `{"telegramJob": {…}}`. */
const JOB_FIELD = 'telegramJob';
const JOB_KINDS = new Set<Job['kind']>(['send', 'status', 'drill', 'answer', 'reset', 'disarm']);

/** Every answer to an authenticated update: Telegram reads nothing in it (no `method`), the metrics its operation. */
const TAKEN = () => json(200, { operation: 'telegram' });
const UNAUTHORIZED = () => json(401, { error: 'Unauthorized' });

export const telegramRoutes: Routes = {
  webhook: serveWebhook,
  request: (body, run) => serveJob(body, run),
  operation: () => 'telegram',
};

async function serveWebhook(trigger: HttpTrigger, run: Invocation): Promise<APIGatewayProxyResult> {
  const { app, deadline } = run;
  const { logger, config } = app;
  run.operation = 'telegram';
  let secret: TelegramCommandSecret;
  try {
    secret = await commandSecret(app);
  } catch (error) {
    const unavailable = error instanceof SecretUnavailableError;
    logger[unavailable ? 'warn' : 'error'](
      'telegram update refused: no usable Telegram secret',
      describeError(error),
    );
    return unavailable ? json(503, { error: 'Unavailable' }) : UNAUTHORIZED();
  }
  if (!sameSecret(trigger.headers[SECRET_TOKEN_HEADER], secret.webhookToken)) {
    logger.warn('telegram update refused', {
      why: trigger.headers[SECRET_TOKEN_HEADER] === undefined ? 'no secret token' : 'wrong secret token',
      sourceIp: trigger.sourceIp,
    });
    return UNAUTHORIZED();
  }
  let update: ReturnType<typeof readUpdate>;
  try {
    update = readUpdate(JSON.parse(decodeBody(trigger, config.maxBodyBytes).toString('utf8')));
  } catch (error) {
    logger.warn('telegram update ignored: not JSON, or too large', describeError(error));
    return TAKEN();
  }
  if (!update) {
    logger.warn('telegram update ignored: no update_id');
    return TAKEN();
  }
  const job = await handleUpdate(
    {
      stage: config.stage,
      secret,
      state: app.state,
      fire: (detail) => app.killSwitchEvents.put(detail, deadline),
      botName: () => botOf(app, secret).username(deadline),
      logger,
      now: app.clock.now,
    },
    update,
  );
  if (job) {
    try {
      await app.functions.start(config.telegram.functionName, { [JOB_FIELD]: job }, deadline);
    } catch (error) {
      // The person hears nothing of this update; a kill switch it fired runs all the same.
      app.reported.notifyFailures++;
      logger.error('telegram job not started', { job: job.kind, ...describeError(error) });
    }
  }
  return TAKEN();
}

/** A job this function handed itself: `{"telegramJob": {kind, …}}` from a direct invocation. */
async function serveJob(body: unknown, run: Invocation) {
  const { app } = run;
  const job = (body as Record<string, unknown> | null)?.[JOB_FIELD] as Job | undefined;
  if (typeof job !== 'object' || job === null || !JOB_KINDS.has(job.kind)) {
    throw new ValidationError(
      JOB_FIELD,
      `expected {"${JOB_FIELD}": {"kind": …}}, a job of the telegram webhook`,
    );
  }
  const secret = await commandSecret(app);
  const { config, state } = app;
  const names = {
    drill: config.telegram.drillFunction,
    reset: config.telegram.resetFunction,
    heartbeat: config.telegram.heartbeatFunction,
  };
  const counts = await runJob(
    {
      stage: config.stage,
      bot: botOf(app, secret),
      run: (fn, payload) => app.functions.run(names[fn], payload, run.deadline),
      readStatus: () =>
        readStatus({
          state,
          schedule: app.deadMansSwitch,
          stage: config.stage,
          deadline: run.deadline,
          now: app.clock.now,
        }),
      lastDrill: async () => (await state.get<RunRecord>(recordKeys.last('drill')))?.value,
      logger: app.logger,
      now: app.clock.now,
    },
    job,
  );
  app.reported.notifyFailures += counts.failed;
  return { operation: 'telegram', job: job.kind, telegramCalls: counts.calls, failedCalls: counts.failed };
}

async function commandSecret(app: App): Promise<TelegramCommandSecret> {
  const id = app.config.notify.telegramSecretId;
  if (!id) throw new ConfigError('Telegram commands are off: TELEGRAM_SECRET_ID is not set');
  return parseTelegramCommandSecret(id, await app.secrets.getJson(id));
}

/** One bot per container and token, so that its username is asked once (a rotated token gets a new one). */
const bots = new WeakMap<App, Map<string, TelegramBot>>();

function botOf(app: App, secret: TelegramCommandSecret): TelegramBot {
  const byToken = bots.get(app) ?? new Map<string, TelegramBot>();
  bots.set(app, byToken);
  let bot = byToken.get(secret.botToken);
  if (!bot) {
    bot = new TelegramBot({
      apiUrl: app.config.notify.telegramApiUrl,
      botToken: secret.botToken,
      timeoutMs: app.config.notify.timeoutMs,
      fetch: app.fetch,
      now: app.clock.now,
    });
    byToken.clear();
    byToken.set(secret.botToken, bot);
  }
  return bot;
}
