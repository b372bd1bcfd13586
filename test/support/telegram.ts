// A wire-level Telegram Bot API endpoint on loopback, standing in for https://api.telegram.org (point
// TELEGRAM_API_URL at `url`). It answers `POST /bot<token>/<method>` with a JSON (or form) body the way the Bot
// API documents it: `{ok: true, result}`, or `{ok: false, error_code, description}` with the same HTTP status
// (401 for an unknown token, 404 for an unknown method, 400 "Bad Request: chat not found" for a chat the bot
// is not in). sendMessage checks its text as Telegram does: 1-4096 characters after entity parsing, and with
// `parse_mode: "HTML"` only the supported tags, with every other <, > and & escaped as an entity.
//
// It also keeps the webhook a bot registers (setWebhook: url, secret_token, allowed_updates) and delivers
// updates to it with `deliver`, the way Telegram posts them (with X-Telegram-Bot-Api-Secret-Token), so that a
// local webhook route can be driven end to end.
//
// Faults: `failNext('hang')` never answers (the client must give up), `failNext('status', …)` answers an error.
// The bot token is part of every URL: nothing here prints a URL.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, nextOf, readBody } from './aws-endpoint.ts';

export interface SentMessage {
  chatId: string;
  messageId: number;
  /** The text as sent (with its markup). */
  text: string;
  /** The text as the chat shows it (markup parsed, entities decoded). */
  shown: string;
  parseMode?: string;
  at: number;
}

export interface BotCall {
  method: string;
  status: number;
  at: number;
}

export type TelegramFault =
  | { kind: 'hang' }
  | { kind: 'status'; status: number; description?: string; retryAfter?: number };

export interface Webhook {
  url: string;
  secretToken?: string;
  allowedUpdates?: string[];
}

export interface TelegramEndpoint {
  /** The API base: `http://127.0.0.1:PORT` (requests go to `${url}/bot<token>/<method>`). */
  readonly url: string;
  /** A bot with `token`, a member of `chats`. */
  addBot(token: string, chats: string[]): void;
  /** Messages sent (to one chat, or to all), in order. */
  sent(chatId?: string): SentMessage[];
  /** Every call, failed ones included. */
  readonly calls: readonly BotCall[];
  /** The next `count` calls (every call when Infinity) get `fault`. */
  failNext(fault: TelegramFault, count?: number): void;
  /** Resolves with the next message sent after this call. */
  nextMessage(timeoutMs: number): Promise<SentMessage>;
  /** The webhook the bot of `token` registered, if any. */
  webhook(token: string): Webhook | undefined;
  /** Posts an update to the bot's webhook as Telegram would; `update_id` is added when missing. */
  deliver(token: string, update: Record<string, unknown>): Promise<{ status: number; body: string }>;
  /** Forgets messages, calls and faults; bots and webhooks stay. */
  reset(): void;
  close(): Promise<void>;
}

export interface TelegramOptions {
  port?: number;
  host?: string;
  bots?: { token: string; chats: string[] }[];
}

/** sendMessage: "Text of the message to be sent, 1-4096 characters after entities parsing". */
const TEXT_MAX = 4096;
const TAGS = new Set([
  'b',
  'strong',
  'i',
  'em',
  'u',
  'ins',
  's',
  'strike',
  'del',
  'span',
  'tg-spoiler',
  'a',
  'tg-emoji',
  'code',
  'pre',
  'blockquote',
]);
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

class BotApiError extends Error {
  readonly status: number;
  readonly retryAfter?: number;
  constructor(status: number, description: string, retryAfter?: number) {
    super(description);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** Starts the endpoint; resolves once it listens. */
export async function startTelegram(options: TelegramOptions = {}): Promise<TelegramEndpoint> {
  const bots = new Map<string, { chats: Set<string>; webhook?: Webhook; nextUpdate: number }>();
  const sent: SentMessage[] = [];
  const calls: BotCall[] = [];
  let faults: { fault: TelegramFault; remaining: number }[] = [];
  let waiters: ((message: SentMessage) => void)[] = [];
  let messageId = 0;

  const methods: Record<string, (token: string, body: Record<string, unknown>) => unknown> = {
    getMe: (token) => ({ id: Number(token.split(':')[0]), is_bot: true, first_name: 'bybit-cancel local' }),
    sendMessage(token, body) {
      const chatId = chatOf(token, body.chat_id);
      const text = typeof body.text === 'string' ? body.text : '';
      const parseMode = typeof body.parse_mode === 'string' ? body.parse_mode : undefined;
      const shown = parseMode === undefined ? text : parseText(text, parseMode);
      if (shown.trim() === '') throw new BotApiError(400, 'Bad Request: message text is empty');
      if (shown.length > TEXT_MAX) throw new BotApiError(400, 'Bad Request: message is too long');
      const message: SentMessage = { chatId, messageId: ++messageId, text, shown, parseMode, at: Date.now() };
      sent.push(message);
      const pending = waiters;
      waiters = [];
      for (const resolve of pending) resolve(message);
      return {
        message_id: message.messageId,
        date: Math.floor(message.at / 1000),
        chat: { id: chatId },
        text: shown,
      };
    },
    setWebhook(token, body) {
      const bot = bots.get(token);
      if (!bot || typeof body.url !== 'string')
        throw new BotApiError(400, 'Bad Request: bad webhook: url is empty');
      bot.webhook = {
        url: body.url,
        secretToken: typeof body.secret_token === 'string' ? body.secret_token : undefined,
        allowedUpdates: Array.isArray(body.allowed_updates) ? (body.allowed_updates as string[]) : undefined,
      };
      return true;
    },
    deleteWebhook(token) {
      const bot = bots.get(token);
      if (bot) bot.webhook = undefined;
      return true;
    },
    getWebhookInfo(token) {
      const hook = bots.get(token)?.webhook;
      return { url: hook?.url ?? '', has_custom_certificate: false, pending_update_count: 0 };
    },
    answerCallbackQuery: () => true,
    editMessageText(token, body) {
      chatOf(token, body.chat_id);
      return true;
    },
  };

  function chatOf(token: string, value: unknown): string {
    const chatId = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
    if (!bots.get(token)?.chats.has(chatId)) throw new BotApiError(400, 'Bad Request: chat not found');
    return chatId;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const call: BotCall = { method: '', status: 200, at: Date.now() };
    const reply = (status: number, body: unknown) => {
      call.status = status;
      calls.push(call);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(url.pathname);
      const token = match ? decodeURIComponent(match[1] as string) : '';
      call.method = match?.[2] ?? '';
      const raw = await readBody(request);
      if (!bots.has(token)) throw new BotApiError(401, 'Unauthorized');
      const method = Object.hasOwn(methods, call.method) ? methods[call.method] : undefined;
      if (!method) throw new BotApiError(404, 'Not Found');
      const pending = faults[0];
      if (pending) {
        pending.remaining -= 1;
        faults = faults.filter((f) => f.remaining > 0);
        if (pending.fault.kind === 'hang') {
          call.status = 0;
          calls.push(call);
          return;
        }
        const { status, description, retryAfter } = pending.fault;
        throw new BotApiError(status, description ?? 'Internal Server Error', retryAfter);
      }
      reply(200, { ok: true, result: method(token, bodyOf(raw, request, url)) });
    } catch (error) {
      const failure = error instanceof BotApiError ? error : new BotApiError(500, 'Internal Server Error');
      reply(failure.status, {
        ok: false,
        error_code: failure.status,
        description: failure.message,
        ...(failure.retryAfter ? { parameters: { retry_after: failure.retryAfter } } : {}),
      });
    }
  }

  for (const bot of options.bots ?? []) bots.set(bot.token, { chats: new Set(bot.chats), nextUpdate: 1 });
  const server = await listen(options.host ?? '127.0.0.1', options.port ?? 0, handle);
  return {
    url: server.url,
    addBot(token, chats) {
      bots.set(token, { chats: new Set(chats), nextUpdate: 1 });
    },
    sent: (chatId) => sent.filter((m) => chatId === undefined || m.chatId === chatId),
    calls,
    failNext(fault, count = 1) {
      if (count > 0) faults.push({ fault, remaining: count });
    },
    nextMessage: (timeoutMs) => nextOf(waiters, timeoutMs, 'message'),
    webhook: (token) => bots.get(token)?.webhook,
    async deliver(token, update) {
      const bot = bots.get(token);
      if (!bot?.webhook) throw new Error('the bot has no webhook (setWebhook first)');
      const body = JSON.stringify({ update_id: bot.nextUpdate++, ...update });
      const answer = await fetch(bot.webhook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(bot.webhook.secretToken ? { 'x-telegram-bot-api-secret-token': bot.webhook.secretToken } : {}),
        },
        body,
        signal: AbortSignal.timeout(60_000),
      });
      return { status: answer.status, body: await answer.text() };
    },
    reset() {
      sent.length = 0;
      calls.length = 0;
      faults = [];
    },
    close: () => server.close(),
  };
}

/** The parameters of a call: a JSON body, a form body, or the query string. */
function bodyOf(raw: string, request: IncomingMessage, url: URL): Record<string, unknown> {
  const type = String(request.headers['content-type'] ?? '');
  if (type.includes('application/json')) {
    try {
      const body = JSON.parse(raw || '{}') as unknown;
      if (typeof body === 'object' && body !== null && !Array.isArray(body))
        return body as Record<string, unknown>;
    } catch {
      // Answered below, as Telegram does.
    }
    throw new BotApiError(400, 'Bad Request: invalid JSON');
  }
  const form = new URLSearchParams(type.includes('form') ? raw : url.search);
  return Object.fromEntries(form);
}

/** The text a chat shows for `text` in `parseMode`; throws Telegram's "can't parse entities" when it is wrong. */
function parseText(text: string, parseMode: string): string {
  if (parseMode.toUpperCase() !== 'HTML') {
    throw new BotApiError(400, `Bad Request: unsupported parse_mode "${parseMode}" in this test endpoint`);
  }
  const refuse = (why: string) => new BotApiError(400, `Bad Request: can't parse entities: ${why}`);
  const open: string[] = [];
  let shown = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === '<') {
      const tag = /^<(\/?)([a-z-]+)(\s[^<>]*)?>/i.exec(text.slice(i));
      if (!tag) throw refuse(`Unexpected "<" at byte offset ${i}: escape it as &lt;`);
      const [whole, closing, name = ''] = tag;
      if (!TAGS.has(name.toLowerCase())) throw refuse(`Unsupported start tag "${name}" at byte offset ${i}`);
      if (closing) {
        if (open.pop() !== name.toLowerCase()) throw refuse(`Unmatched end tag at byte offset ${i}`);
      } else open.push(name.toLowerCase());
      i += whole.length;
    } else if (char === '&') {
      const entity = /^&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-f]{1,6});/i.exec(text.slice(i));
      if (!entity) throw refuse(`Character "&" at byte offset ${i} must be escaped as &amp;`);
      const name = (entity[1] as string).toLowerCase();
      shown += name.startsWith('#x')
        ? String.fromCodePoint(Number.parseInt(name.slice(2), 16))
        : name.startsWith('#')
          ? String.fromCodePoint(Number(name.slice(1)))
          : ENTITIES[name];
      i += entity[0].length;
    } else if (char === '>') {
      throw refuse(`Character ">" at byte offset ${i} must be escaped as &gt;`);
    } else {
      shown += char;
      i++;
    }
  }
  if (open.length) throw refuse(`Can't find end tag corresponding to start tag "${open.at(-1)}"`);
  return shown;
}
