// Reading what Telegram posts to the webhook: an update (a message, or the press of an inline button), who sent
// it from which chat, the command a message holds and which stage it is for, and the data a confirmation's
// buttons carry. Pure: nothing here reads the state table or calls Telegram.
//
// A command for another stage. Several stages can share a chat (each with its own bot: a bot has one webhook).
// A command may name its stage, `/kill@prod` or `/kill @prod …`; Telegram itself adds the bot's username in
// groups (`/kill@prod_alerts_bot`). A command that names this stage or this bot is for this stage; one that
// names no one is for every bot that hears it; one that names anything else is another stage's, and is left
// alone without a word (in a shared chat, that stage's bot answers it). A button is for the stage its data
// names: a press that names another is refused.

import { createHash, randomBytes } from 'node:crypto';
import type { TelegramCommandSecret } from './secrets.ts';

export interface TelegramUser {
  /** Telegram's user id, as text. */
  id: string;
  /** First and last name, as the person set them. */
  name: string;
  username?: string;
}

interface Sender {
  updateId: number;
  chatId: string;
  /** A public chat's or channel's username, for `@name` entries of `chatIds`. */
  chatUsername?: string;
  user: TelegramUser;
}

export type Update =
  | (Sender & { kind: 'message'; messageId: number; text: string })
  | (Sender & { kind: 'button'; queryId: string; messageId: number; data: string })
  /** Anything else (an edited message, a message without text or sender): nothing to act on. */
  | { kind: 'other'; updateId: number };

/** The update, or undefined when it is not one (no integer `update_id`). */
export function readUpdate(body: unknown): Update | undefined {
  if (!isObject(body) || !Number.isSafeInteger(body.update_id)) return undefined;
  const updateId = body.update_id as number;
  const other = { kind: 'other' as const, updateId };
  if (isObject(body.message)) {
    const { message } = body;
    const sender = senderOf(updateId, message.chat, message.from);
    if (!sender || typeof message.text !== 'string' || !Number.isSafeInteger(message.message_id))
      return other;
    return { ...sender, kind: 'message', messageId: message.message_id as number, text: message.text };
  }
  if (isObject(body.callback_query)) {
    const query = body.callback_query;
    const message = isObject(query.message) ? query.message : {};
    const sender = senderOf(updateId, message.chat, query.from);
    if (
      !sender ||
      typeof query.id !== 'string' ||
      typeof query.data !== 'string' ||
      !Number.isSafeInteger(message.message_id)
    )
      return other;
    return {
      ...sender,
      kind: 'button',
      queryId: query.id,
      messageId: message.message_id as number,
      data: query.data,
    };
  }
  return other;
}

function senderOf(updateId: number, chat: unknown, from: unknown): Sender | undefined {
  if (!isObject(chat) || !isObject(from) || from.is_bot === true) return undefined;
  const chatId = idText(chat.id);
  const userId = idText(from.id);
  if (!chatId || !userId) return undefined;
  const name = [from.first_name, from.last_name].filter((n) => typeof n === 'string' && n).join(' ');
  return {
    updateId,
    chatId,
    ...(typeof chat.username === 'string' ? { chatUsername: chat.username } : {}),
    user: {
      id: userId,
      name: name.slice(0, 64) || `user ${userId}`,
      ...(typeof from.username === 'string' ? { username: from.username.slice(0, 64) } : {}),
    },
  };
}

/** Why a sender may not command: its chat, or its user, is not in the secret; undefined when both are. */
export function refusedSender(
  update: Sender,
  secret: Pick<TelegramCommandSecret, 'chatIds' | 'userIds'>,
): 'chat' | 'user' | undefined {
  const chat =
    secret.chatIds.includes(update.chatId) ||
    (update.chatUsername !== undefined && secret.chatIds.includes(`@${update.chatUsername}`));
  if (!chat) return 'chat';
  return secret.userIds.includes(update.user.id) ? undefined : 'user';
}

/** A person as the messages name them: `Alice Smith (@alice, id 123)`. */
export function userLabel(user: TelegramUser): string {
  return `${user.name} (${user.username ? `@${user.username}, ` : ''}id ${user.id})`;
}

export interface Command {
  /** Lowercase, without the slash: `kill`. */
  name: string;
  /** The stage or bot it names (`/kill@prod`, `/kill @prod`), without the @. */
  target?: string;
  /** The words after it. */
  args: string[];
}

const COMMAND = /^\/([A-Za-z][A-Za-z0-9_]{0,31})(?:@([A-Za-z0-9_-]{1,64}))?$/;
const TARGET = /^@([A-Za-z0-9_-]{1,64})$/;

/** The command a message starts with, or undefined when it starts with none. */
export function parseCommand(text: string): Command | undefined {
  const [head = '', ...rest] = text.trim().split(/\s+/);
  const match = COMMAND.exec(head);
  if (!match) return undefined;
  let target = match[2];
  const args = rest.filter(Boolean);
  if (target === undefined && args[0] !== undefined && TARGET.test(args[0])) {
    target = (TARGET.exec(args.shift() as string) as RegExpExecArray)[1];
  }
  return { name: (match[1] as string).toLowerCase(), ...(target ? { target } : {}), args };
}

/**
 * Whether a command is for this stage: it names this stage or this bot (`botName` is asked only when it names
 * something else: Telegram makes every bot's username end in "bot"), or it names no one.
 */
export async function isForThisStage(
  command: Command,
  stage: string,
  botName: () => Promise<string | undefined>,
): Promise<boolean> {
  const target = command.target?.toLowerCase();
  if (target === undefined || target === stage.toLowerCase()) return true;
  if (!target.endsWith('bot')) return false;
  return target === (await botName())?.toLowerCase();
}

// ---- Confirmation buttons ----

export type ButtonVerb = 'go' | 'no';

export interface ButtonData {
  verb: ButtonVerb;
  /** The stage's tag (stageTag): the stage's name, or a hash of one too long to fit. */
  stage: string;
  nonce: string;
}

/** Telegram refuses callback_data over 64 bytes. */
export const CALLBACK_DATA_MAX = 64;
const NONCE = /^[A-Za-z0-9_-]{22}$/;
const DATA = /^(go|no):([A-Za-z0-9-]{1,38}|#[0-9a-f]{12}):([A-Za-z0-9_-]{22})$/;

/** A fresh confirmation nonce: 128 random bits, base64url (22 characters). */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** The stage as a button names it: its name when it fits, else `#` and 12 hex digits of its SHA-256. */
export function stageTag(stage: string): string {
  return /^[A-Za-z0-9-]{1,38}$/.test(stage)
    ? stage
    : `#${createHash('sha256').update(stage).digest('hex').slice(0, 12)}`;
}

/** `verb:stage:nonce`, at most 64 bytes. */
export function buttonData(verb: ButtonVerb, stage: string, nonce: string): string {
  if (!NONCE.test(nonce)) throw new Error('a confirmation nonce is 22 base64url characters');
  return `${verb}:${stageTag(stage)}:${nonce}`;
}

/** The data of a confirmation's button, or undefined when the data is not one (forged, or another bot's). */
export function readButtonData(data: string): ButtonData | undefined {
  const match = DATA.exec(data);
  if (!match) return undefined;
  return { verb: match[1] as ButtonVerb, stage: match[2] as string, nonce: match[3] as string };
}

function idText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return value;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
