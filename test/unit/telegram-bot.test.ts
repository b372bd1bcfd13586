// The Telegram Bot API client (lib/lambda/telegram-bot.ts) on a fake fetch and an injected clock: what each
// method sends, how it reads an answer, and that a failure names neither the URL nor the token.

import { describe, expect, it, vi } from 'vitest';
import { TelegramApiError } from '../../lib/errors.ts';
import { TelegramBot } from '../../lib/lambda/telegram-bot.ts';

const TOKEN = '123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const NOW = 1_795_253_400_000;

type Call = { url: string; init: RequestInit; body: Record<string, unknown> };

/** A bot whose fetch records each call and answers with `answer` (a Response, or a function of the call). */
function fakeBot(answer: (call: Call) => Promise<Response> | Response, timeoutMs = 1000) {
  const calls: Call[] = [];
  const bot = new TelegramBot({
    apiUrl: 'https://api.telegram.org',
    botToken: TOKEN,
    timeoutMs,
    now: () => NOW,
    fetch: async (url, init) => {
      const call = { url, init, body: JSON.parse(String(init.body)) };
      calls.push(call);
      return answer(call);
    },
  });
  return { bot, calls };
}

const ok = (result: unknown) => new Response(JSON.stringify({ ok: true, result }));

async function failure(promise: Promise<unknown>): Promise<TelegramApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TelegramApiError);
  return error as TelegramApiError;
}

describe('TelegramBot.call', () => {
  it('posts the params as JSON to <api>/bot<token>/<method> and answers the result', async () => {
    const { bot, calls } = fakeBot(() => ok({ message_id: 9 }));
    expect(await bot.call('sendMessage', { chat_id: '-100', text: 'hi' })).toEqual({ message_id: 9 });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(`https://api.telegram.org/bot${TOKEN}/sendMessage`);
    expect(calls[0]?.init.method).toBe('POST');
    expect(calls[0]?.init.headers).toEqual({ 'content-type': 'application/json' });
    expect(calls[0]?.body).toEqual({ chat_id: '-100', text: 'hi' });
    expect(calls[0]?.init.signal).toBeInstanceOf(AbortSignal);
    expect(calls[0]?.init.signal?.aborted).toBe(false);
  });

  it('a refusal names the method, the status and the description (at most 200 characters)', async () => {
    const { bot } = fakeBot(
      () =>
        new Response(JSON.stringify({ ok: false, description: `Bad Request: ${'x'.repeat(300)}` }), {
          status: 400,
        }),
    );
    const error = await failure(bot.call('sendMessage', {}));
    expect(error.message).toBe(
      `Telegram sendMessage failed: HTTP 400: ${`Bad Request: ${'x'.repeat(300)}`.slice(0, 200)}`,
    );
    expect(error.message).not.toContain(TOKEN);
  });

  it('a 200 whose ok is not true is a failure; a description that is not a string is left out', async () => {
    const { bot } = fakeBot(() => new Response(JSON.stringify({ ok: 'true', result: 1, description: 7 })));
    expect((await failure(bot.call('getMe', {}))).message).toBe('Telegram getMe failed: HTTP 200');
  });

  it('an ok answer under a non-2xx status is a failure', async () => {
    const { bot } = fakeBot(() => new Response(JSON.stringify({ ok: true, result: 1 }), { status: 502 }));
    expect((await failure(bot.call('getMe', {}))).message).toBe('Telegram getMe failed: HTTP 502');
  });

  it('an answer that is not JSON: the status says enough', async () => {
    const { bot } = fakeBot(() => new Response('<html>Bad Gateway</html>', { status: 502 }));
    expect((await failure(bot.call('getMe', {}))).message).toBe('Telegram getMe failed: HTTP 502');
  });

  it('a fetch that cannot connect: its name and the socket code, never the URL', async () => {
    const { bot } = fakeBot(() => {
      throw Object.assign(new TypeError(`fetch failed https://api.telegram.org/bot${TOKEN}/getMe`), {
        cause: { code: 'ECONNREFUSED' },
      });
    });
    const error = await failure(bot.call('getMe', {}));
    expect(error.message).toBe('Telegram getMe failed: could not connect (TypeError ECONNREFUSED)');
    expect(error.message).not.toContain(TOKEN);
  });

  it('a fetch error with no socket code: its name alone', async () => {
    const { bot } = fakeBot(() => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 5 } });
    });
    expect((await failure(bot.call('getMe', {}))).message).toBe(
      'Telegram getMe failed: could not connect (TypeError)',
    );
  });

  it.each(['TimeoutError', 'AbortError'])(
    'a fetch ended by %s: no answer before the send timeout',
    async (name) => {
      const { bot } = fakeBot(() => {
        throw Object.assign(new Error('aborted'), { name });
      });
      expect((await failure(bot.call('getMe', {}))).message).toBe(
        'Telegram getMe failed: no answer before the send timeout',
      );
    },
  );

  it('a body cut off by the time limit is "no answer", not the status', async () => {
    const { bot } = fakeBot(({ init }) => {
      const signal = init.signal as AbortSignal;
      const body = new ReadableStream({
        start(controller) {
          signal.addEventListener('abort', () => controller.error(signal.reason));
        },
      });
      return new Response(body, { status: 200 });
    }, 1);
    expect((await failure(bot.call('getMe', {}))).message).toBe(
      'Telegram getMe failed: no answer before the send timeout',
    );
  });

  it('the time limit is the earlier of `until` and now + timeoutMs, and at least 1 ms', async () => {
    const seen: AbortSignal[] = [];
    const { bot } = fakeBot(({ init }) => {
      seen.push(init.signal as AbortSignal);
      return ok(true);
    }, 60_000);
    // An `until` already past still leaves the call its 1 ms; it is not aborted before it starts.
    await bot.call('getMe', {}, NOW - 5_000);
    const signal = seen[0] as AbortSignal;
    expect(seen).toHaveLength(1);
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve));
    expect((signal.reason as Error).name).toBe('TimeoutError');
  });
});

describe('TelegramBot.call time limit', () => {
  it('gives a call timeoutMs to answer, or less when `until` comes first', async () => {
    const limits = vi.spyOn(AbortSignal, 'timeout');
    try {
      const { bot } = fakeBot(() => ok(true), 1500);
      await bot.call('getMe', {});
      await bot.call('getMe', {}, NOW + 400);
      await bot.call('getMe', {}, NOW + 9_000);
      expect(limits.mock.calls).toEqual([[1500], [400], [1500]]);
    } finally {
      limits.mockRestore();
    }
  });
});

describe('TelegramBot methods', () => {
  it('sendMessage: chat, text and HTML parse mode; buttons only when given', async () => {
    const { bot, calls } = fakeBot(() => ok({ message_id: 3 }));
    const keyboard = { inline_keyboard: [[{ text: 'Kill now', callback_data: 'go:prod:n' }]] };
    expect(await bot.sendMessage('-100', '<b>hi</b>')).toEqual({ message_id: 3 });
    await bot.sendMessage('-100', 'pick', { keyboard });
    expect(calls.map((c) => [c.url.split('/').at(-1), c.body])).toEqual([
      ['sendMessage', { chat_id: '-100', text: '<b>hi</b>', parse_mode: 'HTML' }],
      ['sendMessage', { chat_id: '-100', text: 'pick', parse_mode: 'HTML', reply_markup: keyboard }],
    ]);
  });

  it('editMessageText: chat, message id, text, HTML', async () => {
    const { bot, calls } = fakeBot(() => ok(true));
    await bot.editMessageText('-100', 42, 'done');
    expect(calls.map((c) => [c.url.split('/').at(-1), c.body])).toEqual([
      ['editMessageText', { chat_id: '-100', message_id: 42, text: 'done', parse_mode: 'HTML' }],
    ]);
  });

  it('answerCallbackQuery: the text cut to 200 characters; show_alert only for an alert', async () => {
    const { bot, calls } = fakeBot(() => ok(true));
    expect(await bot.answerCallbackQuery('q1', 'a'.repeat(250))).toBe(true);
    await bot.answerCallbackQuery('q2', 'stop', { alert: true });
    await bot.answerCallbackQuery('q3', 'toast', { alert: false });
    expect(calls.map((c) => c.body)).toEqual([
      { callback_query_id: 'q1', text: 'a'.repeat(200) },
      { callback_query_id: 'q2', text: 'stop', show_alert: true },
      { callback_query_id: 'q3', text: 'toast' },
    ]);
  });

  it('username: asks getMe once and keeps it', async () => {
    const { bot, calls } = fakeBot(() => ok({ username: 'desk_bot' }));
    expect(await bot.username()).toBe('desk_bot');
    expect(await bot.username()).toBe('desk_bot');
    expect(calls.map((c) => c.url.split('/').at(-1))).toEqual(['getMe']);
  });

  it('username: a failed getMe throws, and is asked again next time', async () => {
    let fail = true;
    const { bot, calls } = fakeBot(() =>
      fail
        ? new Response(JSON.stringify({ ok: false, description: 'Unauthorized' }), { status: 401 })
        : ok({ username: 'desk_bot' }),
    );
    const error = await failure(bot.username());
    expect(error.message).toBe('Telegram getMe failed: HTTP 401: Unauthorized');
    fail = false;
    expect(await bot.username()).toBe('desk_bot');
    expect(calls).toHaveLength(2);
  });

  it('uses the global fetch and Date.now when none is given', async () => {
    const bot = new TelegramBot({ apiUrl: 'http://127.0.0.1:1', botToken: TOKEN, timeoutMs: 100 });
    const original = globalThis.fetch;
    const urls: string[] = [];
    globalThis.fetch = (async (url: string) => {
      urls.push(url);
      return ok({ username: 'global_bot' });
    }) as typeof fetch;
    try {
      expect(await bot.username()).toBe('global_bot');
    } finally {
      globalThis.fetch = original;
    }
    expect(urls).toEqual([`http://127.0.0.1:1/bot${TOKEN}/getMe`]);
  });
});
