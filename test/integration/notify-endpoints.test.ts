// The loopback stand-ins for SNS and the Telegram Bot API answer as the real services document, so that the real
// clients (the SNS SDK, the Notifier's fetch) meet the same refusals there as in AWS and at Telegram.

import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../lib/lambda/messages.ts';
import { Notifier } from '../../lib/lambda/notify.ts';
import { SecretStore } from '../../lib/lambda/secrets.ts';
import { registerSecret } from '../support/secret-registry.ts';
import { type SnsEndpoint, startSns } from '../support/sns.ts';
import { startTelegram, type TelegramEndpoint } from '../support/telegram.ts';

const TOKEN = '424242424:AAlocalTelegramTokenForEndpointTests01';
registerSecret('botToken', TOKEN);
let sns: SnsEndpoint;
let telegram: TelegramEndpoint;
let topicArn: string;
let client: SNSClient;

beforeAll(async () => {
  sns = await startSns({ region: 'ap-southeast-1' });
  telegram = await startTelegram({ bots: [{ token: TOKEN, chats: ['-100777', '555'] }] });
  topicArn = sns.createTopic('bybit-cancel-test-reports');
  client = new SNSClient({
    endpoint: sns.url,
    region: 'ap-southeast-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await Promise.all([sns.close(), telegram.close()]);
});

describe('the SNS stand-in, through the real SDK client', () => {
  it('takes a Publish with its subject, message and attributes', async () => {
    const answer = await client.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'Kill switch: all clear - 1 account, 3 orders, 0.2 s (test)',
        Message: 'All clear.\n- main: 3 cancelled',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'killSwitch' } },
      }),
    );
    const [published] = sns.published(topicArn);
    expect(answer.MessageId).toBe(published?.messageId);
    expect(published).toMatchObject({
      subject: 'Kill switch: all clear - 1 account, 3 orders, 0.2 s (test)',
      message: 'All clear.\n- main: 3 cancelled',
      attributes: { kind: 'killSwitch' },
    });
  });

  it.each([
    ['a line break', 'two\nlines'],
    ['a character outside ASCII', 'all clear — 3 accounts'],
    ['100 characters', 'x'.repeat(100)],
  ])('refuses a subject with %s, as SNS does (InvalidParameter)', async (_, Subject) => {
    const error = await client
      .send(new PublishCommand({ TopicArn: topicArn, Subject, Message: 'm' }))
      .catch((e) => e);
    expect(error.name).toBe('InvalidParameterException');
    expect(error.message).toBe('Invalid parameter: Subject');
  });

  it('answers NotFound for a topic that does not exist', async () => {
    const error = await client
      .send(new PublishCommand({ TopicArn: `${topicArn}-gone`, Message: 'm' }))
      .catch((e) => e);
    expect(error.name).toBe('NotFoundException');
  });
});

describe('the Telegram stand-in', () => {
  const call = (token: string, method: string, body: unknown) =>
    fetch(`${telegram.url}/bot${token}/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));

  it('refuses an unknown token (401), an unknown chat (400) and text the HTML parse mode cannot parse', async () => {
    expect(await call('1:wrong', 'sendMessage', { chat_id: '555', text: 'x' })).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    expect((await call(TOKEN, 'sendMessage', { chat_id: '999', text: 'x' })).body.description).toBe(
      'Bad Request: chat not found',
    );
    for (const text of ['reason: <script>', 'a & b', '<b>bold']) {
      const answer = await call(TOKEN, 'sendMessage', { chat_id: '555', text, parse_mode: 'HTML' });
      expect(answer.status).toBe(400);
      expect(String(answer.body.description)).toMatch(/^Bad Request: can't parse entities: /);
    }
    expect(telegram.sent()).toEqual([]);
  });

  it('delivers an update to the webhook a bot registered, with its secret token, as Telegram posts it', async () => {
    const received: { headers: Record<string, unknown>; body: unknown }[] = [];
    const { createServer } = await import('node:http');
    const hook = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        received.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString()) });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const { port } = hook.address() as import('node:net').AddressInfo;
    try {
      const set = await call(TOKEN, 'setWebhook', {
        url: `http://127.0.0.1:${port}/telegram`,
        secret_token: 'webhook-token-of-this-test-0123456789',
        allowed_updates: ['message', 'callback_query'],
      });
      expect(set.body).toEqual({ ok: true, result: true });
      const answer = await telegram.deliver(TOKEN, {
        message: { chat: { id: 555 }, from: { id: 7 }, text: '/status' },
      });
      expect(answer.status).toBe(200);
      expect(received[0]?.headers['x-telegram-bot-api-secret-token']).toBe(
        'webhook-token-of-this-test-0123456789',
      );
      expect(received[0]?.body).toEqual({
        update_id: 1,
        message: { chat: { id: 555 }, from: { id: 7 }, text: '/status' },
      });
    } finally {
      hook.close();
    }
  });
});

describe('the Notifier against both', () => {
  const secrets = new SecretStore({
    client: {
      send: async () => ({ SecretString: JSON.stringify({ botToken: TOKEN, chatIds: ['-100777', 555] }) }),
    },
    ttlMs: 60_000,
  });
  const message: Message = {
    kind: 'killSwitch',
    ok: false,
    subject: 'KILL SWITCH FAILED: 1 order still open on main (test)',
    body: 'Reason: stop <all> bots & flatten\n- main: 0 cancelled, 1 STILL OPEN',
  };

  it('sends text Telegram accepts, showing exactly what was written, to every chat', async () => {
    const live = new Notifier({
      topicArn: '',
      telegramSecretId: 'bybit-cancel/test/telegram',
      telegramApiUrl: telegram.url,
      timeoutMs: 1000,
      secrets,
    });
    telegram.reset();
    const deliveries = await live.send(message, Date.now() + 5000);
    expect(deliveries).toEqual([{ channel: 'telegram' }]);
    expect(
      telegram
        .sent()
        .map((m) => m.chatId)
        .sort(),
    ).toEqual(['-100777', '555']);
    for (const sent of telegram.sent()) expect(sent.shown).toBe(`${message.subject}\n\n${message.body}`);
  });
});
