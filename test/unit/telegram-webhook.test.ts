// The telegram function (lib/lambda/telegram-webhook.ts) on a fake app: the secret token before anything, the
// update read within its size, every authenticated update answered 200, the job handed to itself, and the jobs
// it runs on the functions that do them. test/integration/telegram.test.ts runs the same through real sockets.

import { describe, expect, it } from 'vitest';
import { ConfigError, SecretError, SecretUnavailableError, ValidationError } from '../../lib/errors.ts';
import type { App, Invocation } from '../../lib/lambda/app.ts';
import { readSettings } from '../../lib/lambda/config.ts';
import { recordKeys } from '../../lib/lambda/records.ts';
import { SECRET_TOKEN_HEADER, telegramRoutes } from '../../lib/lambda/telegram-webhook.ts';
import type { HttpTrigger } from '../../lib/lambda/triggers.ts';
import { createLogger } from '../../lib/log.ts';

const NOW = Date.UTC(2026, 2, 1, 9, 30, 0);
const DEADLINE = NOW + 25_000;
const TOKEN = 'w'.repeat(32);
const BOT_TOKEN = '123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const SECRET = { botToken: BOT_TOKEN, chatIds: ['-100'], userIds: ['7'], webhookToken: TOKEN };
const ENV = {
  STAGE: 'unit',
  TELEGRAM_SECRET_ID: 'telegram',
  TELEGRAM_API_URL: 'https://telegram.test',
  TELEGRAM_FUNCTION_NAME: 'bybit-cancel-unit-telegram',
  RESET_FUNCTION_NAME: 'bybit-cancel-unit-reset',
  DRILL_FUNCTION_NAME: 'bybit-cancel-unit-drill',
  HEARTBEAT_FUNCTION_NAME: 'bybit-cancel-unit-heartbeat',
  MAX_BODY_BYTES: '1024',
};

type Key = { pk: string; sk: string };

/** An app of fakes: each side effect recorded; `secret` is what the Telegram secret holds, or how reading it fails. */
function fakeApp(options: { env?: Record<string, string>; secret?: unknown; startFails?: boolean } = {}) {
  const lines: Record<string, unknown>[] = [];
  const items = new Map<string, unknown>();
  const id = (key: Key) => `${key.pk}|${key.sk}`;
  const started: unknown[][] = [];
  const ran: unknown[][] = [];
  const events: unknown[][] = [];
  const telegram: { url: string; body: Record<string, unknown> }[] = [];
  const secretReads: string[] = [];
  const scheduleReads: unknown[] = [];
  let secret: unknown = options.secret ?? SECRET;
  const answers: Record<string, unknown> = {};
  const app = {
    config: readSettings({ ...ENV, ...options.env }).config,
    logger: createLogger({ write: (line) => lines.push(JSON.parse(line)) }),
    secrets: {
      getJson: async (secretId: string) => {
        secretReads.push(secretId);
        if (secret instanceof Error) throw secret;
        return secret;
      },
    },
    state: {
      enabled: false,
      get: async (key: Key) => (items.has(id(key)) ? { ...key, value: items.get(id(key)) } : undefined),
      put: async (key: Key, value: unknown) => {
        items.set(id(key), value);
      },
      putIfAbsent: async (key: Key, value: unknown) => {
        if (items.has(id(key))) return false;
        items.set(id(key), value);
        return true;
      },
      query: async () => [],
    },
    deadMansSwitch: {
      read: async (deadline?: number) => {
        scheduleReads.push(deadline);
        return { armed: false, firesAt: null };
      },
    },
    killSwitchEvents: {
      put: async (detail: unknown, until?: number) => {
        events.push([detail, until]);
        return 'event-9';
      },
    },
    functions: {
      start: async (name: string, payload: unknown, until?: number) => {
        started.push([name, payload, until]);
        if (options.startFails) throw new Error('Lambda throttled');
      },
      run: async (name: string, payload: unknown, until: number) => {
        ran.push([name, payload, until]);
        return answers[name] ?? { result: {} };
      },
    },
    fetch: async (url: string, init: RequestInit) => {
      telegram.push({ url, body: JSON.parse(String(init.body)) });
      const method = url.split('/').at(-1);
      if (method === 'getMe')
        return new Response(JSON.stringify({ ok: true, result: { username: 'desk_bot' } }));
      if (String(init.body).includes('refuse me'))
        return new Response(JSON.stringify({ ok: false, description: 'Forbidden' }), { status: 403 });
      return new Response(JSON.stringify({ ok: true, result: { message_id: 3 } }));
    },
    clock: { now: () => NOW, sleep: async () => undefined },
    reported: { notifyFailures: 0, stateFailures: 0 },
  } as unknown as App;
  return {
    app,
    lines,
    items,
    started,
    ran,
    events,
    telegram,
    secretReads,
    scheduleReads,
    answers,
    setSecret: (value: unknown) => {
      secret = value;
    },
    logged: (message: string) => lines.filter((l) => l.message === message),
  };
}

const invocation = (app: App): Invocation => ({
  app,
  deadline: DEADLINE,
  requestId: 'req-1',
  at: NOW,
  trigger: 'http',
  ignoredSettings: [],
});

/** A POST /telegram; `token` null: no secret-token header at all. */
function trigger(body: unknown, token: string | null = TOKEN, base64 = false): HttpTrigger {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    type: 'http',
    headers: token === null ? {} : { [SECRET_TOKEN_HEADER]: token },
    rawBody: base64 ? Buffer.from(raw).toString('base64') : raw,
    isBase64Encoded: base64,
    sourceIp: '149.154.167.220',
    route: 'POST /telegram',
  };
}

let updateIds = 1000;
const messageUpdate = (text: string) => ({
  update_id: updateIds++,
  message: {
    message_id: 11,
    chat: { id: -100, type: 'group' },
    from: { id: 7, first_name: 'Dana', username: 'dana' },
    text,
  },
});
const buttonUpdate = (data: string) => ({
  update_id: updateIds++,
  callback_query: {
    id: 'q-9',
    from: { id: 7, first_name: 'Dana', username: 'dana' },
    message: { message_id: 12, chat: { id: -100, type: 'group' } },
    data,
  },
});

type Answer = { statusCode: number; body: string };
async function post(app: App, t: HttpTrigger, run = invocation(app)) {
  const webhook = telegramRoutes.webhook as NonNullable<typeof telegramRoutes.webhook>;
  const answer = (await webhook(t, run)) as Answer;
  return { statusCode: answer.statusCode, body: JSON.parse(answer.body) as unknown, run };
}
const TAKEN = { statusCode: 200, body: { operation: 'telegram' } };

describe('the webhook: the secret token first', () => {
  it('no Telegram secret configured: 401, logged as an error, nothing read', async () => {
    const fake = fakeApp({ env: { TELEGRAM_SECRET_ID: '' } });
    const { statusCode, body, run } = await post(fake.app, trigger(messageUpdate('/status')));
    expect({ statusCode, body }).toEqual({ statusCode: 401, body: { error: 'Unauthorized' } });
    expect(run.operation).toBe('telegram');
    expect(fake.secretReads).toEqual([]);
    expect(fake.started).toEqual([]);
    expect(fake.logged('telegram update refused: no usable Telegram secret')).toMatchObject([
      { level: 'error', errorType: 'ConfigError' },
    ]);
  });

  it('a secret that cannot be read now: 503, so that Telegram redelivers; a warning', async () => {
    const fake = fakeApp({ secret: new SecretUnavailableError('telegram', 'throttled') });
    const { statusCode, body } = await post(fake.app, trigger(messageUpdate('/status')));
    expect({ statusCode, body }).toEqual({ statusCode: 503, body: { error: 'Unavailable' } });
    expect(fake.secretReads).toEqual(['telegram']);
    expect(fake.logged('telegram update refused: no usable Telegram secret')).toMatchObject([
      { level: 'warn', errorType: 'SecretUnavailableError' },
    ]);
  });

  it('a secret of the wrong shape, or one that failed for good: 401, an error', async () => {
    for (const secret of [{ ...SECRET, webhookToken: 'short' }, new SecretError('telegram', 'not found')]) {
      const fake = fakeApp({ secret });
      const { statusCode, body } = await post(fake.app, trigger(messageUpdate('/status')));
      expect({ statusCode, body }).toEqual({ statusCode: 401, body: { error: 'Unauthorized' } });
      expect(fake.logged('telegram update refused: no usable Telegram secret')).toMatchObject([
        { level: 'error', errorType: 'SecretError' },
      ]);
      expect(fake.started).toEqual([]);
    }
  });

  it('no secret token, or a wrong one: 401 and nothing read or done', async () => {
    const fake = fakeApp();
    for (const token of [null, 'x'.repeat(32), `${TOKEN}w`, '']) {
      const { statusCode, body } = await post(fake.app, trigger(messageUpdate('/status'), token));
      expect({ statusCode, body }).toEqual({ statusCode: 401, body: { error: 'Unauthorized' } });
    }
    expect(fake.items.size).toBe(0);
    expect(fake.started).toEqual([]);
    expect(fake.logged('telegram update refused').map((l) => [l.level, l.why, l.sourceIp])).toEqual([
      ['warn', 'no secret token', '149.154.167.220'],
      ['warn', 'wrong secret token', '149.154.167.220'],
      ['warn', 'wrong secret token', '149.154.167.220'],
      ['warn', 'wrong secret token', '149.154.167.220'],
    ]);
    expect(JSON.stringify(fake.lines)).not.toContain(TOKEN);
  });
});

describe('the webhook: the update', () => {
  it('a body that is not JSON, or too large: 200 (no redelivery), nothing done', async () => {
    const fake = fakeApp();
    expect(await post(fake.app, trigger('{not json'))).toMatchObject(TAKEN);
    const large = messageUpdate(`/kill ${'x'.repeat(1100)}`);
    expect(await post(fake.app, trigger(large))).toMatchObject(TAKEN);
    expect(fake.items.size).toBe(0);
    expect(fake.started).toEqual([]);
    expect(fake.logged('telegram update ignored: not JSON, or too large')).toMatchObject([
      { level: 'warn', errorType: 'SyntaxError' },
      { level: 'warn', errorType: 'PayloadTooLargeError' },
    ]);
  });

  it('JSON with no update_id: 200, nothing done', async () => {
    const fake = fakeApp();
    expect(await post(fake.app, trigger({ message: { text: '/status' } }))).toMatchObject(TAKEN);
    expect(fake.started).toEqual([]);
    expect(fake.logged('telegram update ignored: no update_id')).toMatchObject([{ level: 'warn' }]);
  });

  it('a command: 200, and its job handed to this function by its name, by the deadline', async () => {
    const fake = fakeApp();
    const update = messageUpdate('/status');
    expect(await post(fake.app, trigger(update, TOKEN, true))).toMatchObject(TAKEN);
    expect(fake.started).toEqual([
      ['bybit-cancel-unit-telegram', { telegramJob: { kind: 'status', chatId: '-100' } }, DEADLINE],
    ]);
    expect(fake.items.has(`telegram-update#${update.update_id}|update`)).toBe(true);
    expect(fake.telegram).toEqual([]);
  });

  it('an update with nothing to do (not a command): 200, no job', async () => {
    const fake = fakeApp();
    expect(await post(fake.app, trigger(messageUpdate('good morning')))).toMatchObject(TAKEN);
    expect(fake.started).toEqual([]);
  });

  it('a job that cannot be started: still 200, counted as a failed notification, logged', async () => {
    const fake = fakeApp({ startFails: true });
    expect(await post(fake.app, trigger(messageUpdate('/help')))).toMatchObject(TAKEN);
    expect(fake.started).toHaveLength(1);
    expect(fake.app.reported.notifyFailures).toBe(1);
    expect(fake.logged('telegram job not started')).toMatchObject([
      { level: 'error', job: 'send', errorMessage: 'Lambda throttled' },
    ]);
  });

  it('/kill then Kill now: the kill-switch event is put here, by the deadline, before the answer', async () => {
    const fake = fakeApp();
    await post(fake.app, trigger(messageUpdate('/kill drawdown')));
    type Sent = { telegramJob: { keyboard: { inline_keyboard: { callback_data: string }[][] } } };
    const job = (fake.started[0] as unknown[])[1] as Sent;
    const data = job.telegramJob.keyboard.inline_keyboard[0]?.[0]?.callback_data as string;
    expect(data).toMatch(/^go:unit:[A-Za-z0-9_-]{22}$/);
    expect(await post(fake.app, trigger(buttonUpdate(data)))).toMatchObject(TAKEN);
    expect(fake.events).toEqual([
      [{ origin: 'telegram', reason: 'Telegram /kill by Dana (@dana, id 7): drawdown' }, DEADLINE],
    ]);
    expect(fake.started[1]?.[1]).toMatchObject({
      telegramJob: { kind: 'answer', queryId: 'q-9', text: 'Kill switch fired. Its report follows.' },
    });
  });

  it('a command naming a bot: the bot asked once per token; a rotated token asks again', async () => {
    const fake = fakeApp();
    await post(fake.app, trigger(messageUpdate('/status@desk_bot')));
    await post(fake.app, trigger(messageUpdate('/status@desk_bot')));
    expect(fake.telegram.map((c) => c.url)).toEqual([`https://telegram.test/bot${BOT_TOKEN}/getMe`]);
    const rotated = '654321:BBHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
    fake.setSecret({ ...SECRET, botToken: rotated });
    await post(fake.app, trigger(messageUpdate('/status@desk_bot')));
    expect(fake.telegram.map((c) => c.url)).toEqual([
      `https://telegram.test/bot${BOT_TOKEN}/getMe`,
      `https://telegram.test/bot${rotated}/getMe`,
    ]);
    // Only the current token's bot is kept: the old token, back again, is asked anew.
    fake.setSecret(SECRET);
    await post(fake.app, trigger(messageUpdate('/status@desk_bot')));
    expect(fake.telegram).toHaveLength(3);
    expect(fake.telegram[2]?.url).toBe(`https://telegram.test/bot${BOT_TOKEN}/getMe`);
    expect(fake.started.map((s) => (s[1] as { telegramJob: { kind: string } }).telegramJob.kind)).toEqual([
      'status',
      'status',
      'status',
      'status',
    ]);
  });
});

describe('the jobs this function hands itself', () => {
  const serve = (app: App, body: unknown) => telegramRoutes.request(body, invocation(app));

  it('the operation of every request is "telegram"', () => {
    expect(telegramRoutes.operation?.({})).toBe('telegram');
  });

  it('anything but {"telegramJob": {kind}} of a known kind: a ValidationError naming the field', async () => {
    const fake = fakeApp();
    for (const body of [
      null,
      {},
      { telegramJob: null },
      { telegramJob: 'send' },
      { telegramJob: { kind: 'kill' } },
    ]) {
      const error = await serve(fake.app, body).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        field: 'telegramJob',
        message: 'expected {"telegramJob": {"kind": …}}, a job of the telegram webhook',
      });
    }
    expect(fake.secretReads).toEqual([]);
  });

  it('a job with Telegram commands off: ConfigError', async () => {
    const fake = fakeApp({ env: { TELEGRAM_SECRET_ID: '' } });
    const error = await serve(fake.app, { telegramJob: { kind: 'send', chatId: '-100', text: 'a' } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('Telegram commands are off: TELEGRAM_SECRET_ID is not set');
  });

  it('send: through the configured API with the secret’s token; the calls counted', async () => {
    const fake = fakeApp();
    expect(await serve(fake.app, { telegramJob: { kind: 'send', chatId: '-100', text: 'hello' } })).toEqual({
      operation: 'telegram',
      job: 'send',
      telegramCalls: 1,
      failedCalls: 0,
    });
    expect(fake.telegram).toEqual([
      {
        url: `https://telegram.test/bot${BOT_TOKEN}/sendMessage`,
        body: { chat_id: '-100', text: 'hello', parse_mode: 'HTML' },
      },
    ]);
    expect(fake.app.reported.notifyFailures).toBe(0);
  });

  it('a Telegram call that fails: counted in the answer and as a failed notification', async () => {
    const fake = fakeApp();
    fake.app.reported.notifyFailures = 2;
    expect(
      await serve(fake.app, { telegramJob: { kind: 'send', chatId: '-100', text: 'refuse me' } }),
    ).toEqual({
      operation: 'telegram',
      job: 'send',
      telegramCalls: 1,
      failedCalls: 1,
    });
    expect(fake.app.reported.notifyFailures).toBe(3);
  });

  it('status: read from the state table and the schedule by the deadline, then sent', async () => {
    const fake = fakeApp();
    await serve(fake.app, { telegramJob: { kind: 'status', chatId: '-100' } });
    expect(fake.scheduleReads).toEqual([DEADLINE]);
    expect(fake.telegram.map((c) => c.body.text)).toEqual([
      [
        '<b>unit: needs attention</b>',
        'Halt: none',
        'Dead man’s switch: not armed',
        'Last kill switch: none recorded',
        'Last drill: none recorded',
        '<b>Needs attention:</b>',
        '- no drill has run yet: npm run kill-switch -- --drill --stage unit',
      ].join('\n'),
    ]);
  });

  it('drill: run on the drill function by the deadline; a failed drill’s report from the last drill record', async () => {
    const fake = fakeApp();
    fake.answers['bybit-cancel-unit-drill'] = {
      error: { type: 'DrillFailedError', message: 'hedge: …' },
      requestId: 'd-1',
    };
    fake.items.set(`${recordKeys.last('drill').pk}|${recordKeys.last('drill').sk}`, {
      requestId: 'd-1',
      report: {
        accounts: [{ account: 'hedge', ok: false, problems: [{ message: 'no key' }], warnings: [] }],
      },
    });
    expect(
      await serve(fake.app, { telegramJob: { kind: 'drill', chatId: '-100', accounts: ['hedge'] } }),
    ).toEqual({
      operation: 'telegram',
      job: 'drill',
      telegramCalls: 2,
      failedCalls: 0,
    });
    expect(fake.ran).toEqual([['bybit-cancel-unit-drill', { drill: true, accounts: ['hedge'] }, DEADLINE]]);
    expect(fake.telegram.at(-1)?.body.text).toBe(
      [
        '<b>Drill FAILED on unit: 1 problem(s), the kill switch would fail</b>',
        '- hedge: 1 PROBLEM(S)',
        '    problem: no key',
        'The runbook says what to do about each.',
      ].join('\n'),
    );
  });

  it('reset and disarm: on the reset and the heartbeat functions', async () => {
    const fake = fakeApp();
    const asked = { action: 'reset', stage: 'unit', by: 'Dana', expiresAt: NOW + 60_000 };
    const job = { queryId: 'q', chatId: '-100', messageId: 4 };
    await serve(fake.app, { telegramJob: { kind: 'reset', ...job, asked } });
    await serve(fake.app, { telegramJob: { kind: 'disarm', ...job, asked: { ...asked, action: 'disarm' } } });
    expect(fake.ran).toEqual([
      ['bybit-cancel-unit-reset', { by: 'Telegram: Dana' }, DEADLINE],
      ['bybit-cancel-unit-heartbeat', { disarm: true }, DEADLINE],
    ]);
  });

  it('one bot per app and token across webhook and jobs: getMe is not asked again by a job', async () => {
    const fake = fakeApp();
    await post(fake.app, trigger(messageUpdate('/status@desk_bot')));
    await serve(fake.app, { telegramJob: { kind: 'send', chatId: '-100', text: 'x' } });
    await post(fake.app, trigger(messageUpdate('/status@desk_bot')));
    expect(fake.telegram.map((c) => c.url.split('/').at(-1))).toEqual(['getMe', 'sendMessage']);
  });
});
