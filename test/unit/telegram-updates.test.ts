// Reading Telegram updates (lib/lambda/telegram-updates.ts) and the Telegram secret the commands need
// (lib/lambda/secrets.ts): who sent what from where, which stage a command is for, and what a button carries.

import { describe, expect, it } from 'vitest';
import { SecretError } from '../../lib/errors.ts';
import { parseTelegramCommandSecret } from '../../lib/lambda/secrets.ts';
import {
  buttonData,
  CALLBACK_DATA_MAX,
  isForThisStage,
  newNonce,
  parseCommand,
  readButtonData,
  readUpdate,
  refusedSender,
  stageTag,
  userLabel,
} from '../../lib/lambda/telegram-updates.ts';

const dana = { id: 424242, is_bot: false, first_name: 'Dana', last_name: 'Reyes', username: 'dana_trades' };
const desk = { id: -1001234567890, type: 'supergroup', title: 'desk' };

describe('readUpdate', () => {
  it('reads a command message: who, from which chat, the text', () => {
    expect(
      readUpdate({
        update_id: 7,
        message: { message_id: 3, chat: desk, from: dana, date: 1, text: '/kill hedge' },
      }),
    ).toEqual({
      kind: 'message',
      updateId: 7,
      messageId: 3,
      chatId: '-1001234567890',
      user: { id: '424242', name: 'Dana Reyes', username: 'dana_trades' },
      text: '/kill hedge',
    });
  });

  it('reads the press of a button: the query id, the message pressed, its data', () => {
    expect(
      readUpdate({
        update_id: 8,
        callback_query: {
          id: '4382bfdwdsb323b2d9',
          from: dana,
          chat_instance: '-42',
          message: { message_id: 9, chat: { id: 424242, type: 'private', username: 'dana_trades' } },
          data: 'go:dev:AAAAAAAAAAAAAAAAAAAAAA',
        },
      }),
    ).toMatchObject({
      kind: 'button',
      updateId: 8,
      queryId: '4382bfdwdsb323b2d9',
      messageId: 9,
      chatId: '424242',
      chatUsername: 'dana_trades',
      data: 'go:dev:AAAAAAAAAAAAAAAAAAAAAA',
    });
  });

  it('makes nothing of what is not an update, and nothing to act on of the rest', () => {
    for (const body of [null, [], 'x', {}, { update_id: '7' }, { update_id: 1.5 }])
      expect(readUpdate(body)).toBe(undefined);
    for (const rest of [
      { edited_message: { message_id: 1, chat: desk, from: dana, text: '/kill' } },
      { message: { message_id: 1, chat: desk, from: dana, photo: [] } },
      { message: { message_id: 1, chat: desk, text: '/kill' } },
      { message: { message_id: 1, chat: desk, from: { ...dana, is_bot: true }, text: '/kill' } },
      { message: { message_id: 1, chat: { id: 'desk' }, from: dana, text: '/kill' } },
      { callback_query: { id: 'q', from: dana, data: 'go:dev:x' } },
      { callback_query: { id: 'q', from: dana, message: { message_id: 1, chat: desk } } },
    ]) {
      expect(readUpdate({ update_id: 5, ...rest })).toEqual({ kind: 'other', updateId: 5 });
    }
  });

  it('names a sender by the text of their names, at most 64 characters, else by id', () => {
    const sender = (from: Record<string, unknown>) =>
      (
        readUpdate({ update_id: 5, message: { message_id: 1, chat: desk, from, text: '/status' } }) as {
          user: unknown;
        }
      ).user;
    expect(sender({ id: 424242, first_name: 42, last_name: 'Reyes' })).toEqual({
      id: '424242',
      name: 'Reyes',
    });
    expect(sender({ id: 424242, first_name: { text: 'Dana' } })).toEqual({
      id: '424242',
      name: 'user 424242',
    });
    expect(sender({ id: 424242, first_name: 'D'.repeat(100), username: 'u'.repeat(100) })).toEqual({
      id: '424242',
      name: 'D'.repeat(64),
      username: 'u'.repeat(64),
    });
  });

  it('reads ids given as digits, and nothing else, as ids', () => {
    const chatOf = (id: unknown) =>
      readUpdate({ update_id: 5, message: { message_id: 1, chat: { id }, from: dana, text: '/status' } });
    expect(chatOf('-1001234567890')).toMatchObject({ kind: 'message', chatId: '-1001234567890' });
    expect(chatOf('424242')).toMatchObject({ kind: 'message', chatId: '424242' });
    // 2 ** 60 is past what a JSON number holds exactly: it could be read as someone else's id.
    for (const id of ['x424242', '424242x', '4242 42', 2 ** 60])
      expect(chatOf(id)).toEqual({ kind: 'other', updateId: 5 });
  });

  it('names a person by name, username and id', () => {
    expect(userLabel({ id: '1', name: 'Dana Reyes', username: 'dana' })).toBe('Dana Reyes (@dana, id 1)');
    expect(userLabel({ id: '1', name: 'Dana' })).toBe('Dana (id 1)');
  });
});

describe('refusedSender', () => {
  const secret = { chatIds: ['-1001234567890', '@desk_alerts'], userIds: ['424242'] };
  const update = (chatId: string, userId: string, chatUsername?: string) => ({
    updateId: 1,
    chatId,
    ...(chatUsername ? { chatUsername } : {}),
    user: { id: userId, name: 'x' },
  });

  it('takes a listed user in a listed chat (by id, or by the @name the secret gives)', () => {
    expect(refusedSender(update('-1001234567890', '424242'), secret)).toBe(undefined);
    expect(refusedSender(update('-1009', '424242', 'desk_alerts'), secret)).toBe(undefined);
  });

  it('never takes a chat without a username for a listed @name', () => {
    // "@undefined" is a valid channel name in the secret; a chat with no username must not match it.
    const odd = { chatIds: ['@undefined'], userIds: ['424242'] };
    expect(refusedSender(update('-1009', '424242'), odd)).toBe('chat');
    expect(refusedSender(update('-1009', '424242', 'undefined'), odd)).toBe(undefined);
  });

  it('refuses another chat, and another user in a listed chat', () => {
    expect(refusedSender(update('-1009', '424242'), secret)).toBe('chat');
    expect(refusedSender(update('424242', '424242'), secret)).toBe('chat');
    expect(refusedSender(update('-1001234567890', '4242'), secret)).toBe('user');
  });
});

describe('parseCommand and isForThisStage', () => {
  const bot = async () => 'desk_prod_bot';
  const forDev = (text: string) => isForThisStage(parseCommand(text) as never, 'dev', bot);

  it('reads the command, the stage or bot it names, and its words', () => {
    expect(parseCommand('/kill hedge  grid bot')).toEqual({ name: 'kill', args: ['hedge', 'grid', 'bot'] });
    expect(parseCommand('/KILL@prod hedge')).toEqual({ name: 'kill', target: 'prod', args: ['hedge'] });
    expect(parseCommand(' /kill @prod hedge')).toEqual({ name: 'kill', target: 'prod', args: ['hedge'] });
    expect(parseCommand('/status')).toEqual({ name: 'status', args: [] });
    // One target only: the one in the command's name wins, and a second is a word.
    expect(parseCommand('/kill@prod @dev now')).toEqual({
      name: 'kill',
      target: 'prod',
      args: ['@dev', 'now'],
    });
    for (const text of ['kill', 'hello /kill', '/', '/@prod', '/kill!', ''])
      expect(parseCommand(text)).toBe(undefined);
  });

  it('is for this stage when it names this stage, this bot, or no one', async () => {
    expect(await forDev('/kill')).toBe(true);
    expect(await forDev('/kill@dev')).toBe(true);
    expect(await forDev('/kill@DEV')).toBe(true);
    expect(await forDev('/kill @dev reason')).toBe(true);
    expect(await forDev('/kill@desk_prod_bot')).toBe(true);
  });

  it('is for another stage when it names another stage or another bot; asks the bot only for a bot name', async () => {
    let asked = 0;
    const counted = async () => {
      asked++;
      return 'desk_dev_bot';
    };
    const check = (text: string) => isForThisStage(parseCommand(text) as never, 'dev', counted);
    expect(await check('/kill@prod')).toBe(false);
    expect(await check('/kill @staging now')).toBe(false);
    expect(asked).toBe(0);
    expect(await check('/kill@desk_prod_bot')).toBe(false);
    expect(await check('/kill@Desk_Dev_Bot')).toBe(true);
    expect(asked).toBe(2);
  });
});

describe('button data', () => {
  it('carries the verb, the stage and the nonce in at most 64 bytes, for any stage name', () => {
    const nonce = newNonce();
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(newNonce()).not.toBe(nonce);
    for (const stage of [
      'dev',
      'prod-eu-1',
      'x'.repeat(38),
      'a-very-long-stage-name-that-does-not-fit-in-64-bytes',
      'ünï',
    ]) {
      for (const verb of ['go', 'no'] as const) {
        const data = buttonData(verb, stage, nonce);
        expect(Buffer.byteLength(data)).toBeLessThanOrEqual(CALLBACK_DATA_MAX);
        expect(readButtonData(data)).toEqual({ verb, stage: stageTag(stage), nonce });
      }
    }
    expect(stageTag('dev')).toBe('dev');
    expect(stageTag('x'.repeat(39))).toMatch(/^#[0-9a-f]{12}$/);
    expect(stageTag('x'.repeat(39))).not.toBe(stageTag('x'.repeat(40)));
  });

  it('reads nothing from data that is not a confirmation button', () => {
    const nonce = 'AAAAAAAAAAAAAAAAAAAAAA';
    for (const data of [
      '',
      'go',
      `kill:dev:${nonce}`,
      `go:dev:${nonce}x`,
      `go:dev:${nonce.slice(1)}`,
      `go:de v:${nonce}`,
      `go::${nonce}`,
    ]) {
      expect(readButtonData(data)).toBe(undefined);
    }
    expect(() => buttonData('go', 'dev', 'short')).toThrow('a confirmation nonce is 22 base64url characters');
  });
});

describe('parseTelegramCommandSecret', () => {
  const valid = {
    botToken: '123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw',
    chatIds: ['-1001234567890', 424242],
    webhookToken: 'k'.repeat(32),
    userIds: [424242, '515151', 424242],
  };

  it('reads the notification fields and the two the commands need; ids as text, once each', () => {
    expect(parseTelegramCommandSecret('tg', valid)).toEqual({
      botToken: valid.botToken,
      chatIds: ['-1001234567890', '424242'],
      webhookToken: valid.webhookToken,
      userIds: ['424242', '515151'],
    });
  });

  it.each([
    ['no webhookToken', { webhookToken: undefined }, '"webhookToken" must be 32 to 256 random characters'],
    ['a webhookToken of 31 characters', { webhookToken: 'k'.repeat(31) }, '"webhookToken"'],
    ['a webhookToken Telegram refuses', { webhookToken: `${'k'.repeat(32)}/+` }, '"webhookToken"'],
    ['no userIds', { userIds: undefined }, '"userIds" must be a non-empty list'],
    ['an empty userIds', { userIds: [] }, '"userIds"'],
    ['a user name instead of an id', { userIds: ['@dana'] }, '"userIds"'],
    ['a negative id (a group, not a user)', { userIds: [-1001234567890] }, '"userIds"'],
  ])('refuses %s, naming the field and never its value', (_, change, message) => {
    const value = { ...valid, ...change };
    let error: unknown;
    try {
      parseTelegramCommandSecret('bybit-cancel/prod/telegram', value);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).toContain('secret bybit-cancel/prod/telegram: ');
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain(valid.botToken);
    if (typeof value.webhookToken === 'string')
      expect((error as Error).message).not.toContain(value.webhookToken);
  });
});
