// Connecting a stage to its Telegram bot: setWebhook with the stage's `POST /telegram` URL, the secret's
// webhookToken as `secret_token` (Telegram sends it back with every update, and the function refuses any
// update without it) and the two kinds of update the commands read; then a test message to every chat, and
// what Telegram says of the webhook. Used by `npm run telegram -- --setup` and by `npm start`. The bot token
// and the webhook token are never printed: they travel in the API's URL and body only.

import { TelegramApiError } from '../../lib/errors.ts';
import type { TelegramCommandSecret } from '../../lib/lambda/secrets.ts';
import { TelegramBot } from '../../lib/lambda/telegram-bot.ts';

/** The updates the commands read: a message (a command), a callback query (a button). */
export const ALLOWED_UPDATES = ['message', 'callback_query'];
const CALL_TIMEOUT_MS = 10_000;

export interface WebhookSetup {
  stage: string;
  /** The Bot API's base URL (the function's TELEGRAM_API_URL). */
  apiUrl: string;
  /** Where Telegram posts updates: the HTTP API's URL and `/telegram`. */
  webhookUrl: string;
  secret: TelegramCommandSecret;
}

export interface WebhookReport {
  /** The bot's username, without @. */
  bot?: string;
  /** What getWebhookInfo says now. */
  url: string;
  allowedUpdates?: string[];
  pendingUpdates?: number;
  /** Telegram's last failure to deliver an update to the webhook, if any. */
  lastError?: string;
  /** The test message, per chat: undefined when sent, else why not. */
  chats: { chatId: string; failed?: string }[];
}

/** Registers the webhook and sends the test message; throws TelegramApiError when Telegram refuses the webhook. */
export async function setUpWebhook(setup: WebhookSetup): Promise<WebhookReport> {
  const bot = new TelegramBot({
    apiUrl: setup.apiUrl,
    botToken: setup.secret.botToken,
    timeoutMs: CALL_TIMEOUT_MS,
  });
  const me = await bot.call<{ username?: string }>('getMe', {});
  await bot.call('setWebhook', {
    url: setup.webhookUrl,
    secret_token: setup.secret.webhookToken,
    allowed_updates: ALLOWED_UPDATES,
  });
  const text = [
    `<b>bybit-cancel, stage ${setup.stage}: connected</b>`,
    'This chat gets the kill switch’s reports, and takes commands from the people listed in the Telegram secret. Send /help here.',
  ].join('\n');
  const chats = await Promise.all(
    setup.secret.chatIds.map(async (chatId) => {
      try {
        await bot.sendMessage(chatId, text);
        return { chatId };
      } catch (error) {
        return { chatId, failed: error instanceof TelegramApiError ? error.why : (error as Error).message };
      }
    }),
  );
  const info = await bot.call<{
    url?: string;
    allowed_updates?: string[];
    pending_update_count?: number;
    last_error_message?: string;
    last_error_date?: number;
  }>('getWebhookInfo', {});
  return {
    ...(me.username ? { bot: me.username } : {}),
    url: info.url ?? '',
    ...(info.allowed_updates ? { allowedUpdates: info.allowed_updates } : {}),
    ...(info.pending_update_count !== undefined ? { pendingUpdates: info.pending_update_count } : {}),
    ...(info.last_error_message
      ? {
          lastError: `${info.last_error_message}${info.last_error_date ? ` (${new Date(info.last_error_date * 1000).toISOString()})` : ''}`,
        }
      : {}),
    chats,
  };
}

/** What to check after the setup, as lines to print. */
export function webhookChecks(setup: WebhookSetup, report: WebhookReport): string[] {
  const lines = [
    `✔ Webhook of ${report.bot ? `@${report.bot}` : 'the bot'}: ${report.url}`,
    `  updates: ${(report.allowedUpdates ?? ALLOWED_UPDATES).join(', ')}; pending: ${report.pendingUpdates ?? 0}; secret token: set (the secret's webhookToken)`,
  ];
  if (report.url !== setup.webhookUrl)
    lines.push(`✘ Telegram holds ${report.url || 'no URL'}, not ${setup.webhookUrl}`);
  if (report.lastError) lines.push(`! Telegram's last delivery error: ${report.lastError}`);
  for (const chat of report.chats) {
    lines.push(
      chat.failed
        ? `✘ Test message to chat ${chat.chatId} failed: ${chat.failed} (is the bot a member of that chat? is the id right?)`
        : `✔ Test message sent to chat ${chat.chatId}`,
    );
  }
  lines.push(
    '',
    'Check now:',
    `  1. Each chat above shows "bybit-cancel, stage ${setup.stage}: connected".`,
    `  2. In one of them, ${setup.secret.userIds.length === 1 ? 'the person' : 'one of the people'} of userIds (${setup.secret.userIds.join(', ')}) sends /status: the bot answers within seconds.`,
    '  3. /kill shows a confirmation with Kill now and Cancel: press Cancel (nothing is fired).',
    '  4. Nothing comes back? Run this again and read the delivery error above; the telegram function logs',
    `     every update it refuses ("telegram update refused" or "ignored", with the chat and user ids).`,
  );
  return lines;
}
