import { describe, expect, it } from 'vitest';
import type { Message } from '../../lib/lambda/messages.ts';
import {
  escapeHtml,
  type FetchLike,
  Notifier,
  type SnsSender,
  TELEGRAM_TEXT_MAX,
  telegramText,
} from '../../lib/lambda/notify.ts';
import { SecretStore } from '../../lib/lambda/secrets.ts';

const BOT_TOKEN = '123456789:AAFakeTokenForTestsOnly_abcdefghijklmnop';
const message: Message = {
  kind: 'killSwitch',
  ok: false,
  subject: 'KILL SWITCH FAILED: 2 orders still open on hedge (prod)',
  body: 'Reason: <drawdown> & more\n- hedge: 0 cancelled, 2 STILL OPEN',
};

/** A secret store whose one secret is `value`. */
function secretsWith(value: unknown) {
  const client = { send: async () => ({ SecretString: JSON.stringify(value) }) };
  return new SecretStore({ client, ttlMs: 60_000 });
}

function notifier(options: { fetch?: FetchLike; sns?: SnsSender; telegram?: unknown; timeoutMs?: number }) {
  return new Notifier({
    topicArn: options.sns ? 'arn:aws:sns:ap-southeast-1:123456789012:bybit-cancel-prod-reports' : '',
    telegramSecretId: options.fetch ? 'bybit-cancel/prod/telegram' : '',
    telegramApiUrl: 'https://api.telegram.org',
    timeoutMs: options.timeoutMs ?? 1000,
    secrets: secretsWith(options.telegram ?? { botToken: BOT_TOKEN, chatIds: ['-1001', 42] }),
    snsClient: options.sns,
    fetch: options.fetch,
  });
}

const ok = () => new Response(JSON.stringify({ ok: true, result: {} }), { status: 200 });

describe('telegramText', () => {
  it('bolds the subject and escapes every <, > and & for the HTML parse mode', () => {
    expect(telegramText(message)).toBe(
      '<b>KILL SWITCH FAILED: 2 orders still open on hedge (prod)</b>\n\nReason: &lt;drawdown&gt; &amp; more\n- hedge: 0 cancelled, 2 STILL OPEN',
    );
    expect(escapeHtml('a<b>&c')).toBe('a&lt;b&gt;&amp;c');
  });

  it('cuts a long body to Telegram’s limit without cutting an entity, and says where the rest is', () => {
    const long = { ...message, body: `${'&'.repeat(3000)}${'x'.repeat(3000)}` };
    const text = telegramText(long);
    expect(text.length).toBeLessThanOrEqual(TELEGRAM_TEXT_MAX);
    expect(text.length).toBeGreaterThan(TELEGRAM_TEXT_MAX - 10);
    expect(text).toMatch(/(&amp;)+\n\n\[shortened: the whole report is in the log group\]$/);
  });
});

describe('Notifier', () => {
  it('publishes to the topic with an ASCII subject and filterable attributes, and sends each chat the same text', async () => {
    const published: Record<string, unknown>[] = [];
    const sns = {
      send: async (command: { input: Record<string, unknown> }) => published.push(command.input),
    } as unknown as SnsSender;
    const posts: { url: string; body: Record<string, unknown> }[] = [];
    const fetch: FetchLike = async (url, init) => {
      posts.push({ url, body: JSON.parse(String(init.body)) });
      return ok();
    };

    const deliveries = await notifier({ sns, fetch }).send(message, Date.now() + 5000);

    expect(deliveries).toEqual([{ channel: 'sns' }, { channel: 'telegram' }]);
    expect(published).toEqual([
      {
        TopicArn: 'arn:aws:sns:ap-southeast-1:123456789012:bybit-cancel-prod-reports',
        Subject: message.subject,
        Message: message.body,
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'killSwitch' },
          outcome: { DataType: 'String', StringValue: 'failed' },
        },
      },
    ]);
    expect(posts.map((p) => p.body.chat_id).sort()).toEqual(['-1001', '42']);
    for (const post of posts) {
      expect(post.url).toBe(`https://api.telegram.org/bot${BOT_TOKEN}/sendMessage`);
      expect(post.body).toMatchObject({ text: telegramText(message), parse_mode: 'HTML' });
    }
  });

  it('gives up on a channel that does not answer by the send timeout, and says so without its URL', async () => {
    const hang: FetchLike = () => new Promise(() => undefined);
    const started = Date.now();
    const [delivery] = await notifier({ fetch: hang, timeoutMs: 200 }).send(message, Date.now() + 5000);
    const took = Date.now() - started;

    expect(delivery?.error?.message).toBe('telegram: no answer before the send timeout');
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1000);
  });

  it('never puts the bot token in an error, whatever the failure says', async () => {
    const failures: FetchLike[] = [
      async (url) => {
        throw Object.assign(new TypeError(`fetch failed: ${url}`), { cause: { code: 'ECONNREFUSED' } });
      },
      async (url) =>
        new Response(
          JSON.stringify({ ok: false, error_code: 500, description: `Internal ${url}`.slice(0, 8) }),
          { status: 500 },
        ),
      async () => new Response('<html>bad gateway</html>', { status: 502 }),
    ];
    const messages = [];
    for (const fetch of failures) {
      const [delivery] = await notifier({ fetch }).send(message, Date.now() + 5000);
      messages.push(delivery?.error?.message ?? '');
    }
    expect(messages[0]).toBe(
      'telegram: sendMessage failed: chat -1001: could not connect (TypeError ECONNREFUSED); chat 42: could not connect (TypeError ECONNREFUSED)',
    );
    expect(messages[1]).toContain('HTTP 500: Internal');
    expect(messages[2]).toContain('chat 42: HTTP 502');
    for (const text of messages) expect(text).not.toContain(BOT_TOKEN.split(':')[1]);
  });

  it('reports a Telegram secret that is not {botToken, chatIds} by name, never by content', async () => {
    const fetch: FetchLike = async () => ok();
    const [delivery] = await notifier({
      fetch,
      telegram: { botToken: 'not-a-token-abcdefghijkl', chatIds: [] },
    }).send(message, Date.now() + 5000);
    expect(delivery?.error?.message).toMatch(
      /^telegram: secret bybit-cancel\/prod\/telegram: "botToken" must be/,
    );
    expect(delivery?.error?.message).not.toContain('not-a-token');
  });

  it('reports an SNS failure by its type, and has nowhere to send without a topic or a Telegram secret', async () => {
    const sns = {
      send: async () => {
        throw Object.assign(new Error('User is not authorized to perform: SNS:Publish'), {
          name: 'AuthorizationErrorException',
        });
      },
    } as unknown as SnsSender;
    const [delivery] = await notifier({ sns }).send(message, Date.now() + 5000);
    expect(delivery?.error?.message).toBe(
      'sns: Publish failed: AuthorizationErrorException: User is not authorized to perform: SNS:Publish',
    );
    expect(notifier({}).enabled).toBe(false);
    expect(await notifier({}).send(message, Date.now() + 5000)).toEqual([]);
  });
});
