// A wire-level Telegram Bot API endpoint on loopback, standing in for https://api.telegram.org (point
// TELEGRAM_API_URL at `url`). It answers `POST /bot<token>/<method>` with a JSON (or form) body the way the Bot
// API documents it: `{ok: true, result}`, or `{ok: false, error_code, description}` with the same HTTP status
// (401 for an unknown token, 404 for an unknown method, 400 "Bad Request: chat not found" for a chat the bot
// is not in). sendMessage checks its text as Telegram does: 1-4096 characters after entity parsing, and with
// `parse_mode: "HTML"` only the supported tags, with every other <, > and & escaped as an entity.
//
// It also keeps the webhook a bot registers (setWebhook: url, secret_token, allowed_updates) and delivers
// updates to it with `deliver`, the way Telegram posts them (with X-Telegram-Bot-Api-Secret-Token), so that a
// local webhook route can be driven end to end: `command` posts a message from a person, `press` the press of
// an inline button of a message the bot sent (as a client does: only a button the message has). Inline
// keyboards (reply_markup), editMessageText (which drops the buttons unless given new ones) and
// answerCallbackQuery (of a press this endpoint delivered, once) are kept as Telegram keeps them. Unlike
// Telegram, a webhook may be http:// (loopback); Telegram itself takes only HTTPS (API Gateway's URL is).
// Every text a person would read (messages, edits, button answers) is handed to the secret-hygiene check.
//
// Faults: `failNext('hang')` never answers (the client must give up), `failNext('status', …)` answers an error.
// The bot token is part of every URL: nothing here prints a URL.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, nextOf, readBody } from './aws-endpoint.ts';
import { observeText } from './secret-registry.ts';

export interface Button {
  text: string;
  data: string;
}

export interface SentMessage {
  chatId: string;
  messageId: number;
  /** The text as sent (with its markup); the latest, once edited. */
  text: string;
  /** The text as the chat shows it (markup parsed, entities decoded). */
  shown: string;
  parseMode?: string;
  /** Its inline keyboard, rows of buttons; empty when it has none (or an edit took them away). */
  buttons: Button[][];
  /** The texts it showed before each edit, oldest first. */
  edits: string[];
  at: number;
}

/** An answerCallbackQuery: the toast (or alert) a person saw after pressing a button. */
export interface CallbackAnswer {
  queryId: string;
  text: string;
  alert: boolean;
  at: number;
}

/** A person in a chat: who sends a command or presses a button. */
export interface Person {
  chatId: string;
  userId: number;
  firstName?: string;
  username?: string;
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

export interface Delivered {
  status: number;
  body: string;
  /** The update as posted. */
  update: Record<string, unknown>;
  /** From the post to the webhook's answer. */
  ms: number;
}

export interface DeliverOptions {
  /** The secret-token header to send instead of the registered one; null sends none. */
  secretToken?: string | null;
}

export interface TelegramEndpoint {
  /** The API base: `http://127.0.0.1:PORT` (requests go to `${url}/bot<token>/<method>`). */
  readonly url: string;
  /** A bot with `token`, a member of `chats`; getMe answers `username`. */
  addBot(token: string, chats: string[], username?: string): void;
  /** Messages sent (to one chat, or to all), in order. */
  sent(chatId?: string): SentMessage[];
  /** The answers given to button presses, in order. */
  answers(): CallbackAnswer[];
  /** Every call, failed ones included. */
  readonly calls: readonly BotCall[];
  /** The next `count` calls (every call when Infinity) get `fault`. */
  failNext(fault: TelegramFault, count?: number): void;
  /** Resolves with the next message sent after this call. */
  nextMessage(timeoutMs: number): Promise<SentMessage>;
  /** Resolves once `check` holds after a call to this endpoint (at once if it holds now); rejects after `timeoutMs`. */
  waitFor<T>(check: () => T | undefined | false, timeoutMs: number): Promise<T>;
  /** The webhook the bot of `token` registered, if any. */
  webhook(token: string): Webhook | undefined;
  /** Posts an update to the bot's webhook as Telegram would; `update_id` is added when missing. */
  deliver(token: string, update: Record<string, unknown>, options?: DeliverOptions): Promise<Delivered>;
  /** A person sends `text` (a command) in their chat. */
  command(token: string, from: Person, text: string, options?: DeliverOptions): Promise<Delivered>;
  /**
   * A person presses the button labelled `label` of `message`, as a client does; throws when the message has
   * no such button (a client cannot press it). `data` replaces the button's data, `chatId` the chat the
   * message is said to be in (a forged press).
   */
  press(
    token: string,
    from: Person,
    message: SentMessage,
    label: string,
    options?: DeliverOptions & { data?: string; chatId?: string },
  ): Promise<Delivered>;
  /** Forgets messages, answers, calls and faults; bots and webhooks stay. */
  reset(): void;
  close(): Promise<void>;
}

export interface TelegramOptions {
  port?: number;
  host?: string;
  bots?: { token: string; chats: string[]; username?: string }[];
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

/** sendMessage's `reply_markup.inline_keyboard[][].callback_data`: "1-64 bytes". */
const CALLBACK_DATA_MAX = 64;
/** answerCallbackQuery's `text`: "0-200 characters". */
const ANSWER_MAX = 200;
/** setWebhook's `secret_token`: "1-256 characters. Only characters A-Z, a-z, 0-9, _ and - are allowed." */
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

interface Bot {
  chats: Set<string>;
  username: string;
  webhook?: Webhook;
  nextUpdate: number;
  /** Presses delivered and not answered yet: query id → the message pressed. */
  pending: Map<string, number>;
}

/** Starts the endpoint; resolves once it listens. */
export async function startTelegram(options: TelegramOptions = {}): Promise<TelegramEndpoint> {
  const bots = new Map<string, Bot>();
  const sent: SentMessage[] = [];
  const answered: CallbackAnswer[] = [];
  const calls: BotCall[] = [];
  let faults: { fault: TelegramFault; remaining: number }[] = [];
  let waiters: ((message: SentMessage) => void)[] = [];
  let watchers: (() => void)[] = [];
  let messageId = 0;

  const methods: Record<string, (token: string, body: Record<string, unknown>) => unknown> = {
    getMe: (token) => ({
      id: Number(token.split(':')[0]),
      is_bot: true,
      first_name: 'bybit-cancel local',
      username: bots.get(token)?.username,
    }),
    sendMessage(token, body) {
      const chatId = chatOf(token, body.chat_id);
      const { text, shown, parseMode } = textOf(body);
      const message: SentMessage = {
        chatId,
        messageId: ++messageId,
        text,
        shown,
        parseMode,
        buttons: keyboardOf(body.reply_markup),
        edits: [],
        at: Date.now(),
      };
      sent.push(message);
      observeText(shown);
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
      if (!bot || typeof body.url !== 'string' || body.url === '')
        throw new BotApiError(400, 'Bad Request: bad webhook: url is empty');
      if (body.secret_token !== undefined && !SECRET_TOKEN.test(String(body.secret_token)))
        throw new BotApiError(400, 'Bad Request: secret token contains unallowed characters');
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
      return {
        url: hook?.url ?? '',
        has_custom_certificate: false,
        pending_update_count: 0,
        ...(hook?.allowedUpdates ? { allowed_updates: hook.allowedUpdates } : {}),
      };
    },
    answerCallbackQuery(token, body) {
      const bot = bots.get(token) as Bot;
      const queryId = String(body.callback_query_id ?? '');
      if (!bot.pending.delete(queryId))
        throw new BotApiError(
          400,
          'Bad Request: query is too old and response timeout expired or query ID is invalid',
        );
      const text = typeof body.text === 'string' ? body.text : '';
      if (text.length > ANSWER_MAX) throw new BotApiError(400, 'Bad Request: text is too long');
      answered.push({ queryId, text, alert: body.show_alert === true, at: Date.now() });
      observeText(text);
      return true;
    },
    editMessageText(token, body) {
      const chatId = chatOf(token, body.chat_id);
      const message = sent.find((m) => m.chatId === chatId && m.messageId === Number(body.message_id));
      if (!message) throw new BotApiError(400, 'Bad Request: message to edit not found');
      const { text, shown, parseMode } = textOf(body);
      const buttons = keyboardOf(body.reply_markup);
      if (shown === message.shown && JSON.stringify(buttons) === JSON.stringify(message.buttons))
        throw new BotApiError(400, 'Bad Request: message is not modified');
      message.edits.push(message.shown);
      Object.assign(message, { text, shown, parseMode, buttons });
      observeText(shown);
      return { message_id: message.messageId, chat: { id: chatId }, text: shown };
    },
  };

  /** A message's text as sent and as shown; refused as Telegram refuses it. */
  function textOf(body: Record<string, unknown>) {
    const text = typeof body.text === 'string' ? body.text : '';
    const parseMode = typeof body.parse_mode === 'string' ? body.parse_mode : undefined;
    const shown = parseMode === undefined ? text : parseText(text, parseMode);
    if (shown.trim() === '') throw new BotApiError(400, 'Bad Request: message text is empty');
    if (shown.length > TEXT_MAX) throw new BotApiError(400, 'Bad Request: message is too long');
    return { text, shown, parseMode };
  }

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
      notify();
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

  function notify(): void {
    const pending = watchers;
    watchers = [];
    for (const wake of pending) wake();
  }

  function addBot(token: string, chats: string[], username = 'bybit_cancel_local_bot'): void {
    bots.set(token, { chats: new Set(chats), username, nextUpdate: 1, pending: new Map() });
  }

  async function deliver(
    token: string,
    update: Record<string, unknown>,
    deliverOptions: DeliverOptions = {},
  ): Promise<Delivered> {
    const bot = bots.get(token);
    if (!bot?.webhook) throw new Error('the bot has no webhook (setWebhook first)');
    const posted = { update_id: bot.nextUpdate++, ...update };
    if (typeof posted.update_id === 'number') bot.nextUpdate = Math.max(bot.nextUpdate, posted.update_id + 1);
    const secretToken =
      deliverOptions.secretToken === undefined ? bot.webhook.secretToken : deliverOptions.secretToken;
    const started = performance.now();
    const answer = await fetch(bot.webhook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(secretToken ? { 'x-telegram-bot-api-secret-token': secretToken } : {}),
      },
      body: JSON.stringify(posted),
      signal: AbortSignal.timeout(60_000),
    });
    const body = await answer.text();
    return { status: answer.status, body, update: posted, ms: performance.now() - started };
  }

  for (const bot of options.bots ?? []) addBot(bot.token, bot.chats, bot.username);
  const server = await listen(options.host ?? '127.0.0.1', options.port ?? 0, handle);
  return {
    url: server.url,
    addBot,
    sent: (chatId) => sent.filter((m) => chatId === undefined || m.chatId === chatId),
    answers: () => [...answered],
    calls,
    failNext(fault, count = 1) {
      if (count > 0) faults.push({ fault, remaining: count });
    },
    nextMessage: (timeoutMs) => nextOf(waiters, timeoutMs, 'message'),
    waitFor<T>(check: () => T | undefined | false, timeoutMs: number): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not within ${timeoutMs} ms`)), timeoutMs);
        const test = () => {
          const value = check();
          if (value !== undefined && value !== false) {
            clearTimeout(timer);
            resolve(value);
          } else watchers.push(test);
        };
        test();
      });
    },
    webhook: (token) => bots.get(token)?.webhook,
    deliver,
    command: (token, from, text, deliverOptions) =>
      deliver(
        token,
        {
          message: {
            message_id: ++messageId,
            date: Math.floor(Date.now() / 1000),
            chat: { id: Number(from.chatId), type: Number(from.chatId) < 0 ? 'supergroup' : 'private' },
            from: personOf(from),
            text,
          },
        },
        deliverOptions,
      ),
    press(token, from, message, label, pressOptions = {}) {
      const button = message.buttons.flat().find((b) => b.text === label);
      if (!button) throw new Error(`the message has no button "${label}" (any more)`);
      const queryId = randomBytes(8).readBigUInt64BE().toString();
      bots.get(token)?.pending.set(queryId, message.messageId);
      return deliver(
        token,
        {
          callback_query: {
            id: queryId,
            from: personOf(from),
            chat_instance: String(Number(message.chatId) * 7),
            message: {
              message_id: message.messageId,
              date: Math.floor(message.at / 1000),
              chat: { id: Number(pressOptions.chatId ?? message.chatId) },
              text: message.shown,
            },
            data: pressOptions.data ?? button.data,
          },
        },
        pressOptions,
      );
    },
    reset() {
      sent.length = 0;
      answered.length = 0;
      calls.length = 0;
      faults = [];
    },
    close: () => server.close(),
  };
}

function personOf(from: Person) {
  return {
    id: from.userId,
    is_bot: false,
    first_name: from.firstName ?? 'Dana',
    ...(from.username ? { username: from.username } : {}),
  };
}

/** An inline keyboard as Telegram takes it: rows of {text, callback_data of 1-64 bytes}. */
function keyboardOf(markup: unknown): Button[][] {
  if (markup === undefined) return [];
  const rows = (markup as { inline_keyboard?: unknown } | null)?.inline_keyboard;
  if (!Array.isArray(rows) || !rows.every(Array.isArray))
    throw new BotApiError(400, "Bad Request: can't parse reply keyboard markup JSON object");
  return rows.map((row: { text?: unknown; callback_data?: unknown }[]) =>
    row.map((button) => {
      const data = button.callback_data;
      if (typeof button.text !== 'string' || button.text === '')
        throw new BotApiError(400, 'Bad Request: text buttons are unallowed in the inline keyboard');
      if (
        typeof data !== 'string' ||
        Buffer.byteLength(data) < 1 ||
        Buffer.byteLength(data) > CALLBACK_DATA_MAX
      )
        throw new BotApiError(400, 'Bad Request: BUTTON_DATA_INVALID');
      return { text: button.text, data };
    }),
  );
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
