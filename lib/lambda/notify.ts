// Telling a person: each message goes to the reports topic (SNS: e-mail, and whatever else subscribes) and,
// when TELEGRAM_SECRET_ID is set, to every Telegram chat of that secret through the Bot API's sendMessage
// (telegram-bot.ts, which never puts the bot token's URL in an error). Channels are sent to at once, each
// bounded by the send timeout and the caller's deadline; a channel that fails or hangs is a NotifyError in the
// outcome, never a throw, so that nothing waits on it longer than that. The SNS SDK is loaded on first use.

import type { SNSClient } from '@aws-sdk/client-sns';
import { NotifyError, TelegramApiError } from '../errors.ts';
import { type Message, subjectLine } from './messages.ts';
import { parseTelegramSecret, type SecretStore } from './secrets.ts';
import { type FetchLike, TELEGRAM_TEXT_MAX, TelegramBot } from './telegram-bot.ts';

export { type FetchLike, TELEGRAM_TEXT_MAX };

/** The one method of the SNS client this module uses (tests pass their own). */
export type SnsSender = Pick<SNSClient, 'send'>;

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
    const { secrets, telegramSecretId, telegramApiUrl, timeoutMs } = this.options;
    let bot: TelegramBot;
    let chatIds: string[];
    try {
      const secret = parseTelegramSecret(telegramSecretId, await secrets.getJson(telegramSecretId));
      bot = new TelegramBot({
        apiUrl: telegramApiUrl,
        botToken: secret.botToken,
        timeoutMs,
        fetch: this.options.fetch,
        now: this.now,
      });
      chatIds = secret.chatIds;
    } catch (error) {
      throw new NotifyError('telegram', (error as Error).message);
    }
    const text = telegramText(message);
    const failures: string[] = [];
    await Promise.all(
      chatIds.map(async (chatId) => {
        try {
          await bot.sendMessage(chatId, text, { until });
        } catch (error) {
          const why = error instanceof TelegramApiError ? error.why : `failed (${(error as Error)?.name})`;
          failures.push(`chat ${chatId}: ${why}`);
        }
      }),
    );
    if (failures.length) throw new NotifyError('telegram', `sendMessage failed: ${failures.join('; ')}`);
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
