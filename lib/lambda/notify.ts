// Telling a person: each message goes to the reports topic (SNS: e-mail, and whatever else subscribes) and,
// when TELEGRAM_SECRET_ID is set, to every Telegram chat of that secret through the Bot API's sendMessage.
// Channels are sent to at once, each bounded by the send timeout and the caller's deadline; a channel that
// fails or hangs is a NotifyError in the outcome, never a throw, so that nothing waits on it longer than that.
// The Telegram bot token is part of the API's URL: no URL, request or answer header is ever logged or put in
// an error. The SNS SDK is loaded on first use.

import type { SNSClient } from '@aws-sdk/client-sns';
import { NotifyError } from '../errors.ts';
import { type Message, subjectLine } from './messages.ts';
import { parseTelegramSecret, type SecretStore } from './secrets.ts';

/** The one method of the SNS client this module uses (tests pass their own). */
export type SnsSender = Pick<SNSClient, 'send'>;

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface NotifierOptions {
  /** The reports topic; empty: no SNS. */
  topicArn: string;
  /** The secret `{botToken, chatIds}`; empty: no Telegram. */
  telegramSecretId: string;
  telegramApiUrl: string;
  /** No channel is waited on longer than this. */
  timeoutMs: number;
  secrets: SecretStore;
  snsClient?: SnsSender;
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  now?: () => number;
}

/** What became of one channel's send. */
export interface Delivery {
  channel: 'sns' | 'telegram';
  error?: NotifyError;
}

/** Telegram refuses a text longer than this (sendMessage, `text`: 1-4096 characters after entities parsing). */
export const TELEGRAM_TEXT_MAX = 4096;
const TRUNCATED = '\n\n[shortened: the whole report is in the log group]';

const defaults = { maxAttempts: 2, connectionTimeoutMs: 1000 };

type Sdk = typeof import('@aws-sdk/client-sns');

export class Notifier {
  private readonly options: NotifierOptions;
  private sns: SnsSender | undefined;
  private sdk: Promise<Sdk> | undefined;
  private readonly now: () => number;

  constructor(options: NotifierOptions) {
    this.options = options;
    this.sns = options.snsClient;
    this.now = options.now ?? Date.now;
  }

  /** True when there is somewhere to send to. */
  get enabled(): boolean {
    return this.options.topicArn !== '' || this.options.telegramSecretId !== '';
  }

  /** Sends `message` to every channel at once; resolves by `deadline` (epoch ms) at the latest, never rejects. */
  async send(message: Message, deadline: number): Promise<Delivery[]> {
    const until = Math.min(deadline, this.now() + this.options.timeoutMs);
    const sends: Promise<Delivery>[] = [];
    if (this.options.topicArn) sends.push(this.attempt('sns', () => this.publish(message, until), until));
    if (this.options.telegramSecretId)
      sends.push(this.attempt('telegram', () => this.telegram(message, until), until));
    return Promise.all(sends);
  }

  /** Runs one channel's send, turning every failure, and a send still running at `until`, into its error. */
  private async attempt(channel: Delivery['channel'], send: () => Promise<void>, until: number) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new NotifyError(channel, 'no answer before the send timeout')),
        Math.max(0, until - this.now()),
      );
    });
    try {
      await Promise.race([send(), late]);
      return { channel };
    } catch (error) {
      const failure =
        error instanceof NotifyError ? error : new NotifyError(channel, `failed (${(error as Error)?.name})`);
      return { channel, error: failure };
    } finally {
      clearTimeout(timer);
    }
  }

  private async publish(message: Message, until: number): Promise<void> {
    this.sdk ??= import('@aws-sdk/client-sns');
    const sdk = await this.sdk;
    this.sns ??= new sdk.SNSClient({
      maxAttempts: defaults.maxAttempts,
      requestHandler: {
        connectionTimeout: defaults.connectionTimeoutMs,
        requestTimeout: this.options.timeoutMs,
        throwOnRequestTimeout: true,
      },
    });
    const command = new sdk.PublishCommand({
      TopicArn: this.options.topicArn,
      Subject: subjectLine(message.subject),
      Message: message.body,
      // Subscribers can filter on these (an SMS for failures only, say).
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: message.kind },
        outcome: { DataType: 'String', StringValue: message.ok ? 'ok' : 'failed' },
      },
    });
    try {
      await this.sns.send(command, { abortSignal: AbortSignal.timeout(Math.max(1, until - this.now())) });
    } catch (error) {
      const { name, message: text } = error as Error;
      const why = /Timeout|Abort/.test(name) ? 'no answer before the send timeout' : `${name}: ${text}`;
      throw new NotifyError('sns', `Publish failed: ${why}`.slice(0, 300));
    }
  }

  /** The same text to every chat of the Telegram secret, HTML-escaped for parse_mode HTML. */
  private async telegram(message: Message, until: number): Promise<void> {
    const { secrets, telegramSecretId, telegramApiUrl } = this.options;
    let botToken: string;
    let chatIds: string[];
    try {
      ({ botToken, chatIds } = parseTelegramSecret(
        telegramSecretId,
        await secrets.getJson(telegramSecretId),
      ));
    } catch (error) {
      throw new NotifyError('telegram', (error as Error).message);
    }
    const text = telegramText(message);
    const failures: string[] = [];
    await Promise.all(
      chatIds.map(async (chatId) => {
        const why = await this.sendMessage(
          `${telegramApiUrl}/bot${botToken}/sendMessage`,
          chatId,
          text,
          until,
        );
        if (why) failures.push(`chat ${chatId}: ${why}`);
      }),
    );
    if (failures.length) throw new NotifyError('telegram', `sendMessage failed: ${failures.join('; ')}`);
  }

  /** Sends one message; returns why it failed, in words that hold no URL. */
  private async sendMessage(url: string, chatId: string, text: string, until: number) {
    const fetcher = this.options.fetch ?? fetch;
    let response: Response;
    try {
      response = await fetcher(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: chatId, text, parse_mode: 'HTML' }),
        signal: AbortSignal.timeout(Math.max(1, until - this.now())),
      });
    } catch (error) {
      const { name, cause } = error as Error & { cause?: { code?: unknown } };
      if (/Timeout|Abort/.test(name)) return 'no answer before the send timeout';
      // A fetch error's message can quote the URL: only its name and the socket's error code are kept.
      return `could not connect (${name}${typeof cause?.code === 'string' ? ` ${cause.code}` : ''})`;
    }
    let answer: { ok?: unknown; description?: unknown } = {};
    try {
      answer = (await response.json()) as typeof answer;
    } catch {
      // Not JSON: the status says enough.
    }
    if (response.ok && answer.ok === true) return undefined;
    const description = typeof answer.description === 'string' ? `: ${answer.description.slice(0, 200)}` : '';
    return `HTTP ${response.status}${description}`;
  }
}

/** The subject in bold, then the body, escaped for Telegram's HTML parse mode and cut to its length limit. */
export function telegramText(message: Message): string {
  const head = `<b>${escapeHtml(message.subject)}</b>\n\n`;
  const full = head + escapeHtml(message.body);
  if (full.length <= TELEGRAM_TEXT_MAX) return full;
  // The longest start of the plain body that fits once escaped: an entity (&amp;) is never cut in half.
  const tail = escapeHtml(TRUNCATED);
  const fits = (n: number) =>
    head.length + escapeHtml(message.body.slice(0, n)).length + tail.length <= TELEGRAM_TEXT_MAX;
  let low = 0;
  let high = message.body.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return head + escapeHtml(message.body.slice(0, low)) + tail;
}

/** What Telegram's HTML parse mode requires: every <, > and & outside a tag or entity escaped. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
