// The Telegram Bot API (`<api>/bot<token>/<method>`, JSON in, `{ok, result}` or `{ok: false, description}`
// out), for the notifications and the commands. The bot token is part of every URL: no URL, request or answer
// header is ever logged or put in an error; a failure is a TelegramApiError whose words hold none of them.
// Every call ends by the caller's time limit.

import { TelegramApiError } from '../errors.ts';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface TelegramBotOptions {
  /** The API's base URL (TELEGRAM_API_URL): `https://api.telegram.org`. */
  apiUrl: string;
  botToken: string;
  /** No call waits longer than this. */
  timeoutMs: number;
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  now?: () => number;
}

/** An inline keyboard: rows of buttons, each with the data its press sends back (at most 64 bytes). */
export interface InlineKeyboard {
  inline_keyboard: { text: string; callback_data: string }[][];
}

/** What Telegram's own `Message` holds that this product reads. */
export interface SentMessage {
  message_id: number;
}

/** `sendMessage`'s `text`: 1-4096 characters after entities parsing. */
export const TELEGRAM_TEXT_MAX = 4096;
/** `answerCallbackQuery`'s `text`: 0-200 characters. */
export const CALLBACK_ANSWER_MAX = 200;

export class TelegramBot {
  private readonly options: TelegramBotOptions;
  private readonly now: () => number;
  private me: Promise<{ username?: string }> | undefined;

  constructor(options: TelegramBotOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Calls `method` and answers its `result`; throws TelegramApiError. Ends by `until` (epoch ms) at the latest. */
  async call<T>(method: string, params: Record<string, unknown>, until?: number): Promise<T> {
    const { apiUrl, botToken, timeoutMs } = this.options;
    const end = Math.min(until ?? Number.POSITIVE_INFINITY, this.now() + timeoutMs);
    const signal = AbortSignal.timeout(Math.max(1, end - this.now()));
    const fetcher = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await fetcher(`${apiUrl}/bot${botToken}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
        signal,
      });
    } catch (error) {
      throw new TelegramApiError(method, unreachable(error));
    }
    let answer: { ok?: unknown; result?: unknown; description?: unknown } = {};
    try {
      answer = (await response.json()) as typeof answer;
    } catch (error) {
      if (signal.aborted) throw new TelegramApiError(method, unreachable(error));
      // Not JSON: the status says enough.
    }
    if (response.ok && answer.ok === true) return answer.result as T;
    const description = typeof answer.description === 'string' ? `: ${answer.description.slice(0, 200)}` : '';
    throw new TelegramApiError(method, `HTTP ${response.status}${description}`);
  }

  /** Sends `text` (HTML parse mode) to a chat, with buttons when given. */
  sendMessage(chatId: string, text: string, options: { keyboard?: InlineKeyboard; until?: number } = {}) {
    return this.call<SentMessage>(
      'sendMessage',
      {
        chat_id: chatId,
        text,
        parse_mode: 'HTML',
        ...(options.keyboard ? { reply_markup: options.keyboard } : {}),
      },
      options.until,
    );
  }

  /** Replaces a message's text (and drops its buttons): a confirmation shows what was done. */
  editMessageText(chatId: string, messageId: number, text: string, until?: number) {
    return this.call<unknown>(
      'editMessageText',
      { chat_id: chatId, message_id: messageId, text, parse_mode: 'HTML' },
      until,
    );
  }

  /** Stops the button's spinner; `text` shows as a toast, or as an alert the user must close. */
  answerCallbackQuery(queryId: string, text: string, options: { alert?: boolean; until?: number } = {}) {
    return this.call<boolean>(
      'answerCallbackQuery',
      {
        callback_query_id: queryId,
        text: text.slice(0, CALLBACK_ANSWER_MAX),
        ...(options.alert ? { show_alert: true } : {}),
      },
      options.until,
    );
  }

  /** The bot's username (without @), asked once per bot. */
  async username(until?: number): Promise<string | undefined> {
    this.me ??= this.call<{ username?: string }>('getMe', {}, until);
    try {
      return (await this.me).username;
    } catch (error) {
      this.me = undefined;
      throw error;
    }
  }
}

/** Why a request got no answer, without the URL a fetch error can quote: its name and the socket's code. */
function unreachable(error: unknown): string {
  const { name, cause } = error as Error & { cause?: { code?: unknown } };
  if (/Timeout|Abort/.test(name)) return 'no answer before the send timeout';
  return `could not connect (${name}${typeof cause?.code === 'string' ? ` ${cause.code}` : ''})`;
}
