// The Telegram secret formats (lib/lambda/secrets.ts): what notifications read ({botToken, chatIds}) and what
// commands read on top ({webhookToken, userIds}). A malformed list is refused whole, naming the field: one
// wrong entry must never be let through beside good ones (a user id decides who may stop trading).

import { describe, expect, it } from 'vitest';
import { SecretError } from '../../lib/errors.ts';
import { parseTelegramCommandSecret, parseTelegramSecret } from '../../lib/lambda/secrets.ts';

const botToken = '123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
const CHAT_IDS =
  'secret tg: "chatIds" must be a non-empty list of chat ids (e.g. "-1001234567890") or channel names ("@name")';
const USER_IDS =
  'secret tg: "userIds" must be a non-empty list of Telegram user ids (digits) who may command (Telegram commands are off without it)';

/** The error parsing `value` throws, checked to be a SecretError that never quotes the bot token. */
function refusal(parse: (id: string, value: unknown) => unknown, value: unknown): string {
  try {
    parse('tg', value);
  } catch (error) {
    expect(error).toBeInstanceOf(SecretError);
    expect((error as Error).message).not.toContain(botToken);
    return (error as Error).message;
  }
  throw new Error('the secret was accepted');
}

describe('parseTelegramSecret', () => {
  it('reads the bot token and the chats, ids as text, once each', () => {
    expect(
      parseTelegramSecret('tg', { botToken, chatIds: [-1001234567890, '@desk_alerts', '-1001234567890'] }),
    ).toEqual({
      botToken,
      chatIds: ['-1001234567890', '@desk_alerts'],
    });
  });

  it.each([
    ['a JSON array', [botToken]],
    ['null', null],
    ['a string', botToken],
  ])('refuses %s as a whole: it must be a JSON object', (_, value) => {
    expect(refusal(parseTelegramSecret, value)).toBe('secret tg: must be a JSON object');
  });

  it.each([
    ['no chatIds', undefined],
    ['chatIds that are one id, not a list', '-1001234567890'],
    ['an empty list', []],
    ['a user name without its @', ['desk_alerts']],
    ['one bad id beside a good one', ['-1001234567890', 'desk_alerts']],
    ['a good id beside a bad one', ['desk_alerts', '-1001234567890']],
    ['an id nested in a list', [['-1001234567890']]],
    ['a channel name nested in a list', [['@desk_alerts']]],
    ['an object', [{ id: -1001234567890 }]],
    ['null', [null]],
  ])('refuses %s, naming the field', (_, chatIds) => {
    expect(refusal(parseTelegramSecret, { botToken, chatIds })).toBe(CHAT_IDS);
  });
});

describe('parseTelegramCommandSecret: who may command', () => {
  const valid = { botToken, chatIds: ['-1001234567890'], webhookToken: 'k'.repeat(32) };

  it('takes user ids as numbers or digits', () => {
    expect(parseTelegramCommandSecret('tg', { ...valid, userIds: [424242, '515151'] }).userIds).toEqual([
      '424242',
      '515151',
    ]);
  });

  it.each([
    ['one bad id beside a good one', [424242, '@dana']],
    ['a good id beside a bad one', ['@dana', 424242]],
    ['an id nested in a list', [[424242]]],
    ['digits nested in a list', [['424242']]],
    ['userIds that are one id, not a list', 424242],
  ])('refuses %s, naming the field', (_, userIds) => {
    expect(refusal(parseTelegramCommandSecret, { ...valid, userIds })).toBe(USER_IDS);
  });
});
