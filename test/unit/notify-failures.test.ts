// The Notifier on failures notify.test.ts does not make: an SNS timeout, a rejection that is no Error, an
// answer the Telegram client cannot read at all; and the outcome attribute of a message that went well.
// Then its bounds: where it sends, how the SNS client it makes gives up, that a publish is not aborted before
// its deadline, that a send leaves no timer behind (a CLI run would wait on it), and Telegram's text limit.

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Message } from '../../lib/lambda/messages.ts';
import {
  type FetchLike,
  Notifier,
  type SnsSender,
  TELEGRAM_TEXT_MAX,
  telegramText,
} from '../../lib/lambda/notify.ts';
import { SecretStore } from '../../lib/lambda/secrets.ts';

const clients = vi.hoisted(() => ({ configs: [] as unknown[] }));

// The SNS client the Notifier makes when none is given: its configuration recorded, its send a no-op.
vi.mock('@aws-sdk/client-sns', async (original) => {
  const sdk = await original<typeof import('@aws-sdk/client-sns')>();
  class SNSClient {
    constructor(config: unknown) {
      clients.configs.push(config);
    }
    async send() {
      return {};
    }
  }
  return { ...sdk, SNSClient };
});

const BOT_TOKEN = '123456789:AAFakeTokenForTestsOnly_abcdefghijklmnop';
const TOPIC = 'arn:aws:sns:ap-southeast-1:123456789012:bybit-cancel-prod-reports';
const passed: Message = {
  kind: 'drillRecovered',
  ok: true,
  subject: 'Drill passes again (prod)',
  body: 'Every account passed.',
};

/** `sns: 'sdk'`: a topic, and the SNS client the Notifier makes itself. */
function notifier(options: { sns?: SnsSender | 'sdk'; fetch?: FetchLike; timeoutMs?: number }) {
  const client = {
    send: async () => ({ SecretString: JSON.stringify({ botToken: BOT_TOKEN, chatIds: ['7'] }) }),
  };
  return new Notifier({
    topicArn: options.sns ? TOPIC : '',
    telegramSecretId: options.fetch ? 'bybit-cancel/prod/telegram' : '',
    telegramApiUrl: 'https://api.telegram.org',
    timeoutMs: options.timeoutMs ?? 5000,
    secrets: new SecretStore({ client, ttlMs: 60_000 }),
    snsClient: options.sns === 'sdk' ? undefined : options.sns,
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

afterEach(() => {
  vi.useRealTimers();
});

describe('Notifier bounds', () => {
  it('has somewhere to send with the topic alone, or the Telegram secret alone', () => {
    const fetch: FetchLike = async () => new Response('{"ok":true,"result":{}}');
    const sns = { send: async () => ({}) } as unknown as SnsSender;
    expect([notifier({ sns }).enabled, notifier({ fetch }).enabled, notifier({}).enabled]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('makes an SNS client that tries twice at most and gives up at the send timeout', async () => {
    clients.configs.length = 0;
    const deliveries = await notifier({ sns: 'sdk', timeoutMs: 2500 }).send(passed, Date.now() + 10_000);
    expect(deliveries).toEqual([{ channel: 'sns' }]);
    expect(clients.configs).toEqual([
      {
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 1000, requestTimeout: 2500, throwOnRequestTimeout: true },
      },
    ]);
  });

  it('lets a publish run until its deadline: a publish that takes a moment is not aborted', async () => {
    const sns = {
      send: (_command: unknown, options: { abortSignal?: AbortSignal }) =>
        new Promise((resolve, reject) => {
          const signal = options.abortSignal;
          signal?.addEventListener('abort', () => reject(signal.reason));
          setTimeout(resolve, 30);
        }),
    } as unknown as SnsSender;
    expect(await notifier({ sns }).send(passed, Date.now() + 10_000)).toEqual([{ channel: 'sns' }]);
  });

  it('leaves no timer behind once every channel has answered', async () => {
    vi.useFakeTimers();
    const sns = { send: async () => ({}) } as unknown as SnsSender;
    expect(await notifier({ sns }).send(passed, Date.now() + 10_000)).toEqual([{ channel: 'sns' }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cuts an SNS error it names to 300 characters', async () => {
    const sns = {
      send: async () => {
        throw Object.assign(new Error('x'.repeat(500)), { name: 'InternalErrorException' });
      },
    } as unknown as SnsSender;
    const [delivery] = await notifier({ sns }).send(passed, Date.now() + 10_000);
    const said = `Publish failed: InternalErrorException: ${'x'.repeat(500)}`.slice(0, 300);
    expect(delivery?.error?.message).toBe(`sns: ${said}`);
  });
});

describe('telegramText at the limit', () => {
  const head = (subject: string) => `<b>${subject}</b>\n\n`;

  it('sends a text of exactly the limit whole', () => {
    const body = 'b'.repeat(TELEGRAM_TEXT_MAX - head(passed.subject).length);
    const text = telegramText({ ...passed, body });
    expect(text).toBe(`${head(passed.subject)}${body}`);
    expect(text.length).toBe(TELEGRAM_TEXT_MAX);
  });

  it('fills a shortened text to exactly the limit', () => {
    const text = telegramText({ ...passed, body: 'b'.repeat(TELEGRAM_TEXT_MAX) });
    expect(text.length).toBe(TELEGRAM_TEXT_MAX);
    expect(text.endsWith('b\n\n[shortened: the whole report is in the log group]')).toBe(true);
  });
});
