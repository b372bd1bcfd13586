// Telegram commands end to end. The Telegram stand-in posts updates over a real socket to `POST /telegram` (a
// loopback HTTP API in front of handlers/telegram.ts), with the secret token setWebhook registered; the function
// hands its jobs to itself through a Lambda Invoke endpoint on loopback (the real @aws-sdk/client-lambda),
// runs the real drill, reset and heartbeat handlers there, and puts the kill-switch event on an EventBridge
// endpoint whose rule hands it to the cancelAll handler, against the exchange emulator. `hedge` is a
// sub-account and a master key is configured, so a kill switch halts it for real (its bot's key made
// read-only) and /reset restores it. The state table is dynalite; the names of the functions, the route and
// the table come from the packaged template.
//
// Each refusal ends with nothing fired: no PutEvents, no kill switch run, no cancel sent to the exchange, no
// function started but the telegram function itself.

import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { maskKey } from '../../lib/cancel/halt.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import { parseTelegramCommandSecret } from '../../lib/lambda/secrets.ts';
import { ALLOWED_UPDATES, setUpWebhook } from '../../scripts/deploy/telegram-webhook.ts';
import { type DeliveredEvent, type FakeEventBridge, startEventBridge } from '../support/eventbridge.ts';
import { lambdaContext, signedHttpEvent } from '../support/events.ts';
import { type HttpApiEndpoint, type RouteFunction, startHttpApi } from '../support/http-api.ts';
import { type LambdaEndpoint, startLambdaEndpoint } from '../support/lambda.ts';
import { mixedBook } from '../support/orders.ts';
import { functionEnv, type ReportingStack, startReporting } from '../support/reporting.ts';
import { type SchedulerEndpoint, startScheduler } from '../support/scheduler.ts';
import { findSecrets } from '../support/secret-hygiene.ts';
import { registerSecret } from '../support/secret-registry.ts';
import { type LocalStack, type StackAccount, startStack } from '../support/stack.ts';
import type { Delivered, Person, SentMessage } from '../support/telegram.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
type Json = Record<string, unknown>;

const template = inject('packaged').template as {
  Resources: Record<string, { Type: string; Properties: Json }>;
};
const env = functionEnv(template, 'TelegramLambdaFunction') as Record<string, string>;
const nameOf = (id: string) => String(template.Resources[id]?.Properties.FunctionName);
const FUNCTIONS = {
  telegram: nameOf('TelegramLambdaFunction'),
  cancelAll: nameOf('CancelAllLambdaFunction'),
  drill: nameOf('DrillLambdaFunction'),
  heartbeat: nameOf('HeartbeatLambdaFunction'),
  reset: nameOf('ResetLambdaFunction'),
};
/** The deployed drill asks the reset function to check the master key (only that one may read it). */
const MASTER_KEY_CHECK_FUNCTION = String(
  functionEnv(template, 'DrillLambdaFunction').MASTER_KEY_CHECK_FUNCTION,
);
const ROUTE = String(template.Resources.HttpApiRoutePostTelegram?.Properties.RouteKey);
const STAGE = String(env.STAGE);
const CANCEL_ALL_PATH = '/v5/order/cancel-all';
/** A bot trading on the hedge sub-account with a key of its own, made long ago: the halt makes it read-only. */
const BOT = { apiKey: 'key-telegram-bot-5d2c8e1f', apiSecret: 'telegram-bot-secret-9f3a7c1e5b2d' };
const BOT_KEY = { createdAt: Date.now() - 30 * 86_400_000, ips: ['127.0.0.1'] };

let stack: LocalStack;
let reporting: ReportingStack;
let scheduler: SchedulerEndpoint;
let events: FakeEventBridge;
let lambda: LambdaEndpoint;
let api: HttpApiEndpoint;
let cancelAll: Handler;
let reset: Handler;
let telegramHandler: Handler;
/** The routes of the HTTP API (a test may put another telegram handler there). */
const routes: Record<string, RouteFunction> = {};
/** A route to the telegram function, as API Gateway invokes it. */
const telegramRoute =
  (handler: Handler): RouteFunction =>
  (event) =>
    handler(event, lambdaContext(30_000, FUNCTIONS.telegram));
/** The kill switches the rule ran, each settling with its result or error. */
const kills: Promise<unknown>[] = [];
const lines: string[] = [];

let dana: Person;
let eli: Person;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'hedge'], subAccounts: ['hedge'] });
  const hedge = stack.accounts.find((a) => a.name === 'hedge') as StackAccount;
  registerSecret('apiKey', BOT.apiKey);
  registerSecret('apiSecret', BOT.apiSecret);
  stack.emulator.addAccount({ uid: hedge.uid, parentUid: stack.master?.uid, ...BOT });
  reporting = await startReporting(template, stack.secrets);
  // Real time: an armed dead man's switch (300 s) does not fire during the tests.
  scheduler = await startScheduler({ region: 'ap-southeast-1', timeScale: 1 });
  // The kill-switch rule: the event goes to cancelAll, which runs while PutEvents has long answered.
  events = await startEventBridge({
    freshIds: true,
    onEvent: (event: DeliveredEvent) => {
      kills.push(cancelAll(event, lambdaContext(60_000, FUNCTIONS.cancelAll)).catch((error: Error) => error));
    },
  });
  lambda = await startLambdaEndpoint();
  Object.assign(process.env, stack.env, reporting.env, {
    LOG_LEVEL: 'info',
    TELEGRAM_FUNCTION_NAME: env.TELEGRAM_FUNCTION_NAME,
    RESET_FUNCTION_NAME: env.RESET_FUNCTION_NAME,
    DRILL_FUNCTION_NAME: env.DRILL_FUNCTION_NAME,
    HEARTBEAT_FUNCTION_NAME: env.HEARTBEAT_FUNCTION_NAME,
    MASTER_KEY_CHECK_FUNCTION,
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
    AWS_ENDPOINT_URL_EVENTBRIDGE: events.url,
    AWS_ENDPOINT_URL_SCHEDULER: scheduler.url,
    DEAD_MANS_SWITCH_BUS_ARN: 'arn:aws:events:ap-southeast-1:123456789012:event-bus/default',
    DEAD_MANS_SWITCH_ROLE_ARN: 'arn:aws:iam::123456789012:role/bybit-cancel-dev-dead-mans-switch-scheduler',
    DEAD_MANS_SWITCH_DLQ_ARN: 'arn:aws:sqs:ap-southeast-1:123456789012:bybit-cancel-dev-failures',
  });
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  const telegram = (await import('../../handlers/telegram.ts')).handler as Handler;
  telegramHandler = telegram;
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as Handler;
  const heartbeat = (await import('../../handlers/heartbeat.ts')).handler as Handler;
  reset = (await import('../../handlers/reset.ts')).handler as Handler;
  lambda.define(FUNCTIONS.telegram, telegram);
  lambda.define(FUNCTIONS.drill, (await import('../../handlers/drill.ts')).handler as Handler);
  lambda.define(FUNCTIONS.heartbeat, heartbeat);
  lambda.define(FUNCTIONS.reset, reset);
  routes[ROUTE] = telegramRoute(telegram);
  api = await startHttpApi(routes);

  // The desk's group; the secret's other chat is Dana's private chat with the bot (its id is hers).
  const [desk] = reporting.chatIds as [string, string];
  dana = { chatId: desk, userId: 424242, firstName: 'Dana', username: 'dana_trades' };
  eli = { chatId: desk, userId: 515151, firstName: 'Eli' };
  // The stage is connected the way npm run telegram -- --setup connects it.
  const secret = parseTelegramCommandSecret(reporting.telegramSecretId, {
    botToken: reporting.botToken,
    chatIds: reporting.chatIds,
    webhookToken: reporting.webhookToken,
    userIds: reporting.userIds,
  });
  await setUpWebhook({
    stage: STAGE,
    apiUrl: reporting.telegram.url,
    webhookUrl: `${api.url}/telegram`,
    secret,
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([api.close(), lambda.close(), events.close(), scheduler.close(), reporting.close()]);
  await stack.close();
});

beforeEach(async () => {
  await lambda.settled();
  await Promise.all(kills);
  // Nothing halted: what an earlier test's kill switch halted is reset, its bot's key read-write again.
  const cleared = (await reset({ by: 'the test setup' }, lambdaContext(60_000, FUNCTIONS.reset))) as Json;
  expect(cleared).toMatchObject({ ok: true });
  stack.emulator.setKey(BOT.apiKey, BOT_KEY);
  stack.emulator.reset();
  scheduler.reset();
  reporting.telegram.reset();
  reporting.sns.reset();
  lambda.reset();
  events.calls.length = 0;
  kills.length = 0;
  lines.length = 0;
});

const token = () => reporting.botToken;
const telegram = () => reporting.telegram;
const key = (name: string) => stack.accounts.find((a) => a.name === name)?.apiKey as string;
const logged = () => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Json);
const puts = () => events.calls.filter((c) => c.target === 'AWSEvents.PutEvents');
/** The entry of the `n`th PutEvents call. */
const putEntry = (n: number) => ((puts()[n]?.body.Entries ?? []) as Json[])[0] as Json;
/** The functions started other than the telegram function's own jobs. */
const started = () => lambda.invocations.filter((i) => i.functionName !== FUNCTIONS.telegram);
/** The accounts the state table holds a halt for. */
const halted = async () =>
  (await reporting.items('halt'))
    .map((i) => i.value as Json)
    .filter((v) => v.kind === 'halt')
    .map((v) => v.account)
    .sort();

/** Waits for everything an update set going: the jobs, the functions they started, the kill switches. */
async function settled(): Promise<void> {
  await lambda.settled();
  await Promise.all(kills);
}

/** A person sends `text`; answers the webhook's answer and the messages the bot sent for it. */
async function command(from: Person, text: string, options = {}) {
  const before = telegram().sent().length;
  const answer = await telegram().command(token(), from, text, options);
  await settled();
  return { answer, sent: telegram().sent().slice(before) };
}

/** A person presses a button; answers the webhook's answer, and the button answers given since. */
async function press(from: Person, message: SentMessage, label: string, options = {}) {
  const before = telegram().answers().length;
  const answer = await telegram().press(token(), from, message, label, options);
  await settled();
  return { answer, answers: telegram().answers().slice(before) };
}

/** The confirmation `text` asks for, from Dana. */
async function confirmation(text: string): Promise<SentMessage> {
  const { answer, sent } = await command(dana, text);
  expect(answer.status).toBe(200);
  expect(sent).toHaveLength(1);
  const prompt = sent[0] as SentMessage;
  expect(prompt.buttons.flat().length).toBe(2);
  return structuredClone(prompt);
}

/** A message of the bot's as the chat shows it now, edits included. */
function latest(message: SentMessage): SentMessage {
  return telegram()
    .sent(message.chatId)
    .find((m) => m.messageId === message.messageId) as SentMessage;
}

function expectNothingFired(): void {
  expect(puts()).toEqual([]);
  expect(kills).toEqual([]);
  expect(stack.emulator.requests.filter((r) => r.path === CANCEL_ALL_PATH)).toEqual([]);
  expect(started()).toEqual([]);
}

function expectTaken(answer: Delivered): void {
  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.body)).toEqual({ operation: 'telegram' });
}

describe('the webhook', () => {
  it('is registered with the route, the secret token and the two kinds of update', () => {
    const hook = telegram().webhook(token());
    expect(hook).toEqual({
      url: `${api.url}/telegram`,
      secretToken: reporting.webhookToken,
      allowedUpdates: ALLOWED_UPDATES,
    });
    expect(ALLOWED_UPDATES).toEqual(['message', 'callback_query']);
  });

  it.each([
    ['a wrong secret token', 'x'.repeat(43)],
    ['the token with one character changed', ''],
    ['no secret token', null],
  ])('answers 401 to %s, and does nothing: no message, no record, nothing fired', async (_, given) => {
    const token = reporting.webhookToken;
    // Flip the last character to one it cannot be: the token is random, so a fixed letter would match it 1 time in 64.
    const wrong = given === '' ? `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` : given;
    expect(wrong).not.toBe(token);
    const { answer } = await command(dana, '/kill now', { secretToken: wrong });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toEqual({ error: 'Unauthorized' });
    expect(telegram().calls).toEqual([]);
    expect(lambda.invocations).toEqual([]);
    expect(await reporting.items(`telegram-update#${answer.update.update_id}`)).toEqual([]);
    expectNothingFired();
    expect(logged().find((l) => l.message === 'telegram update refused')).toMatchObject({
      why: wrong === null ? 'no secret token' : 'wrong secret token',
    });
  });
});

describe('who may command', () => {
  it.each([
    [
      'a user not in userIds',
      () => ({ ...dana, userId: 777001, firstName: 'Mallory' }),
      'the user is not in userIds',
    ],
    ['a chat not in chatIds', () => ({ ...dana, chatId: '-1009999999999' }), 'the chat is not in chatIds'],
  ])(
    'ignores %s: answers Telegram as any other update, sends nothing, logs it, fires nothing',
    async (_, who, why) => {
      const stranger = who();
      for (const text of ['/kill', '/status', '/help']) {
        const { answer, sent } = await command(stranger, text);
        expectTaken(answer);
        expect(sent).toEqual([]);
      }
      // Not even a button answer, an edit or a job: the bot says nothing at all.
      expect(telegram().calls).toEqual([]);
      expect(lambda.invocations).toEqual([]);
      expectNothingFired();
      const ignored = logged().filter((l) => l.message === 'telegram update ignored');
      expect(ignored).toHaveLength(3);
      expect(ignored[0]).toMatchObject({ why, userId: String(stranger.userId), chatId: stranger.chatId });
    },
  );

  it('ignores a button pressed by someone not in userIds, and leaves the confirmation to its asker', async () => {
    const prompt = await confirmation('/kill');
    const { answer, answers } = await press({ ...dana, userId: 777001 }, prompt, 'Kill now');
    expectTaken(answer);
    expect(answers).toEqual([]);
    expectNothingFired();
  });
});

describe('once', () => {
  it('acts on a redelivered update_id once: a replayed /kill asks once, a replayed Kill now fires once', async () => {
    const first = await telegram().command(token(), dana, '/kill');
    await settled();
    const again = await telegram().deliver(token(), first.update);
    await settled();
    expectTaken(again);
    expect(telegram().sent()).toHaveLength(1);
    expect(logged().filter((l) => l.why === 'already handled (redelivered)')).toHaveLength(1);
    expectNothingFired();

    const prompt = telegram().sent()[0] as SentMessage;
    const fired = await telegram().press(token(), dana, prompt, 'Kill now');
    await settled();
    expect(puts()).toHaveLength(1);
    const replayed = await telegram().deliver(token(), fired.update);
    await settled();
    expectTaken(replayed);
    expect(puts()).toHaveLength(1);
    expect(kills).toHaveLength(1);
  });
});

describe('a confirmation', () => {
  it('is refused when pressed after 60 s: nothing fired, the confirmation says it expired', async () => {
    const clock = await telegramClock();
    try {
      const prompt = await confirmation('/kill');
      clock.skewMs = 60_001;
      const { answer, answers } = await press(dana, prompt, 'Kill now');
      expectTaken(answer);
      expect(answers).toMatchObject([
        { text: 'This confirmation has expired. Nothing was done.', alert: true },
      ]);
    } finally {
      clock.restore();
    }
    const edited = telegram().sent()[0] as SentMessage;
    expect(edited.shown).toMatch(/^Kill switch on dev: expired\nNot confirmed within 60 s/);
    expect(edited.buttons).toEqual([]);
    expectNothingFired();
  });

  it('is taken at 59 s (the same flow, one second earlier, fires)', async () => {
    const clock = await telegramClock();
    try {
      const prompt = await confirmation('/kill');
      clock.skewMs = 59_000;
      await press(dana, prompt, 'Kill now');
    } finally {
      clock.restore();
    }
    expect(puts()).toHaveLength(1);
  });

  it('is refused when another user of userIds presses it: only the asker confirms', async () => {
    const prompt = await confirmation('/kill');
    const { answer, answers } = await press(eli, prompt, 'Kill now');
    expectTaken(answer);
    expect(answers).toMatchObject([
      { text: 'Only Dana (@dana_trades, id 424242) can confirm this. Nothing was done.', alert: true },
    ]);
    // The confirmation still stands for its asker: not used, not edited.
    expect((telegram().sent()[0] as SentMessage).edits).toEqual([]);
    expectNothingFired();
  });

  it('is used once: Cancel, then Kill now from a client that still shows the buttons, fires nothing', async () => {
    const prompt = await confirmation('/kill');
    const cancelled = await press(dana, prompt, 'Cancel');
    expect(cancelled.answers).toMatchObject([{ text: 'Cancelled. Nothing was done.' }]);
    const shown = telegram().sent()[0] as SentMessage;
    expect(shown.shown).toMatch(/^Kill switch on dev: cancelled\nby Dana \(@dana_trades, id 424242\) at /);
    expect(shown.buttons).toEqual([]);
    const { answer, answers } = await press(dana, prompt, 'Kill now');
    expectTaken(answer);
    expect(answers).toMatchObject([
      { text: 'This confirmation was already used. Nothing more was done.', alert: true },
    ]);
    expectNothingFired();
  });

  it('is used once: a second Kill now fires nothing more', async () => {
    const prompt = await confirmation('/kill');
    await press(dana, prompt, 'Kill now');
    expect(puts()).toHaveLength(1);
    const second = await press(dana, prompt, 'Kill now');
    expect(second.answers).toMatchObject([
      { text: 'This confirmation was already used. Nothing more was done.' },
    ]);
    expect(puts()).toHaveLength(1);
    expect(kills).toHaveLength(1);
  });

  it.each([
    ['data that is no confirmation', () => 'kill-everything', undefined],
    [
      'a nonce the bot never gave',
      (data: string) => data.replace(/:[\w-]{22}$/, ':AAAAAAAAAAAAAAAAAAAAAA'),
      undefined,
    ],
    [
      'the real nonce with another stage',
      (data: string) => data.replace(/^go:[^:]+:/, 'go:prod:'),
      undefined,
    ],
    ['an unknown verb', (data: string) => data.replace(/^go:/, 'ok:'), undefined],
    // The asker's own private chat is a chat of the secret too; the confirmation was asked in the group.
    ['the real data, said to be pressed in another chat', (data: string) => data, '424242'],
  ])('refuses a forged button (%s): nothing fired', async (_, forge, chatId) => {
    const prompt = await confirmation('/kill');
    const real = prompt.buttons.flat().find((b) => b.text === 'Kill now')?.data as string;
    const { answer, answers } = await press(dana, prompt, 'Kill now', { data: forge(real), chatId });
    expectTaken(answer);
    expect(answers).toHaveLength(1);
    expect(answers[0]?.alert).toBe(true);
    expect(answers[0]?.text).toMatch(/Nothing was done\.$/);
    expectNothingFired();
  });
});

describe('a command for another stage', () => {
  it.each(['/kill@prod', '/kill @prod', '/kill@prod_desk_bot', '/status@prod'])(
    'leaves %s alone: no answer, nothing fired',
    async (text) => {
      const { answer, sent } = await command(dana, text);
      expectTaken(answer);
      expect(sent).toEqual([]);
      expect(telegram().calls.filter((c) => c.method !== 'getMe')).toEqual([]);
      expectNothingFired();
      expect(logged().find((l) => l.why === 'for another stage')).toBeDefined();
    },
  );

  it.each([`/kill@${STAGE}`, `/kill @${STAGE}`, '/kill@bybit_cancel_local_bot'])(
    'takes %s, which names this stage or this bot',
    async (text) => {
      const prompt = await confirmation(text);
      expect(prompt.shown).toMatch(new RegExp(`^Fire the kill switch on ${STAGE}\\?`));
    },
  );
});

describe('/kill and Kill now', () => {
  it('fires exactly one kill switch, origin telegram, the user named; the webhook answers before the kill switch reports, and the report reaches the chat', async () => {
    stack.emulator.addOrders(key('main'), mixedBook(30));
    stack.emulator.addOrders(key('hedge'), mixedBook(20));
    // Every exchange call takes 100 ms: the kill switch runs for a good while after the press.
    stack.emulator.setLatency(100);
    const prompt = await confirmation('/kill runaway grid bot');
    expect(prompt.shown).toContain('Fire the kill switch on dev?');
    expect(prompt.shown).toContain('Accounts: every account in the exchange secret');
    expect(prompt.shown).toContain('the kill-switch event (origin telegram) goes to the cancelAll function');
    expect(prompt.shown).toContain('Reason: runaway grid bot');
    expect(prompt.shown).toContain('Asked by: Dana (@dana_trades, id 424242)');
    expect(prompt.shown).toMatch(/Only they can confirm, within 60 s \(until \d\d:\d\d:\d\d UTC\)\./);
    for (const button of prompt.buttons.flat())
      expect(Buffer.byteLength(button.data)).toBeLessThanOrEqual(64);

    const pressed = await telegram().press(token(), dana, prompt, 'Kill now');
    const answeredAt = Date.now();
    expectTaken(pressed);
    const report = await telegram().waitFor(
      () =>
        telegram()
          .sent(dana.chatId)
          .find((m) => m.shown.startsWith('Kill switch: all clear')),
      30_000,
    );
    // The answer came first, while the kill switch ran; the report only once it had cleared everything.
    expect(report.at).toBeGreaterThanOrEqual(answeredAt);
    console.log(
      `webhook answered Kill now in ${pressed.ms.toFixed(1)} ms; the report came ${report.at - answeredAt} ms later`,
    );
    await settled();

    expect(puts()).toHaveLength(1);
    const entry = putEntry(0);
    expect(entry).toMatchObject({
      Source: 'bybit.killswitch',
      DetailType: 'Kill Switch',
      EventBusName: 'default',
    });
    expect(JSON.parse(String(entry.Detail))).toEqual({
      origin: 'telegram',
      reason: 'Telegram /kill by Dana (@dana_trades, id 424242): runaway grid bot',
    });
    expect(kills).toHaveLength(1);
    const result = (await kills[0]) as KillSwitchReport;
    expect(result).toMatchObject({ ok: true, remaining: 0, cancelled: 50, origin: 'telegram' });
    expect(stack.emulator.openOrders()).toEqual([]);

    expect(report.shown).toContain('Fired by: Telegram (/kill, confirmed with Kill now)');
    expect(report.shown).toContain(
      'Reason: Telegram /kill by Dana (@dana_trades, id 424242): runaway grid bot',
    );
    // The kill switch halted what it covered, and the report says so, with how to end it.
    expect(result.halt).toMatchObject({ set: true });
    expect(await halted()).toEqual(['hedge', 'main']);
    expect(stack.emulator.keySettings(BOT.apiKey)).toMatchObject({ readOnly: true });
    expect(report.shown).toContain('Halted (trading stays stopped until a person resets it):');
    expect(report.shown).toContain(`- hedge: 1 key made read-only (${maskKey(BOT.apiKey)})`);
    expect(reporting.sns.published()).toHaveLength(1);
    expect(telegram().answers()).toMatchObject([
      { text: 'Kill switch fired. Its report follows.', alert: false },
    ]);
    const edited = telegram().sent()[0] as SentMessage;
    expect(edited.shown).toMatch(
      /^Kill switch FIRED on dev\nby Dana \(@dana_trades, id 424242\) at \d\d:\d\d:\d\d UTC\./,
    );
    expect(edited.shown).toContain(`Event id: ${events.eventId}`);
    expect(edited.buttons).toEqual([]);
  });

  it('narrows to the accounts it names that the stack has seen (the last drill); an unknown word starts the reason', async () => {
    await command(dana, '/drill');
    const prompt = await confirmation('/kill hedge grid bot ran away');
    expect(prompt.shown).toContain('Accounts: hedge\n');
    expect(prompt.shown).toContain('Reason: grid bot ran away');
    stack.emulator.addOrders(key('main'), mixedBook(5));
    stack.emulator.addOrders(key('hedge'), mixedBook(5));
    await press(dana, prompt, 'Kill now');
    const detail = JSON.parse(String(putEntry(0).Detail));
    expect(detail).toMatchObject({ origin: 'telegram', accounts: ['hedge'] });
    expect(stack.emulator.openOrders(key('hedge'))).toEqual([]);
    expect(stack.emulator.openOrders(key('main'))).toHaveLength(5);
  });

  it('says so when EventBridge refuses the event: nothing runs, and the confirmation says what to do', async () => {
    const prompt = await confirmation('/kill');
    events.failEntry = { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' };
    try {
      const { answers } = await press(dana, prompt, 'Kill now');
      expect(answers).toMatchObject([{ text: 'The kill switch was NOT fired.', alert: true }]);
    } finally {
      events.failEntry = undefined;
    }
    expect(kills).toEqual([]);
    const edited = telegram().sent()[0] as SentMessage;
    expect(edited.shown).toMatch(
      /^Kill switch NOT fired on dev\n.*EventBridge refused it: InternalFailure try again/,
    );
    expect(edited.shown).toContain('npm run kill-switch -- --stage dev');
  });
});

describe('/reset with a confirmation', () => {
  it('restores a halted account: the reset function makes its bot’s key read-write again and clears its halt', async () => {
    // A kill switch from Telegram halts every account; hedge's bot key is made read-only.
    await press(dana, await confirmation('/kill'), 'Kill now');
    expect(await halted()).toEqual(['hedge', 'main']);
    expect(stack.emulator.keySettings(BOT.apiKey)).toMatchObject({ readOnly: true });
    lambda.reset();

    const prompt = await confirmation('/reset hedge');
    expect(prompt.shown).toMatch(/^Reset the halt on dev\?\nAccounts: hedge\n/);
    expect(prompt.buttons.flat().map((b) => b.text)).toEqual(['Reset now', 'Cancel']);
    // Asking changes nothing: the halt stands until the press.
    expect(started()).toEqual([]);
    expect(await halted()).toEqual(['hedge', 'main']);
    await press(dana, prompt, 'Reset now');

    expect(started().map((i) => [i.functionName, i.invocationType, i.payload])).toEqual([
      [
        FUNCTIONS.reset,
        'RequestResponse',
        { accounts: ['hedge'], by: 'Telegram: Dana (@dana_trades, id 424242)' },
      ],
    ]);
    expect(await halted()).toEqual(['main']);
    expect(stack.emulator.keySettings(BOT.apiKey)).toMatchObject({ readOnly: false, ips: ['127.0.0.1'] });
    const edited = latest(prompt);
    expect(edited.shown).toBe(
      [
        'Reset on dev: done',
        'by Dana (@dana_trades, id 424242). reset 1 account(s): 1 key(s) made read-write again',
        `- hedge: 1 key(s) restored, halt cleared`,
      ].join('\n'),
    );
    expect(edited.edits).toHaveLength(2);
    expect(edited.edits[1]).toMatch(/^Reset of the halt on dev: confirmed\nby Dana .* running…$/);
    // The reset's own report reaches the chat too, as every reset's does.
    expect(
      telegram()
        .sent(dana.chatId)
        .map((m) => m.shown),
    ).toContainEqual(expect.stringContaining('Reset by: Telegram: Dana (@dana_trades, id 424242)'));
    expect(puts()).toHaveLength(1);
  });

  it('says when there is nothing to reset, and changes nothing', async () => {
    const prompt = await confirmation('/reset');
    await press(dana, prompt, 'Reset now');
    expect((telegram().sent()[0] as SentMessage).shown).toBe(
      'Reset on dev: done\nby Dana (@dana_trades, id 424242). nothing to reset: no account is halted',
    );
    expect(await halted()).toEqual([]);
    expectNoKill();
  });

  it('refuses a word that is no account name, and starts nothing', async () => {
    const { sent } = await command(dana, '/reset hedge; drop table');
    expect(sent.map((m) => m.shown)).toEqual(['Nothing was done: "hedge;" is not an account name.']);
    expect(started()).toEqual([]);
  });
});

describe('/drill, /disarm, /status, /help', () => {
  it('/drill runs the drill on the drill function and sends its result', async () => {
    const { sent } = await command(dana, '/drill');
    // The drill function, which asks the reset function to check the master key (only that one may read it).
    expect(started().map((i) => [i.functionName, i.payload])).toEqual([
      [FUNCTIONS.drill, { drill: true }],
      [FUNCTIONS.reset, expect.objectContaining({ check: 'master' })],
    ]);
    expect(MASTER_KEY_CHECK_FUNCTION).toBe(FUNCTIONS.reset);
    expect(sent.map((m) => m.shown.split('\n')[0])).toEqual([
      'Running the kill-switch drill on dev (every account; read-only, nothing is cancelled)…',
      'Drill passed on dev: 2 account(s), no problem',
    ]);
    expect(sent[1]?.shown).toContain('- main: ok');
    expect(sent[1]?.shown).toContain('- hedge: ok');
    expectNoKill();
  });

  it("/disarm disarms the dead man's switch on the heartbeat function, after its confirmation", async () => {
    const heartbeat = lambda.invocations.length;
    const armed = await (await import('../../handlers/heartbeat.ts')).handler(
      signedHttpEvent('http-v2-heartbeat.json', { ttlSeconds: 300 }, stack.webhookSecret),
      lambdaContext(),
    );
    expect(JSON.parse((armed as { body: string }).body)).toMatchObject({ armed: true });
    const schedule = 'bybit-cancel-dev-dead-mans-switch';
    expect(scheduler.get(schedule)).toBeDefined();
    expect(lambda.invocations).toHaveLength(heartbeat);
    const prompt = await confirmation('/disarm');
    expect(prompt.shown).toMatch(
      /^Disarm the dead man’s switch on dev\?\nWhat happens: its schedule is deleted/,
    );
    expect(scheduler.get(schedule)).toBeDefined();
    await press(dana, prompt, 'Disarm now');
    expect(started().map((i) => [i.functionName, i.payload])).toEqual([
      [FUNCTIONS.heartbeat, { disarm: true }],
    ]);
    expect(scheduler.get(schedule)).toBeUndefined();
    expect((telegram().sent()[0] as SentMessage).shown).toMatch(
      /^Dead man’s switch on dev: disarmed\nby Dana \(@dana_trades, id 424242\)\. The dead man’s switch is off: no kill switch fires on silence/,
    );
  });

  it('/disarm while trading is halted: the heartbeat function refuses (423), and the chat is told to reset first', async () => {
    const armed = (await (
      await import('../../handlers/heartbeat.ts')
    ).handler(
      signedHttpEvent('http-v2-heartbeat.json', { ttlSeconds: 300 }, stack.webhookSecret),
      lambdaContext(),
    )) as { statusCode: number };
    expect(armed.statusCode).toBe(200);
    const schedule = scheduler.get('bybit-cancel-dev-dead-mans-switch');
    expect(schedule).toBeDefined();
    await press(dana, await confirmation('/kill bot went wild'), 'Kill now');
    expect(await halted()).toEqual(['hedge', 'main']);
    lambda.reset();

    const prompt = await confirmation('/disarm');
    const calls = scheduler.calls.length;
    await press(dana, prompt, 'Disarm now');
    const [invocation] = started();
    expect(started()).toHaveLength(1);
    expect(invocation?.functionName).toBe(FUNCTIONS.heartbeat);
    expect((await invocation?.done)?.result).toMatchObject({ statusCode: 423, halted: true });
    // Nothing was changed: no Scheduler call, the schedule as it was.
    expect(scheduler.calls.length).toBe(calls);
    expect(scheduler.get('bybit-cancel-dev-dead-mans-switch')).toEqual(schedule);
    const shown = latest(prompt).shown;
    expect(shown).toMatch(
      /^Dead man’s switch on dev: NOT disarmed\nRefused: trading is halted on hedge, main since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(telegram: Telegram \/kill by Dana \(@dana_trades, id 424242\): bot went wild\)\. Nothing was changed/,
    );
    expect(shown).toContain('reset first (/reset), then /disarm again.');
  });

  it("/status says the halt, the dead man's switch, the last kill switch and the last drill", async () => {
    const { sent } = await command(dana, '/status');
    expect(sent).toHaveLength(1);
    const text = sent[0]?.shown ?? '';
    expect(text).toMatch(
      /^dev: (all is well|needs attention)\nHalt: none\nDead man’s switch: not armed\nLast kill switch: /,
    );
    expect(text).toMatch(/\nLast drill: /);
    expectNothingFired();
  });

  it('/status shows each halted account, since when, by what and why, and how to end it', async () => {
    await press(dana, await confirmation('/kill runaway grid'), 'Kill now');
    lambda.reset();
    const { sent } = await command(dana, '/status');
    const text = sent[0]?.shown ?? '';
    const since = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC';
    const reason = 'Telegram /kill by Dana \\(@dana_trades, id 424242\\): runaway grid';
    expect(text).toMatch(
      new RegExp(
        [
          '^dev: needs attention',
          'Halt: HALTED: hedge, main',
          `- hedge: since ${since}, by telegram, 1 key\\(s\\) made read-only; ${reason}`,
          `- main: since ${since}, by telegram, cooperative; ${reason}`,
          'Once you know why: /reset \\(you confirm within 60 s\\)\\.',
          'Dead man’s switch: ',
        ].join('\\n'),
      ),
    );
    expect(text).toContain('Needs attention:\n- trading is halted on hedge since');
    // Read, not changed: the halt stands.
    expect(await halted()).toEqual(['hedge', 'main']);
    expect(started()).toEqual([]);
  });

  it('/help lists every command; an unknown one says so', async () => {
    const { sent } = await command(dana, '/help');
    for (const name of ['/status', '/kill', '/reset', '/drill', '/disarm', '/help'])
      expect(sent[0]?.shown).toContain(`${name} `);
    const unknown = await command(dana, '/sell');
    expect(unknown.sent.map((m) => m.shown)).toEqual(['Unknown command /sell. /help lists the commands.']);
    expectNothingFired();
  });
});

describe('secrets', () => {
  it('no message, edit or button answer holds a key, a token, a secret or a signature', async () => {
    stack.emulator.addOrders(key('main'), mixedBook(5));
    await command(dana, '/status');
    await command(dana, '/drill');
    const prompt = await confirmation('/kill checking the words');
    await press(dana, prompt, 'Kill now');
    await telegram().waitFor(
      () =>
        telegram()
          .sent()
          .find((m) => m.shown.startsWith('Kill switch: all clear')),
      30_000,
    );
    const texts = [
      ...telegram()
        .sent()
        .flatMap((m) => [m.text, ...m.edits]),
      ...telegram()
        .answers()
        .map((a) => a.text),
    ];
    expect(texts.length).toBeGreaterThan(5);
    for (const text of texts) {
      expect(findSecrets(text)).toEqual([]);
      expect(text).not.toContain(reporting.webhookToken);
      expect(text).not.toContain(reporting.botToken);
    }
  });
});

/**
 * The telegram function with a clock of its own, `skewMs` ahead of the real one, on the route and the invoke
 * endpoint, until `restore` (the time a person takes to press, without waiting for it).
 */
async function telegramClock() {
  const { createApp, route } = await import('../../lib/lambda/app.ts');
  const { invocationLog } = await import('../../lib/lambda/middleware.ts');
  const { telegramRoutes } = await import('../../lib/lambda/telegram-webhook.ts');
  const middy = (await import('@middy/core')).default;
  const clock = {
    skewMs: 0,
    now: () => Date.now() + clock.skewMs,
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    restore: () => {
      routes[ROUTE] = telegramRoute(telegramHandler);
      lambda.define(FUNCTIONS.telegram, telegramHandler);
    },
  };
  const app = createApp({ clock });
  const skewed = middy(route(telegramRoutes, () => app)).use(invocationLog(() => app)) as unknown as Handler;
  routes[ROUTE] = telegramRoute(skewed);
  lambda.define(FUNCTIONS.telegram, skewed);
  return clock;
}

function expectNoKill(): void {
  expect(puts()).toEqual([]);
  expect(kills).toEqual([]);
}
