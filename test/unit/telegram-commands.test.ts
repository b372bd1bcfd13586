// What a Telegram command does when what it depends on fails (lib/lambda/telegram-commands.ts), on fakes: the
// state table down, a drill that found problems, a reset that failed, a heartbeat function that would not
// answer, Telegram refusing a call. The end-to-end flows are in test/integration/telegram.test.ts.

import { describe, expect, it } from 'vitest';
import { FunctionInvokeError } from '../../lib/errors.ts';
import type { Answered } from '../../lib/lambda/functions.ts';
import { type RunRecord, recordKeys } from '../../lib/lambda/records.ts';
import { StateStore } from '../../lib/lambda/state.ts';
import type { StackStatus } from '../../lib/lambda/status.ts';
import { TelegramBot } from '../../lib/lambda/telegram-bot.ts';
import {
  type Confirmation,
  handleUpdate,
  type Job,
  type JobContext,
  killDetail,
  runJob,
} from '../../lib/lambda/telegram-commands.ts';
import type { TelegramUser, Update } from '../../lib/lambda/telegram-updates.ts';
import { createLogger } from '../../lib/log.ts';

const secret = {
  botToken: '123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw',
  chatIds: ['-100'],
  userIds: ['7'],
  webhookToken: 'k'.repeat(32),
};
const dana = { id: '7', name: 'Dana', username: 'dana' };
const asked: Confirmation = {
  action: 'reset',
  stage: 'prod',
  by: 'Dana (@dana, id 7)',
  chatId: '-100',
  userId: '7',
  accounts: ['hedge'],
  expiresAt: Date.now() + 60_000,
};

function silentLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ write: (line) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** A Telegram Bot API that records every call, and refuses the methods named in `refuse`. */
function fakeBot(refuse: string[] = []) {
  const calls: { method: string; body: Record<string, unknown> }[] = [];
  const bot = new TelegramBot({
    apiUrl: 'https://api.telegram.org',
    botToken: secret.botToken,
    timeoutMs: 1000,
    fetch: async (url, init) => {
      const method = url.split('/').at(-1) as string;
      calls.push({ method, body: JSON.parse(String(init.body)) });
      if (refuse.includes(method))
        return new Response(JSON.stringify({ ok: false, description: 'Bad Request: chat not found' }), {
          status: 400,
        });
      return new Response(JSON.stringify({ ok: true, result: { message_id: 1 } }));
    },
  });
  return { bot, calls };
}

function jobContext(overrides: Partial<JobContext> & { bot: TelegramBot }): JobContext {
  return {
    stage: 'prod',
    run: async () => ({ result: {} }),
    readStatus: async () => ({}) as StackStatus,
    lastDrill: async () => undefined,
    logger: silentLogger().logger,
    now: Date.now,
    ...overrides,
  };
}

const lastText = (calls: { body: Record<string, unknown> }[]) => String(calls.at(-1)?.body.text);

/** The confirmation's last text after a disarm the heartbeat function answered with `answered`. */
async function disarmAnswered(answered: Answered): Promise<string> {
  const { bot, calls } = fakeBot();
  await runJob(jobContext({ bot, run: async () => answered }), {
    kind: 'disarm',
    queryId: 'q',
    chatId: '-100',
    messageId: 4,
    asked: { ...asked, action: 'disarm' },
  });
  return lastText(calls);
}

describe('when the state table fails', () => {
  const broken = new StateStore({
    tableName: 'bybit-cancel-prod-state',
    client: {
      send: async () => {
        throw Object.assign(new Error('boom'), { name: 'InternalServerError' });
      },
    },
  });
  const context = (fired: unknown[]) => ({
    stage: 'prod',
    secret,
    state: broken,
    fire: async (detail: Record<string, unknown>) => {
      fired.push(detail);
      return 'event-1';
    },
    botName: async () => 'desk_bot',
    logger: silentLogger().logger,
    now: Date.now,
  });

  it('acts on no command, and says so in the chat (nothing can be kept to once without it)', async () => {
    const fired: unknown[] = [];
    const update: Update = {
      kind: 'message',
      updateId: 1,
      messageId: 1,
      chatId: '-100',
      user: dana,
      text: '/kill',
    };
    const job = (await handleUpdate(context(fired), update)) as Extract<Job, { kind: 'send' }>;
    expect(job.kind).toBe('send');
    expect(job.text).toMatch(/^Nothing was done: the state table could not be read or written/);
    expect(job.text).toContain('npm run kill-switch -- --stage prod');
    expect(fired).toEqual([]);
  });

  it('fires nothing on a button, and answers it', async () => {
    const fired: unknown[] = [];
    const update: Update = {
      kind: 'button',
      updateId: 2,
      queryId: 'q',
      messageId: 1,
      chatId: '-100',
      user: dana,
      data: 'go:prod:AAAAAAAAAAAAAAAAAAAAAA',
    };
    const job = await handleUpdate(context(fired), update);
    expect(job).toMatchObject({ kind: 'answer', queryId: 'q', alert: true });
    expect(fired).toEqual([]);
  });
});

describe('the kill-switch detail', () => {
  it('names the user in the reason, which never passes the 500 characters a kill switch takes', () => {
    const kill: Confirmation = { ...asked, action: 'kill', accounts: undefined, reason: 'r'.repeat(600) };
    const detail = killDetail(kill);
    expect(detail.origin).toBe('telegram');
    expect(String(detail.reason)).toMatch(/^Telegram \/kill by Dana \(@dana, id 7\): r+…$/);
    expect(String(detail.reason)).toHaveLength(500);
    expect('accounts' in detail).toBe(false);
    expect(killDetail({ ...kill, reason: undefined, accounts: ['hedge'] })).toEqual({
      origin: 'telegram',
      reason: 'Telegram /kill by Dana (@dana, id 7)',
      accounts: ['hedge'],
    });
  });
});

describe('the kill-switch detail at its limit', () => {
  it('keeps a reason of exactly 500 characters whole', () => {
    const by = 'Telegram /kill by Dana (@dana, id 7): ';
    const reason = 'r'.repeat(500 - by.length);
    const detail = killDetail({ ...asked, action: 'kill', accounts: undefined, reason });
    expect(detail.reason).toBe(`${by}${reason}`);
  });
});

describe('the jobs', () => {
  it('names the call that failed in each job, as the log field `what`', async () => {
    const failed = async (job: Job) => {
      const { bot } = fakeBot(['sendMessage', 'answerCallbackQuery', 'editMessageText']);
      const { logger, lines } = silentLogger();
      await runJob(jobContext({ bot, logger }), job);
      return lines.filter((l) => l.message === 'telegram call failed').map((l) => l.what);
    };
    expect(await failed({ kind: 'send', chatId: '-100', text: 'hi' })).toEqual(['send']);
    expect(await failed({ kind: 'answer', queryId: 'q', text: 'ok' })).toEqual(['answer the button']);
    expect(await failed({ kind: 'status', chatId: '-100' })).toEqual(['send the status']);
    expect(await failed({ kind: 'drill', chatId: '-100' })).toEqual([
      'say the drill started',
      'send the drill',
    ]);
    expect(await failed({ kind: 'reset', queryId: 'q', chatId: '-100', messageId: 4, asked })).toEqual([
      'answer the button',
      'edit the confirmation',
      'edit the confirmation',
    ]);
  });

  it('a drill that found problems: its whole report from the last drill record, every problem named', async () => {
    const { bot, calls } = fakeBot();
    const record = {
      requestId: 'req-1',
      report: {
        operation: 'drill',
        ok: false,
        accounts: [
          { account: 'main', ok: true, problems: [], warnings: [] },
          {
            account: 'hedge',
            ok: false,
            problems: [{ code: 'keyExpiresSoon', message: 'the key expires in 3 day(s)' }],
            warnings: [{ code: 'x', message: 'no strategy listed' }],
          },
        ],
      },
    } as unknown as RunRecord;
    const ctx = jobContext({
      bot,
      run: async (): Promise<Answered> => ({
        error: { type: 'DrillFailedError', message: 'kill-switch drill failed: hedge: …' },
        requestId: 'req-1',
      }),
      lastDrill: async () => record,
    });
    await runJob(ctx, { kind: 'drill', chatId: '-100' });
    expect(calls.map((c) => c.method)).toEqual(['sendMessage', 'sendMessage']);
    expect(lastText(calls)).toBe(
      [
        '<b>Drill FAILED on prod: 1 problem(s), the kill switch would fail</b>',
        '- main: ok',
        '- hedge: 1 PROBLEM(S)',
        '    problem: the key expires in 3 day(s)',
        '    warning: no strategy listed',
        'The runbook says what to do about each.',
      ].join('\n'),
    );
  });

  it('a drill that could not run, or whose record is another drill’s: its error, never a stack trace', async () => {
    const { bot, calls } = fakeBot();
    const ctx = jobContext({
      bot,
      run: async () => ({
        error: { type: 'DrillFailedError', message: 'hedge: the key expires' },
        requestId: 'req-2',
      }),
      lastDrill: async () => ({ requestId: 'req-1', report: { accounts: [] } }) as unknown as RunRecord,
    });
    await runJob(ctx, { kind: 'drill', chatId: '-100' });
    expect(lastText(calls)).toBe('<b>Drill FAILED on prod</b>\nDrillFailedError: hedge: the key expires');
  });

  it('a reset the function could not finish, and one Lambda would not start: said in the confirmation', async () => {
    for (const [run, expected] of [
      [
        async () => ({
          error: { type: 'HaltResetError', message: 'halt reset incomplete: hedge: key ab…cd: 10005' },
        }),
        'HaltResetError: halt reset incomplete: hedge: key ab…cd: 10005',
      ],
      [
        async () => {
          throw new FunctionInvokeError(
            'bybit-cancel-prod-reset',
            'ResourceNotFoundException: Function not found',
          );
        },
        'FunctionInvokeError: invoking bybit-cancel-prod-reset: ResourceNotFoundException: Function not found',
      ],
    ] as const) {
      const { bot, calls } = fakeBot();
      await runJob(jobContext({ bot, run }), {
        kind: 'reset',
        queryId: 'q',
        chatId: '-100',
        messageId: 4,
        asked,
      });
      expect(calls.map((c) => c.method)).toEqual([
        'answerCallbackQuery',
        'editMessageText',
        'editMessageText',
      ]);
      expect(lastText(calls)).toBe(
        [
          '<b>Reset on prod: INCOMPLETE or failed</b>',
          `by Dana (@dana, id 7). ${expected}`,
          'Accounts still halted stay halted; /status shows them. Run /reset again once the cause is fixed.',
        ].join('\n'),
      );
    }
  });

  it.each([
    [
      'a 200 that does not say it disarmed',
      { result: { statusCode: 200, operation: 'heartbeat', armed: true } },
      'Failed: the heartbeat function did not say it is disarmed.',
    ],
    [
      'Scheduler trouble (503)',
      {
        result: {
          statusCode: 503,
          error: 'SchedulerUnavailableError',
          message: 'EventBridge Scheduler did not answer in time; retry',
        },
      },
      'Failed: SchedulerUnavailableError: EventBridge Scheduler did not answer in time; retry (HTTP 503).',
    ],
    [
      'an answer with no status',
      { result: { armed: false } },
      'Failed: the heartbeat function gave no status.',
    ],
    [
      'an error the function threw',
      { error: { type: 'ConfigError', message: 'STAGE is not set' } },
      'Failed: ConfigError: STAGE is not set.',
    ],
  ] as [string, Answered, string][])(
    'a disarm answered with %s: NOT disarmed, try again',
    async (_, answered, why) => {
      expect(await disarmAnswered(answered)).toBe(
        [
          '<b>Dead man’s switch on prod: NOT disarmed</b>',
          why,
          'It is still armed if it was: /status shows when it fires. Try /disarm again.',
        ].join('\n'),
      );
    },
  );

  it('a disarm refused while trading is halted (423): says since when and why, and to reset first', async () => {
    const halted = {
      statusCode: 423,
      halted: true,
      since: '2026-03-01T09:30:00.000Z',
      origin: 'telegram',
      reason: 'Telegram /kill by Dana',
      accounts: ['hedge', 'main'],
      error: 'HaltedError',
      message: 'trading is halted: …',
    };
    expect(await disarmAnswered({ result: halted })).toBe(
      [
        '<b>Dead man’s switch on prod: NOT disarmed</b>',
        'Refused: trading is halted on hedge, main since 2026-03-01 09:30:00 UTC (telegram: Telegram /kill by Dana). Nothing was changed: the dead man’s switch stays as it was.',
        'Find out why, reset first (/reset), then /disarm again.',
      ].join('\n'),
    );
  });

  it('a Telegram call that fails is counted and logged, never thrown, and the other calls still go', async () => {
    const { bot, calls } = fakeBot(['editMessageText']);
    const { logger, lines } = silentLogger();
    const counts = await runJob(jobContext({ bot, logger }), {
      kind: 'answer',
      queryId: 'q',
      text: 'Cancelled. Nothing was done.',
      edit: { chatId: '-100', messageId: 4, text: 'cancelled' },
    });
    expect(counts).toEqual({ calls: 2, failed: 1 });
    expect(calls.map((c) => c.method).sort()).toEqual(['answerCallbackQuery', 'editMessageText']);
    expect(lines.find((l) => l.message === 'telegram call failed')).toMatchObject({
      what: 'edit the confirmation',
      errorMessage: 'Telegram editMessageText failed: HTTP 400: Bad Request: chat not found',
    });
    expect(JSON.stringify(lines)).not.toContain(secret.botToken);
  });
});

// ---- The flows of handleUpdate and runJob, on an in-memory state table and an injected clock ----

const NOW = Date.UTC(2026, 2, 1, 9, 30, 0);
const eve = { id: '8', name: 'Eve' };

type Key = { pk: string; sk: string };
type Fails = { get?: boolean; put?: boolean; putIfAbsent?: boolean | ((key: Key) => boolean) };

/** A state table in memory that records every write, and throws on the calls `fails` names. */
function memoryState(fails: Fails = {}) {
  const items = new Map<string, unknown>();
  const writes: { op: string; key: Key; value: unknown; options: unknown }[] = [];
  const id = (key: Key) => `${key.pk}|${key.sk}`;
  const boom = () => Object.assign(new Error('table down'), { name: 'InternalServerError' });
  const state = {
    async get(key: Key) {
      if (fails.get) throw boom();
      return items.has(id(key)) ? { ...key, value: items.get(id(key)) } : undefined;
    },
    async put(key: Key, value: unknown, options: unknown) {
      if (fails.put) throw boom();
      writes.push({ op: 'put', key, value, options });
      items.set(id(key), value);
    },
    async putIfAbsent(key: Key, value: unknown, options: unknown) {
      const fail = typeof fails.putIfAbsent === 'function' ? fails.putIfAbsent(key) : fails.putIfAbsent;
      if (fail) throw boom();
      if (items.has(id(key))) return false;
      writes.push({ op: 'putIfAbsent', key, value, options });
      items.set(id(key), value);
      return true;
    },
  };
  return {
    state: state as unknown as StateStore,
    items,
    writes,
    fails,
    set: (k: Key, v: unknown) => items.set(id(k), v),
  };
}

/** An update context on a memory state table, a clock the test moves, and a recording `fire`. */
function updateContext(
  options: { fails?: Fails; botName?: () => Promise<string | undefined>; fire?: () => Promise<string> } = {},
) {
  const memory = memoryState(options.fails);
  const { logger, lines } = silentLogger();
  const fired: Record<string, unknown>[] = [];
  const botNames: number[] = [];
  const clock = { now: NOW };
  const ctx = {
    stage: 'prod',
    secret: { ...secret, userIds: ['7', '8'] },
    state: memory.state,
    fire: async (detail: Record<string, unknown>) => {
      fired.push(detail);
      return options.fire ? options.fire() : 'event-1';
    },
    botName: async () => {
      botNames.push(1);
      return options.botName ? options.botName() : 'Desk_Bot';
    },
    logger,
    now: () => clock.now,
  };
  return { ctx, memory, lines, fired, botNames, clock };
}

let updateIds = 100;
const message = (text: string, user: TelegramUser = dana, chatId = '-100'): Update => ({
  kind: 'message',
  updateId: updateIds++,
  messageId: 1,
  chatId,
  user,
  text,
});
const press = (data: string, user: TelegramUser = dana, chatId = '-100'): Update => ({
  kind: 'button',
  updateId: updateIds++,
  queryId: 'q-1',
  messageId: 5,
  chatId,
  user,
  data,
});
const logged = (lines: Record<string, unknown>[], message: string) =>
  lines.filter((l) => l.message === message);

describe('handleUpdate: who, and once', () => {
  it('an update that is neither a command nor a button: nothing, not even a state write', async () => {
    const { ctx, memory, lines } = updateContext();
    expect(await handleUpdate(ctx, { kind: 'other', updateId: 9 })).toBeUndefined();
    expect(memory.writes).toEqual([]);
    expect(logged(lines, 'telegram update ignored')).toMatchObject([
      { level: 'info', updateId: 9, why: 'not a command or a button' },
    ]);
  });

  it('a chat or a user not in the secret: nothing, not even a state write', async () => {
    const { ctx, memory, lines } = updateContext();
    expect(await handleUpdate(ctx, message('/kill', dana, '-200'))).toBeUndefined();
    expect(await handleUpdate(ctx, message('/kill', { id: '9', name: 'Mallory' }))).toBeUndefined();
    expect(memory.writes).toEqual([]);
    expect(logged(lines, 'telegram update ignored').map((l) => [l.level, l.why, l.chatId, l.userId])).toEqual(
      [
        ['warn', 'the chat is not in chatIds', '-200', '7'],
        ['warn', 'the user is not in userIds', '-100', '9'],
      ],
    );
  });

  it('writes the update id once, for 2 days; a redelivery is ignored', async () => {
    const { ctx, memory, lines } = updateContext();
    const update = message('/help');
    expect(await handleUpdate(ctx, update)).toMatchObject({ kind: 'send' });
    expect(memory.writes).toEqual([
      {
        op: 'putIfAbsent',
        key: { pk: `telegram-update#${update.updateId}`, sk: 'update' },
        value: { kind: 'message', chatId: '-100', userId: '7', at: '2026-03-01T09:30:00.000Z' },
        options: { ttlSeconds: 172_800 },
      },
    ]);
    expect(await handleUpdate(ctx, update)).toBeUndefined();
    expect(logged(lines, 'telegram update ignored')).toMatchObject([
      { level: 'warn', updateId: update.updateId, why: 'already handled (redelivered)' },
    ]);
  });

  it('the state table down on a message: says so in the chat, logged as an error', async () => {
    const { ctx, lines } = updateContext({ fails: { putIfAbsent: true } });
    expect(await handleUpdate(ctx, message('/status'))).toEqual({
      kind: 'send',
      chatId: '-100',
      text: "Nothing was done: the state table could not be read or written, and without it an update or a confirmation cannot be kept to once. Try again in a minute. In an emergency: npm run kill-switch -- --stage prod, or cancel in Bybit's app.",
    });
    expect(logged(lines, 'telegram update not acted on: the state table failed')).toMatchObject([
      { level: 'error', errorMessage: 'table down' },
    ]);
  });
});

describe('handleUpdate: commands', () => {
  it('text that is not a command: nothing', async () => {
    const { ctx, lines } = updateContext();
    expect(await handleUpdate(ctx, message('hello there'))).toBeUndefined();
    expect(lines.filter((l) => String(l.message).startsWith('telegram command'))).toEqual([]);
  });

  it('a command for another stage is ignored; one for this stage or this bot is not', async () => {
    const { ctx, lines, botNames } = updateContext();
    expect(await handleUpdate(ctx, message('/status@staging'))).toBeUndefined();
    expect(logged(lines, 'telegram command ignored')).toMatchObject([
      { level: 'info', why: 'for another stage', target: 'staging' },
    ]);
    expect(await handleUpdate(ctx, message('/status@PROD'))).toEqual({ kind: 'status', chatId: '-100' });
    expect(botNames).toEqual([]);
    expect(await handleUpdate(ctx, message('/status@desk_bot'))).toEqual({ kind: 'status', chatId: '-100' });
    expect(botNames).toEqual([1]);
    expect(await handleUpdate(ctx, message('/status@other_bot'))).toBeUndefined();
    expect(logged(lines, 'telegram command')).toMatchObject([
      { level: 'info', command: 'status', chatId: '-100', userId: '7' },
      { level: 'info', command: 'status', chatId: '-100', userId: '7' },
    ]);
  });

  it('a command naming a bot when the bot cannot be asked: ignored, logged', async () => {
    const { ctx, lines } = updateContext({
      botName: async () => {
        throw new Error('getMe failed');
      },
    });
    expect(await handleUpdate(ctx, message('/kill@desk_bot'))).toBeUndefined();
    expect(logged(lines, 'telegram command ignored: its bot could not be told')).toMatchObject([
      { level: 'warn', errorMessage: 'getMe failed' },
    ]);
  });

  it('/help and /start: the help; an unknown command: says so', async () => {
    const { ctx } = updateContext();
    for (const text of ['/help', '/start']) {
      const job = (await handleUpdate(ctx, message(text))) as Extract<Job, { kind: 'send' }>;
      expect(job).toEqual({ kind: 'send', chatId: '-100', text: job.text });
      expect(job.text.split('\n')[0]).toBe('<b>bybit-cancel, stage prod</b>');
    }
    expect(await handleUpdate(ctx, message('/frobnicate'))).toEqual({
      kind: 'send',
      chatId: '-100',
      text: 'Unknown command /frobnicate. /help lists the commands.',
    });
  });

  it('/drill: every account, or those named (once each); a bad name is refused', async () => {
    const { ctx } = updateContext();
    expect(await handleUpdate(ctx, message('/drill'))).toEqual({ kind: 'drill', chatId: '-100' });
    expect(await handleUpdate(ctx, message('/drill main hedge main'))).toEqual({
      kind: 'drill',
      chatId: '-100',
      accounts: ['main', 'hedge'],
    });
    expect(await handleUpdate(ctx, message(`/drill main ${'x'.repeat(70)}$`))).toEqual({
      kind: 'send',
      chatId: '-100',
      text: `Nothing was done: "${'x'.repeat(64)}" is not an account name.`,
    });
  });

  it('/kill: the leading known accounts are accounts, the rest the reason; kept 1 day under a nonce, sent with two buttons', async () => {
    const { ctx, memory } = updateContext();
    memory.set(recordKeys.last('drill'), {
      report: { accounts: [{ account: 'main' }, { account: 'hedge' }] },
    });
    memory.set(recordKeys.last('killSwitch'), { report: { accounts: ['main', 'bad name', 5, 'spot.1'] } });
    const job = (await handleUpdate(ctx, message('/kill main hedge main loss too big'))) as Extract<
      Job,
      { kind: 'send' }
    >;
    const put = memory.writes.find((w) => w.op === 'put');
    const nonce = String(put?.key.pk).replace('nonce#', '');
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(put).toEqual({
      op: 'put',
      key: { pk: `nonce#${nonce}`, sk: 'confirmation' },
      value: {
        action: 'kill',
        accounts: ['main', 'hedge'],
        reason: 'loss too big',
        stage: 'prod',
        by: 'Dana (@dana, id 7)',
        chatId: '-100',
        userId: '7',
        expiresAt: NOW + 60_000,
      },
      options: { ttlSeconds: 86_400 },
    });
    expect(job.kind).toBe('send');
    expect(job.chatId).toBe('-100');
    expect(job.keyboard).toEqual({
      inline_keyboard: [
        [
          { text: 'Kill now', callback_data: `go:prod:${nonce}` },
          { text: 'Cancel', callback_data: `no:prod:${nonce}` },
        ],
      ],
    });
    expect(job.text.split('\n')).toEqual([
      '<b>Fire the kill switch on prod?</b>',
      'Accounts: main, hedge',
      expect.stringMatching(/^What happens: the kill-switch event/),
      'Reason: loss too big',
      'Asked by: Dana (@dana, id 7)',
      'Only they can confirm, within 60 s (until 09:31:00 UTC).',
    ]);
  });

  it('/kill of every account shows the accounts seen at the last runs; an unknown first word is reason', async () => {
    const { ctx, memory } = updateContext();
    memory.set(recordKeys.last('drill'), {
      report: { accounts: [{ account: 'main' }, { account: 'hedge' }] },
    });
    memory.set(recordKeys.last('killSwitch'), { report: { accounts: ['main', 'bad name', 5, 'spot.1'] } });
    const job = (await handleUpdate(ctx, message('/kill ghost'))) as Extract<Job, { kind: 'send' }>;
    expect(memory.writes.find((w) => w.op === 'put')?.value).toEqual({
      action: 'kill',
      reason: 'ghost',
      stage: 'prod',
      by: 'Dana (@dana, id 7)',
      chatId: '-100',
      userId: '7',
      expiresAt: NOW + 60_000,
    });
    expect(job.text.split('\n')[1]).toBe(
      'Accounts: every account in the exchange secret (seen at the last run: main, hedge, spot.1)',
    );
  });

  it('/kill skips an empty entry among the accounts of the last runs, and keeps the rest', async () => {
    const { ctx, memory, lines } = updateContext();
    memory.set(recordKeys.last('drill'), { report: { accounts: [null, { account: 'main' }] } });
    const job = (await handleUpdate(ctx, message('/kill'))) as Extract<Job, { kind: 'send' }>;
    expect(job.text.split('\n')[1]).toBe(
      'Accounts: every account in the exchange secret (seen at the last run: main)',
    );
    expect(logged(lines, 'telegram: the accounts of the last runs could not be read')).toEqual([]);
  });

  it('/kill with no records, or records with no accounts: every account, no reason', async () => {
    const { ctx, memory } = updateContext();
    memory.set(recordKeys.last('drill'), { report: { accounts: 'none' } });
    memory.set(recordKeys.last('killSwitch'), {});
    const job = (await handleUpdate(ctx, message('/kill'))) as Extract<Job, { kind: 'send' }>;
    const value = memory.writes.find((w) => w.op === 'put')?.value as Record<string, unknown>;
    expect(Object.keys(value).sort()).toEqual(['action', 'by', 'chatId', 'expiresAt', 'stage', 'userId']);
    expect(job.text.split('\n')[1]).toBe('Accounts: every account in the exchange secret');
  });

  it('/kill when the last runs cannot be read: still asked, every account, logged', async () => {
    const { ctx, memory, lines } = updateContext({ fails: { get: true } });
    const job = (await handleUpdate(ctx, message('/kill main'))) as Extract<Job, { kind: 'send' }>;
    expect(memory.writes.find((w) => w.op === 'put')?.value).toMatchObject({
      action: 'kill',
      reason: 'main',
    });
    expect(job.text.split('\n')[1]).toBe('Accounts: every account in the exchange secret');
    expect(logged(lines, 'telegram: the accounts of the last runs could not be read')).toMatchObject([
      { level: 'warn', errorMessage: 'table down' },
    ]);
  });

  it('/reset: every halted account, or those named; a bad name is refused and nothing kept', async () => {
    const { ctx, memory } = updateContext();
    const all = (await handleUpdate(ctx, message('/reset'))) as Extract<Job, { kind: 'send' }>;
    expect(all.keyboard?.inline_keyboard[0]?.[0]?.text).toBe('Reset now');
    const some = (await handleUpdate(ctx, message('/reset hedge hedge'))) as Extract<Job, { kind: 'send' }>;
    expect(some.text.split('\n')[1]).toBe('Accounts: hedge');
    expect(memory.writes.filter((w) => w.op === 'put').map((w) => w.value)).toEqual([
      {
        action: 'reset',
        stage: 'prod',
        by: 'Dana (@dana, id 7)',
        chatId: '-100',
        userId: '7',
        expiresAt: NOW + 60_000,
      },
      {
        action: 'reset',
        accounts: ['hedge'],
        stage: 'prod',
        by: 'Dana (@dana, id 7)',
        chatId: '-100',
        userId: '7',
        expiresAt: NOW + 60_000,
      },
    ]);
    expect(await handleUpdate(ctx, message('/reset a/b'))).toEqual({
      kind: 'send',
      chatId: '-100',
      text: 'Nothing was done: "a/b" is not an account name.',
    });
    expect(memory.writes.filter((w) => w.op === 'put')).toHaveLength(2);
  });

  it('/disarm: a confirmation; with anything after it, refused', async () => {
    const { ctx, memory } = updateContext();
    const job = (await handleUpdate(ctx, message('/disarm'))) as Extract<Job, { kind: 'send' }>;
    expect(job.keyboard?.inline_keyboard[0]?.map((b) => b.text)).toEqual(['Disarm now', 'Cancel']);
    expect(memory.writes.filter((w) => w.op === 'put').map((w) => w.value)).toEqual([
      {
        action: 'disarm',
        stage: 'prod',
        by: 'Dana (@dana, id 7)',
        chatId: '-100',
        userId: '7',
        expiresAt: NOW + 60_000,
      },
    ]);
    expect(await handleUpdate(ctx, message('/disarm now'))).toEqual({
      kind: 'send',
      chatId: '-100',
      text: 'Nothing was done: /disarm takes nothing after it.',
    });
  });

  it('a confirmation the state table would not keep: nothing asked, said in the chat', async () => {
    const { ctx, lines } = updateContext({ fails: { put: true } });
    const job = (await handleUpdate(ctx, message('/reset'))) as Extract<Job, { kind: 'send' }>;
    expect(job).toEqual({ kind: 'send', chatId: '-100', text: job.text });
    expect(job.text).toMatch(/^Nothing was done: the state table could not be read or written/);
    expect(logged(lines, 'telegram confirmation not kept: the state table failed')).toMatchObject([
      { level: 'error', errorMessage: 'table down' },
    ]);
  });
});

describe('handleUpdate: the buttons', () => {
  /** A context holding one confirmation of `text`, asked by Dana; answers its nonce. */
  async function asked(text: string, options: Parameters<typeof updateContext>[0] = {}) {
    const setup = updateContext(options);
    const job = (await handleUpdate(setup.ctx, message(text))) as Extract<Job, { kind: 'send' }>;
    const nonce = String(job.keyboard?.inline_keyboard[0]?.[0]?.callback_data).split(':')[2] as string;
    return { ...setup, nonce };
  }
  const refusal = (text: string) => ({ kind: 'answer', queryId: 'q-1', text, alert: true });

  it('data that is not a confirmation, or for another stage: refused, nothing read', async () => {
    const { ctx, lines, nonce } = await asked('/kill');
    expect(await handleUpdate(ctx, press('kill'))).toEqual(
      refusal('This button is not valid. Nothing was done.'),
    );
    expect(await handleUpdate(ctx, press(`go:staging:${nonce}`))).toEqual(
      refusal('This button is not for stage prod. Nothing was done.'),
    );
    expect(logged(lines, 'telegram button refused').map((l) => [l.level, l.why, l.userId])).toEqual([
      ['warn', 'not a confirmation button', '7'],
      ['warn', 'for another stage', '7'],
    ]);
  });

  it('a nonce with no confirmation, or one of another chat or stage: not valid', async () => {
    const { ctx, memory, nonce } = await asked('/kill');
    const invalid = refusal('This button is not valid. Nothing was done.');
    expect(await handleUpdate(ctx, press(`go:prod:${'A'.repeat(22)}`))).toEqual(invalid);
    const kept = memory.items.get(`nonce#${nonce}|confirmation`) as Confirmation;
    memory.set(recordKeys.confirmation(nonce), { ...kept, chatId: '-101' });
    expect(await handleUpdate(ctx, press(`go:prod:${nonce}`))).toEqual(invalid);
    memory.set(recordKeys.confirmation(nonce), { ...kept, stage: 'prod2' });
    expect(await handleUpdate(ctx, press(`go:prod:${nonce}`))).toEqual(invalid);
    expect(memory.writes.filter((w) => w.key.sk === 'used')).toEqual([]);
  });

  it('logs why a button was not valid, and a press of a used confirmation', async () => {
    const { ctx, lines, nonce } = await asked('/kill');
    await handleUpdate(ctx, press(`go:prod:${'A'.repeat(22)}`));
    await handleUpdate(ctx, press(`no:prod:${nonce}`));
    await handleUpdate(ctx, press(`go:prod:${nonce}`));
    expect(logged(lines, 'telegram button refused').map((l) => [l.why, l.userId])).toEqual([
      ['no such confirmation', '7'],
      ['already used', '7'],
    ]);
  });

  it('pressed by another allowed user: only the asker can confirm', async () => {
    const { ctx, fired, lines, nonce } = await asked('/kill');
    expect(await handleUpdate(ctx, press(`go:prod:${nonce}`, eve))).toEqual(
      refusal('Only Dana (@dana, id 7) can confirm this. Nothing was done.'),
    );
    expect(fired).toEqual([]);
    expect(logged(lines, 'telegram button refused')).toMatchObject([
      { why: 'pressed by another user', userId: '8' },
    ]);
  });

  it('expired after 60 s (not at 60 s): refused, and the confirmation says it expired', async () => {
    const { ctx, clock, fired, lines, nonce } = await asked('/kill');
    clock.now = NOW + 60_001;
    expect(await handleUpdate(ctx, press(`go:prod:${nonce}`))).toEqual({
      kind: 'answer',
      queryId: 'q-1',
      text: 'This confirmation has expired. Nothing was done.',
      alert: true,
      edit: {
        chatId: '-100',
        messageId: 5,
        text: '<b>Kill switch on prod: expired</b>\nNot confirmed within 60 s (by 09:31:00 UTC). Nothing was done; send /kill again.',
      },
    });
    expect(logged(lines, 'telegram button refused')).toMatchObject([{ level: 'warn', why: 'expired' }]);
    clock.now = NOW + 60_000;
    expect(await handleUpdate(ctx, press(`go:prod:${nonce}`))).toMatchObject({
      text: 'Kill switch fired. Its report follows.',
    });
    expect(fired).toHaveLength(1);
  });

  it('the state table down when the confirmation is read, or when the press is written: nothing done', async () => {
    const read = await asked('/kill');
    read.memory.fails.get = true;
    expect(await handleUpdate(read.ctx, press(`go:prod:${read.nonce}`))).toEqual(
      refusal('Nothing was done: the state table could not be read. Try again in a minute.'),
    );
    const write = await asked('/kill');
    write.memory.fails.putIfAbsent = (key) => key.sk === 'used';
    expect(await handleUpdate(write.ctx, press(`go:prod:${write.nonce}`))).toEqual(
      refusal('Nothing was done: the state table could not be written. Try again in a minute.'),
    );
    for (const { lines, fired } of [read, write]) {
      expect(fired).toEqual([]);
      expect(logged(lines, 'telegram button not acted on: the state table failed')).toMatchObject([
        { level: 'error', errorMessage: 'table down' },
      ]);
    }
  });

  it('Kill now: fires the event once, answers, and shows it fired; a second press does nothing more', async () => {
    const { ctx, memory, fired, lines, clock, nonce } = await asked('/kill oops');
    clock.now = NOW + 2_000;
    expect(await handleUpdate(ctx, press(`go:prod:${nonce}`))).toEqual({
      kind: 'answer',
      queryId: 'q-1',
      text: 'Kill switch fired. Its report follows.',
      edit: {
        chatId: '-100',
        messageId: 5,
        text: [
          '<b>Kill switch FIRED on prod</b>',
          'by Dana (@dana, id 7) at 09:30:02 UTC.',
          'Accounts: every account',
          'Event id: event-1',
          'Its report follows here once it has run.',
        ].join('\n'),
      },
    });
    expect(fired).toEqual([{ origin: 'telegram', reason: 'Telegram /kill by Dana (@dana, id 7): oops' }]);
    expect(memory.writes.find((w) => w.key.sk === 'used')).toEqual({
      op: 'putIfAbsent',
      key: { pk: `nonce#${nonce}`, sk: 'used' },
      value: { verb: 'go', userId: '7', at: '2026-03-01T09:30:02.000Z' },
      options: { ttlSeconds: 86_400 },
    });
    expect(logged(lines, 'telegram kill switch fired')).toMatchObject([{ eventId: 'event-1', by: '7' }]);
    expect(logged(lines, 'telegram confirmation')).toMatchObject([
      { action: 'kill', verb: 'go', userId: '7' },
    ]);
    expect(await handleUpdate(ctx, press(`go:prod:${nonce}`))).toEqual(
      refusal('This confirmation was already used. Nothing more was done.'),
    );
    expect(fired).toHaveLength(1);
  });

  it('Kill now when the event cannot be put: NOT fired, said in an alert and in the confirmation', async () => {
    const { ctx, lines, nonce } = await asked('/kill', {
      fire: async () => {
        throw new Error('EventBridge PutEvents failed: throttled');
      },
    });
    expect(await handleUpdate(ctx, press(`go:prod:${nonce}`))).toEqual({
      kind: 'answer',
      queryId: 'q-1',
      text: 'The kill switch was NOT fired.',
      alert: true,
      edit: {
        chatId: '-100',
        messageId: 5,
        text: [
          '<b>Kill switch NOT fired on prod</b>',
          'EventBridge PutEvents failed: throttled.',
          "Nothing was fired. Send /kill again, or fire it with npm run kill-switch -- --stage prod, or cancel in Bybit's app.",
        ].join('\n'),
      },
    });
    expect(logged(lines, 'telegram kill switch not fired')).toMatchObject([{ level: 'error' }]);
  });

  it('Kill now when the failure carries no message: "EventBridge failed"', async () => {
    const { ctx, nonce } = await asked('/kill', {
      fire: async () => {
        throw {};
      },
    });
    const job = (await handleUpdate(ctx, press(`go:prod:${nonce}`))) as Extract<Job, { kind: 'answer' }>;
    expect(job.edit?.text.split('\n')[1]).toBe('EventBridge failed.');
  });

  it('Cancel: nothing fired, the confirmation shows who cancelled it and when', async () => {
    const { ctx, fired, memory, nonce } = await asked('/kill');
    expect(await handleUpdate(ctx, press(`no:prod:${nonce}`))).toEqual({
      kind: 'answer',
      queryId: 'q-1',
      text: 'Cancelled. Nothing was done.',
      edit: {
        chatId: '-100',
        messageId: 5,
        text: '<b>Kill switch on prod: cancelled</b>\nby Dana (@dana, id 7) at 09:30:00 UTC. Nothing was done.',
      },
    });
    expect(fired).toEqual([]);
    expect(memory.writes.find((w) => w.key.sk === 'used')?.value).toMatchObject({ verb: 'no' });
  });

  it.each(['reset', 'disarm'] as const)(
    '%s now: a job that runs it, with the confirmation',
    async (action) => {
      const { ctx, fired, memory, nonce } = await asked(`/${action}`);
      expect(await handleUpdate(ctx, press(`go:prod:${nonce}`))).toEqual({
        kind: action,
        queryId: 'q-1',
        chatId: '-100',
        messageId: 5,
        asked: memory.items.get(`nonce#${nonce}|confirmation`),
      });
      expect(memory.items.get(`nonce#${nonce}|confirmation`)).toMatchObject({ action, userId: '7' });
      expect(fired).toEqual([]);
    },
  );
});

describe('runJob: each job', () => {
  it('send: the text, with its buttons only when it has them', async () => {
    const { bot, calls } = fakeBot();
    const keyboard = { inline_keyboard: [[{ text: 'Kill now', callback_data: 'go:prod:n' }]] };
    expect(await runJob(jobContext({ bot }), { kind: 'send', chatId: '-100', text: 'a', keyboard })).toEqual({
      calls: 1,
      failed: 0,
    });
    await runJob(jobContext({ bot }), { kind: 'send', chatId: '-100', text: 'b' });
    expect(calls).toEqual([
      {
        method: 'sendMessage',
        body: { chat_id: '-100', text: 'a', parse_mode: 'HTML', reply_markup: keyboard },
      },
      { method: 'sendMessage', body: { chat_id: '-100', text: 'b', parse_mode: 'HTML' } },
    ]);
  });

  it('answer: the button alone when there is nothing to edit; an alert when asked', async () => {
    const { bot, calls } = fakeBot();
    expect(
      await runJob(jobContext({ bot }), { kind: 'answer', queryId: 'q', text: 'no', alert: true }),
    ).toEqual({
      calls: 1,
      failed: 0,
    });
    expect(calls).toEqual([
      { method: 'answerCallbackQuery', body: { callback_query_id: 'q', text: 'no', show_alert: true } },
    ]);
  });

  it('answer with an edit: the button and the confirmation', async () => {
    const { bot, calls } = fakeBot();
    await runJob(jobContext({ bot }), {
      kind: 'answer',
      queryId: 'q',
      text: 'ok',
      edit: { chatId: '-100', messageId: 4, text: 'done' },
    });
    expect(calls).toEqual([
      { method: 'answerCallbackQuery', body: { callback_query_id: 'q', text: 'ok' } },
      {
        method: 'editMessageText',
        body: { chat_id: '-100', message_id: 4, text: 'done', parse_mode: 'HTML' },
      },
    ]);
  });

  it('status: reads it and sends it', async () => {
    const { bot, calls } = fakeBot();
    const status: StackStatus = {
      operation: 'status',
      stage: 'prod',
      ok: true,
      attention: [],
      checkedAt: '2026-03-01T09:30:00.000Z',
      halt: { halted: false, accounts: [] },
      deadMansSwitch: { armed: true, firesAt: '2026-03-01T09:31:00.000Z' },
      lastKillSwitch: null,
      lastDrill: null,
    };
    const counts = await runJob(jobContext({ bot, readStatus: async () => status, now: () => NOW }), {
      kind: 'status',
      chatId: '-100',
    });
    expect(counts).toEqual({ calls: 1, failed: 0 });
    expect(calls).toEqual([
      {
        method: 'sendMessage',
        body: {
          chat_id: '-100',
          parse_mode: 'HTML',
          text: [
            '<b>prod: all is well</b>',
            'Halt: none',
            'Dead man’s switch: armed, fires at 2026-03-01 09:31:00 UTC (in 60 s)',
            'Last kill switch: none recorded',
            'Last drill: none recorded',
          ].join('\n'),
        },
      },
    ]);
  });

  it('drill: says it started, runs the drill function for the accounts, sends its report', async () => {
    const { bot, calls } = fakeBot();
    const runs: unknown[][] = [];
    const counts = await runJob(
      jobContext({
        bot,
        run: async (fn, payload) => {
          runs.push([fn, payload]);
          return {
            result: { ok: true, accounts: [{ account: 'main', ok: true, problems: [], warnings: [] }] },
          };
        },
      }),
      { kind: 'drill', chatId: '-100', accounts: ['main'] },
    );
    expect(counts).toEqual({ calls: 2, failed: 0 });
    expect(runs).toEqual([['drill', { drill: true, accounts: ['main'] }]]);
    expect(calls.map((c) => c.body.text)).toEqual([
      'Running the kill-switch drill on prod (main; read-only, nothing is cancelled)…',
      '<b>Drill passed on prod: 1 account(s), no problem</b>\n- main: ok',
    ]);
  });

  it('drill of every account: no accounts in the payload', async () => {
    const { bot } = fakeBot();
    const runs: unknown[][] = [];
    await runJob(
      jobContext({
        bot,
        run: async (fn, payload) => {
          runs.push([fn, payload]);
          return { result: { accounts: [] } };
        },
      }),
      { kind: 'drill', chatId: '-100' },
    );
    expect(runs).toEqual([['drill', { drill: true }]]);
  });

  it('a failed drill: the record when it is this drill’s (or the answer names none), else the error', async () => {
    const report = {
      accounts: [{ account: 'hedge', ok: false, problems: [{ message: 'p' }], warnings: [] }],
    };
    const cases: [Answered, RunRecord | undefined | 'throws', string][] = [
      [
        { error: { type: 'DrillFailedError', message: 'm' } },
        { requestId: 'any', report } as unknown as RunRecord,
        '<b>Drill FAILED on prod: 1 problem(s), the kill switch would fail</b>',
      ],
      [
        { error: { type: 'DrillFailedError', message: 'm' }, requestId: 'r' },
        { requestId: 'r' } as unknown as RunRecord,
        '<b>Drill FAILED on prod</b>',
      ],
      [
        { error: { type: 'DrillFailedError', message: 'm' }, requestId: 'r' },
        undefined,
        '<b>Drill FAILED on prod</b>',
      ],
      [
        { error: { type: 'DrillFailedError', message: 'm' }, requestId: 'r' },
        'throws',
        '<b>Drill FAILED on prod</b>',
      ],
      [
        { error: { type: 'AuthError', message: 'm' } },
        { requestId: 'any', report } as unknown as RunRecord,
        '<b>Drill FAILED on prod</b>',
      ],
    ];
    for (const [answered, record, head] of cases) {
      const { bot, calls } = fakeBot();
      let lastDrillReads = 0;
      await runJob(
        jobContext({
          bot,
          run: async () => answered,
          lastDrill: async () => {
            lastDrillReads++;
            if (record === 'throws') throw new Error('table down');
            return record;
          },
        }),
        { kind: 'drill', chatId: '-100' },
      );
      expect(lastText(calls).split('\n')[0]).toBe(head);
      if (head === '<b>Drill FAILED on prod</b>')
        expect(lastText(calls).split('\n')[1]).toBe(`${answered.error?.type}: m`);
      expect(lastDrillReads).toBe(answered.error?.type === 'DrillFailedError' ? 1 : 0);
    }
  });

  it('reset: answers the button, shows it running, runs the reset function, shows its report', async () => {
    const { bot, calls } = fakeBot();
    const runs: unknown[][] = [];
    const { logger, lines } = silentLogger();
    const counts = await runJob(
      jobContext({
        bot,
        logger,
        now: () => NOW,
        run: async (fn, payload) => {
          runs.push([fn, payload]);
          return { result: { ok: true, message: 'halt reset', accounts: [] } };
        },
      }),
      { kind: 'reset', queryId: 'q', chatId: '-100', messageId: 4, asked },
    );
    expect(counts).toEqual({ calls: 3, failed: 0 });
    expect(runs).toEqual([['reset', { accounts: ['hedge'], by: 'Telegram: Dana (@dana, id 7)' }]]);
    expect(calls).toEqual([
      { method: 'answerCallbackQuery', body: { callback_query_id: 'q', text: 'Confirmed: running…' } },
      {
        method: 'editMessageText',
        body: {
          chat_id: '-100',
          message_id: 4,
          parse_mode: 'HTML',
          text: '<b>Reset of the halt on prod: confirmed</b>\nby Dana (@dana, id 7) at 09:30:00 UTC; running…',
        },
      },
      {
        method: 'editMessageText',
        body: {
          chat_id: '-100',
          message_id: 4,
          parse_mode: 'HTML',
          text: '<b>Reset on prod: done</b>\nby Dana (@dana, id 7). halt reset',
        },
      },
    ]);
    expect(logged(lines, 'telegram reset')).toMatchObject([{ ok: true }]);
  });

  it('reset of every halted account: no accounts in the payload; its error logged by type', async () => {
    const { bot } = fakeBot();
    const runs: unknown[][] = [];
    const { logger, lines } = silentLogger();
    await runJob(
      jobContext({
        bot,
        logger,
        run: async (fn, payload) => {
          runs.push([fn, payload]);
          return { error: { type: 'HaltResetError', message: 'x' } };
        },
      }),
      { kind: 'reset', queryId: 'q', chatId: '-100', messageId: 4, asked: { ...asked, accounts: [] } },
    );
    expect(runs).toEqual([['reset', { by: 'Telegram: Dana (@dana, id 7)' }]]);
    expect(logged(lines, 'telegram reset')).toMatchObject([{ ok: false, error: 'HaltResetError' }]);
  });

  it('disarm: the heartbeat function asked to disarm; 200 armed false is disarmed', async () => {
    const runs: unknown[][] = [];
    const { bot, calls } = fakeBot();
    const { logger, lines } = silentLogger();
    await runJob(
      jobContext({
        bot,
        logger,
        run: async (fn, payload) => {
          runs.push([fn, payload]);
          return { result: { statusCode: 200, armed: false } };
        },
      }),
      { kind: 'disarm', queryId: 'q', chatId: '-100', messageId: 4, asked: { ...asked, action: 'disarm' } },
    );
    expect(runs).toEqual([['heartbeat', { disarm: true }]]);
    expect(lastText(calls)).toBe(
      '<b>Dead man’s switch on prod: disarmed</b>\nby Dana (@dana, id 7). The dead man’s switch is off: no kill switch fires on silence until your bot’s next heartbeat arms it again.',
    );
    expect(logged(lines, 'telegram disarm')).toMatchObject([{ outcome: 'disarmed', statusCode: 200 }]);
  });

  it('disarm refused (423) with odd fields: only string accounts, no since, origin or reason', async () => {
    expect(
      await disarmAnswered({
        result: { statusCode: 423, accounts: ['a', 5, 'b'], since: 1, origin: null, reason: 2 },
      }),
    ).toBe(
      [
        '<b>Dead man’s switch on prod: NOT disarmed</b>',
        'Refused: trading is halted on a, b. Nothing was changed: the dead man’s switch stays as it was.',
        'Find out why, reset first (/reset), then /disarm again.',
      ].join('\n'),
    );
    expect((await disarmAnswered({ result: { statusCode: 423, accounts: 'a' } })).split('\n')[1]).toBe(
      'Refused: trading is halted on an account. Nothing was changed: the dead man’s switch stays as it was.',
    );
  });

  it('disarm answered with no result, or a status with no error or message', async () => {
    expect((await disarmAnswered({})).split('\n')[1]).toBe('Failed: the heartbeat function gave no status.');
    expect((await disarmAnswered({ result: { statusCode: 500 } })).split('\n')[1]).toBe(
      'Failed: Error: no message (HTTP 500).',
    );
  });

  it('an invocation that throws something without a name: "Error" and its message', async () => {
    const { bot, calls } = fakeBot();
    await runJob(
      jobContext({
        bot,
        run: async () => {
          throw { message: 'socket hang up' };
        },
      }),
      { kind: 'disarm', queryId: 'q', chatId: '-100', messageId: 4, asked: { ...asked, action: 'disarm' } },
    );
    expect(lastText(calls).split('\n')[1]).toBe('Failed: Error: socket hang up.');
  });
});
