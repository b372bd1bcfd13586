// The Notifier on failures notify.test.ts does not make: an SNS timeout, a rejection that is no Error, an
// answer the Telegram client cannot read at all; and the outcome attribute of a message that went well.

import { describe, expect, it } from 'vitest';
import type { Message } from '../../lib/lambda/messages.ts';
import { type FetchLike, Notifier, type SnsSender } from '../../lib/lambda/notify.ts';
import { SecretStore } from '../../lib/lambda/secrets.ts';

const BOT_TOKEN = '123456789:AAFakeTokenForTestsOnly_abcdefghijklmnop';
const TOPIC = 'arn:aws:sns:ap-southeast-1:123456789012:bybit-cancel-prod-reports';
const passed: Message = {
  kind: 'drillRecovered',
  ok: true,
  subject: 'Drill passes again (prod)',
  body: 'Every account passed.',
};

function notifier(options: { sns?: SnsSender; fetch?: FetchLike }) {
  const client = {
    send: async () => ({ SecretString: JSON.stringify({ botToken: BOT_TOKEN, chatIds: ['7'] }) }),
  };
  return new Notifier({
    topicArn: options.sns ? TOPIC : '',
    telegramSecretId: options.fetch ? 'bybit-cancel/prod/telegram' : '',
    telegramApiUrl: 'https://api.telegram.org',
    timeoutMs: 5000,
    secrets: new SecretStore({ client, ttlMs: 60_000 }),
    snsClient: options.sns,
    fetch: options.fetch,
  });
}

const snsRejecting = (reason: unknown) =>
  ({
    send: async () => {
      throw reason;
    },
  }) as unknown as SnsSender;

describe('Notifier failures', () => {
  it('publishes a message that went well with the outcome attribute ok', async () => {
    const inputs: Record<string, unknown>[] = [];
    const sns = {
      send: async (command: { input: Record<string, unknown> }) => inputs.push(command.input),
    } as unknown as SnsSender;
    expect(await notifier({ sns }).send(passed, Date.now() + 5000)).toEqual([{ channel: 'sns' }]);
    expect(inputs.map((i) => i.MessageAttributes)).toEqual([
      {
        kind: { DataType: 'String', StringValue: 'drillRecovered' },
        outcome: { DataType: 'String', StringValue: 'ok' },
      },
    ]);
  });

  it('says an SNS timeout or abort is no answer before the send timeout, not its SDK wording', async () => {
    for (const name of ['TimeoutError', 'AbortError', 'RequestTimeout']) {
      const error = Object.assign(new Error('The operation was aborted'), { name });
      const [delivery] = await notifier({ sns: snsRejecting(error) }).send(passed, Date.now() + 5000);
      expect([name, delivery?.error?.message]).toEqual([
        name,
        'sns: Publish failed: no answer before the send timeout',
      ]);
    }
  });

  it('names only the type of a failure that is not a NotifyError', async () => {
    // A rejection with no error at all: reading its name fails, and that TypeError is what is named.
    const [delivery] = await notifier({ sns: snsRejecting(undefined) }).send(passed, Date.now() + 5000);
    expect(delivery?.channel).toBe('sns');
    expect(delivery?.error?.name).toBe('NotifyError');
    expect(delivery?.error?.message).toBe('sns: failed (TypeError)');
  });

  it('names a chat whose answer could not be read at all by the failure’s type, never the URL', async () => {
    const fetch = (async () => null) as unknown as FetchLike;
    const [delivery] = await notifier({ fetch }).send(passed, Date.now() + 5000);
    expect(delivery?.error?.message).toBe('telegram: sendMessage failed: chat 7: failed (TypeError)');
  });
});
