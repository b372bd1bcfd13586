// `npm run telegram -- --setup --stage S` as a person runs it, against loopback stand-ins of what it reads: the
// deployed stack's HttpApiUrl output (CloudFormation), the deployed telegram function's settings (Lambda), the
// Telegram secret (Secrets Manager) and the Bot API. The function's settings are the packaged template's.

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { type AwsAccount, defaultAccountState, startAwsAccount } from '../support/aws-account.ts';
import { childEnv, runScript } from '../support/local-run.ts';
import { functionEnv } from '../support/reporting.ts';
import { registerSecret } from '../support/secret-registry.ts';
import { type SecretsManagerEndpoint, startSecretsManager } from '../support/secrets-manager.ts';
import { startTelegram, type TelegramEndpoint } from '../support/telegram.ts';

const template = inject('packaged').template as {
  Resources: Record<string, { Properties: Record<string, unknown> }>;
};
const packagedEnv = functionEnv(template, 'TelegramLambdaFunction') as Record<string, unknown>;
const FUNCTION = String(template.Resources.TelegramLambdaFunction?.Properties.FunctionName);
const STAGE = String(packagedEnv.STAGE);
const STACK = `bybit-cancel-${STAGE}`;
const API_URL = 'https://a1b2c3d4e5.execute-api.ap-southeast-1.amazonaws.com';
const SECRET_ID = `bybit-cancel/${STAGE}/telegram`;
const RUN_TIMEOUT_MS = 60_000;

const botToken = `7000001:${randomBytes(27).toString('base64url')}`;
const webhookToken = randomBytes(32).toString('base64url');
registerSecret('botToken', botToken);
registerSecret('webhookToken', webhookToken);
const chatIds = ['-1001234567890', '424242'];

let account: AwsAccount;
let secrets: SecretsManagerEndpoint;
let telegram: TelegramEndpoint;

/** The deployed function's settings: the packaged ones, with the Telegram secret and the local Bot API. */
function deployedEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const values = Object.fromEntries(
    Object.entries(packagedEnv).filter(([, v]) => typeof v === 'string') as [string, string][],
  );
  return { ...values, TELEGRAM_SECRET_ID: SECRET_ID, TELEGRAM_API_URL: telegram.url, ...overrides };
}

beforeAll(async () => {
  account = await startAwsAccount();
  secrets = await startSecretsManager();
  telegram = await startTelegram({ bots: [{ token: botToken, chats: chatIds, username: 'desk_dev_bot' }] });
});
afterAll(async () => {
  await Promise.all([account.close(), secrets.close(), telegram.close()]);
});
beforeEach(() => {
  account.state = {
    ...defaultAccountState(),
    outputs: { [STACK]: { HttpApiUrl: API_URL, HttpApiId: 'a1b2c3d4e5' } },
    environments: { [FUNCTION]: deployedEnv() },
  };
  (account.calls as string[]).length = 0;
  secrets.put(SECRET_ID, { botToken, chatIds, webhookToken, userIds: ['424242'] });
  telegram.reset();
  telegram.addBot(botToken, chatIds, 'desk_dev_bot');
});

function setup(args: string[] = ['--setup', '--stage', STAGE]) {
  return runScript(
    'telegram',
    args,
    RUN_TIMEOUT_MS,
    childEnv({
      AWS_ENDPOINT_URL_CLOUDFORMATION: account.url,
      AWS_ENDPOINT_URL_LAMBDA: account.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_ACCESS_KEY_ID: 'AKIDTELEGRAMSETUP',
      AWS_SECRET_ACCESS_KEY: 'telegram-setup-not-a-secret',
      AWS_REGION: 'ap-southeast-1',
      AWS_PROFILE: undefined,
    }),
  );
}

function expectNoToken(text: string) {
  expect(text).not.toContain(botToken);
  expect(text).not.toContain(botToken.split(':')[1]);
  expect(text).not.toContain(webhookToken);
}

describe('npm run telegram -- --setup', () => {
  it('registers the stack’s POST /telegram with the secret token and the two kinds of update, sends a test message to every chat, and says what to check', async () => {
    const result = await setup();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(telegram.webhook(botToken)).toEqual({
      url: `${API_URL}/telegram`,
      secretToken: webhookToken,
      allowedUpdates: ['message', 'callback_query'],
    });
    expect(account.calls).toEqual(['lambda:GetFunctionConfiguration', 'cloudformation:DescribeStacks']);
    const sent = telegram.sent();
    expect(sent.map((m) => m.chatId).sort()).toEqual([...chatIds].sort());
    for (const m of sent) expect(m.shown).toMatch(new RegExp(`^bybit-cancel, stage ${STAGE}: connected\\n`));
    expect(result.stdout).toContain(`✔ Webhook of @desk_dev_bot: ${API_URL}/telegram`);
    expect(result.stdout).toContain('secret token: set');
    for (const chat of chatIds) expect(result.stdout).toContain(`✔ Test message sent to chat ${chat}`);
    expect(result.stdout).toContain('sends /status: the bot answers within seconds');
    expectNoToken(result.stdout + result.stderr);
  });

  it('fails, naming the chat, when the bot cannot write to one of them', async () => {
    telegram.addBot(botToken, [chatIds[0] as string], 'desk_dev_bot');
    const result = await setup();
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '✘ Test message to chat 424242 failed: HTTP 400: Bad Request: chat not found (is the bot a member of that chat? is the id right?)',
    );
    expect(result.stderr).toContain('not every check passed');
    expectNoToken(result.stdout + result.stderr);
  });

  it('takes --url (a custom domain) instead of the stack output', async () => {
    const result = await setup(['--setup', '--stage', STAGE, '--url', 'https://bots.example.com/telegram']);
    expect(result.code).toBe(0);
    expect(telegram.webhook(botToken)?.url).toBe('https://bots.example.com/telegram');
    expect(account.calls).toEqual(['lambda:GetFunctionConfiguration']);
  });

  it('stops before Telegram when the stage has no Telegram secret, and says how to set one', async () => {
    account.state.environments = { [FUNCTION]: deployedEnv({ TELEGRAM_SECRET_ID: '' }) };
    const result = await setup();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `the stage has no Telegram secret: deploy it with --param="TELEGRAM_SECRET_ID=bybit-cancel/${STAGE}/telegram"`,
    );
    expect(telegram.calls).toEqual([]);
  });

  it('stops before Telegram when the secret has no webhook token, naming the field and never a value', async () => {
    secrets.put(SECRET_ID, { botToken, chatIds, userIds: ['424242'] });
    const result = await setup();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `secret ${SECRET_ID}: "webhookToken" must be 32 to 256 random characters`,
    );
    expect(telegram.calls).toEqual([]);
    expectNoToken(result.stdout + result.stderr);
  });

  it('says so when the stage is not deployed', async () => {
    account.state.environments = {};
    const result = await setup();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`could not read the function ${FUNCTION}`);
    expect(result.stderr).toContain(`Deploy the stage first (npx serverless deploy --stage ${STAGE})`);
    expect(telegram.calls).toEqual([]);
  });

  it.each([
    [['--stage', STAGE], '--setup is required'],
    [['--setup'], '--stage is required'],
    [
      ['--setup', '--stage', STAGE, '--url', 'http://bots.example.com/telegram'],
      '--url must be an https:// URL',
    ],
  ])('refuses %j with exit 2', async (args, message) => {
    const result = await setup(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(telegram.calls).toEqual([]);
  });
});
