// What a Telegram command does when what it depends on fails (lib/lambda/telegram-commands.ts), on fakes: the
// state table down, a drill that found problems, a reset that failed, a heartbeat function that would not
// answer, Telegram refusing a call. The end-to-end flows are in test/integration/telegram.test.ts.

import { describe, expect, it } from 'vitest';
import { FunctionInvokeError } from '../../lib/errors.ts';
import type { Answered } from '../../lib/lambda/functions.ts';
import type { RunRecord } from '../../lib/lambda/records.ts';
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
import type { Update } from '../../lib/lambda/telegram-updates.ts';
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

describe('the jobs', () => {
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
