// What a Telegram update does. The webhook's answer waits for `handleUpdate`, which does only what must happen
// once and fast, and hands the rest to a job that the telegram function runs on itself asynchronously:
//   1. the sender: a chat of `chatIds` and a user of `userIds`, or the update is ignored (logged, answered with
//      nothing at all);
//   2. once: the update_id is written (put if absent, kept 2 days); a redelivered or replayed one is ignored;
//   3. a command for this stage (telegram-updates.ts): /help, /status and /drill become jobs; /kill, /reset and
//      /disarm become a confirmation, kept in the state table under a fresh nonce (for the asker, in that chat,
//      for 60 s), and a job that sends it with its two buttons;
//   4. a button: its data names this stage and a nonce whose confirmation this user asked in this chat less
//      than 60 s ago, and no press has used it yet (the press writes `used`, put if absent: exactly once). Then
//      Kill now puts the kill-switch event here and now; the answer to the button, the edit of the
//      confirmation, the reset and the disarm are jobs.
// `runJob` sends the messages, and runs what takes long on the functions that do it: the status reads, the
// drill on the drill function, the reset on the reset function, the disarm on the heartbeat function.

import type { DrillReport } from '../cancel/drill.ts';
import type { ResetReport } from '../cancel/halt.ts';
import { describeError, type Logger } from '../log.ts';
import type { Answered } from './functions.ts';
import type { RunRecord } from './records.ts';
import { recordKeys } from './records.ts';
import type { TelegramCommandSecret } from './secrets.ts';
import type { StateStore } from './state.ts';
import type { StackStatus } from './status.ts';
import type { InlineKeyboard, TelegramBot } from './telegram-bot.ts';
import {
  type Asked,
  CANCEL_BUTTON,
  CONFIRM_BUTTONS,
  cancelledText,
  confirmationText,
  type DisarmOutcome,
  disarmText,
  drillStartedText,
  drillText,
  expiredText,
  firedText,
  helpText,
  notFiredText,
  refusedText,
  resetText,
  runningText,
  stateDownText,
  statusText,
  unknownCommandText,
} from './telegram-replies.ts';
import {
  buttonData,
  type Command,
  isForThisStage,
  newNonce,
  parseCommand,
  readButtonData,
  refusedSender,
  stageTag,
  type Update,
  userLabel,
} from './telegram-updates.ts';

/** A confirmation can be pressed this long after it was asked. */
export const CONFIRMATION_MS = 60_000;
/** Telegram keeps an undelivered update for 24 hours: its id is kept twice that. */
const UPDATE_TTL_SECONDS = 2 * 86_400;
/** A confirmation's record outlives its 60 s, so that a late press is told it expired rather than forged. */
const CONFIRMATION_TTL_SECONDS = 86_400;
/** The kill switch's reason holds at most this much (parseKillSwitchDetail). */
const REASON_MAX = 500;
const ACCOUNT = /^[\w.-]{1,64}$/;
/** The `origin` of a kill switch fired from Telegram (its report, its message, its metrics). */
export const TELEGRAM_ORIGIN = 'telegram';

/** A confirmation as the state table keeps it. */
export interface Confirmation extends Asked {
  chatId: string;
  userId: string;
}

/** What the telegram function runs on itself after answering the webhook. */
export type Job =
  | { kind: 'send'; chatId: string; text: string; keyboard?: InlineKeyboard }
  | { kind: 'status'; chatId: string }
  | { kind: 'drill'; chatId: string; accounts?: string[] }
  | {
      kind: 'answer';
      queryId: string;
      text: string;
      alert?: boolean;
      edit?: { chatId: string; messageId: number; text: string };
    }
  | { kind: 'reset' | 'disarm'; queryId: string; chatId: string; messageId: number; asked: Asked };

export interface UpdateContext {
  stage: string;
  secret: TelegramCommandSecret;
  state: StateStore;
  /** Puts the kill-switch event with this detail; answers its event id. */
  fire: (detail: Record<string, unknown>) => Promise<string>;
  /** The bot's username, asked only when a command names someone other than this stage. */
  botName: () => Promise<string | undefined>;
  logger: Logger;
  now: () => number;
}

/** Acts on an update as far as its answer may wait; returns the job that does the rest, if any. */
export async function handleUpdate(ctx: UpdateContext, update: Update): Promise<Job | undefined> {
  const { logger } = ctx;
  if (update.kind === 'other') {
    logger.info('telegram update ignored', { updateId: update.updateId, why: 'not a command or a button' });
    return undefined;
  }
  const refused = refusedSender(update, ctx.secret);
  if (refused) {
    // Nothing is sent back: not even that the bot is here.
    logger.warn('telegram update ignored', {
      updateId: update.updateId,
      why: refused === 'chat' ? 'the chat is not in chatIds' : 'the user is not in userIds',
      chatId: update.chatId,
      userId: update.user.id,
    });
    return undefined;
  }
  let first: boolean;
  try {
    first = await ctx.state.putIfAbsent(
      recordKeys.telegramUpdate(update.updateId),
      {
        kind: update.kind,
        chatId: update.chatId,
        userId: update.user.id,
        at: new Date(ctx.now()).toISOString(),
      },
      { ttlSeconds: UPDATE_TTL_SECONDS },
    );
  } catch (error) {
    logger.error('telegram update not acted on: the state table failed', describeError(error));
    return reply(update, stateDownText(ctx.stage));
  }
  if (!first) {
    logger.warn('telegram update ignored', {
      updateId: update.updateId,
      why: 'already handled (redelivered)',
    });
    return undefined;
  }
  return update.kind === 'message' ? onMessage(ctx, update) : onButton(ctx, update);
}

type MessageUpdate = Extract<Update, { kind: 'message' }>;
type ButtonUpdate = Extract<Update, { kind: 'button' }>;

async function onMessage(ctx: UpdateContext, update: MessageUpdate): Promise<Job | undefined> {
  const command = parseCommand(update.text);
  if (!command) return undefined;
  let forUs: boolean;
  try {
    forUs = await isForThisStage(command, ctx.stage, ctx.botName);
  } catch (error) {
    ctx.logger.warn('telegram command ignored: its bot could not be told', describeError(error));
    return undefined;
  }
  if (!forUs) {
    ctx.logger.info('telegram command ignored', {
      updateId: update.updateId,
      why: 'for another stage',
      target: command.target,
    });
    return undefined;
  }
  ctx.logger.info('telegram command', {
    updateId: update.updateId,
    command: command.name,
    chatId: update.chatId,
    userId: update.user.id,
  });
  const send = (text: string) => reply(update, text);
  switch (command.name) {
    case 'help':
    case 'start':
      return send(helpText(ctx.stage));
    case 'status':
      return { kind: 'status', chatId: update.chatId };
    case 'drill': {
      const accounts = accountsOf(command);
      if (accounts instanceof Error) return send(refusedText(accounts.message));
      return { kind: 'drill', chatId: update.chatId, ...(accounts.length ? { accounts } : {}) };
    }
    case 'kill':
      return ask(ctx, update, killRequest(command, await knownAccounts(ctx)));
    case 'reset': {
      const accounts = accountsOf(command);
      if (accounts instanceof Error) return send(refusedText(accounts.message));
      return ask(ctx, update, { action: 'reset', ...(accounts.length ? { accounts } : {}) });
    }
    case 'disarm':
      if (command.args.length) return send(refusedText('/disarm takes nothing after it.'));
      return ask(ctx, update, { action: 'disarm' });
    default:
      return send(unknownCommandText(command.name));
  }
}

/** The account names after a command, or why one is not a name. */
function accountsOf(command: Command): string[] | Error {
  const bad = command.args.find((a) => !ACCOUNT.test(a));
  if (bad !== undefined) return new Error(`"${bad.slice(0, 64)}" is not an account name.`);
  return [...new Set(command.args)];
}

/**
 * `/kill [account …] [reason]`: the leading words that name an account the stack has seen (its last drill
 * or kill switch) are accounts; the first that does not starts the reason. An account never seen therefore
 * counts as reason, and the kill switch covers every account: the wider side, and the confirmation shows it.
 */
function killRequest(
  command: Command,
  known: string[],
): Pick<Asked, 'action' | 'accounts' | 'reason'> & {
  known: string[];
} {
  const accounts: string[] = [];
  let i = 0;
  while (i < command.args.length && known.includes(command.args[i] as string)) {
    accounts.push(command.args[i] as string);
    i++;
  }
  const reason = command.args.slice(i).join(' ');
  return {
    action: 'kill',
    ...(accounts.length ? { accounts: [...new Set(accounts)] } : {}),
    ...(reason ? { reason } : {}),
    known,
  };
}

/** The account names of the last drill and the last kill switch; none when they cannot be read. */
async function knownAccounts(ctx: UpdateContext): Promise<string[]> {
  try {
    const records = await Promise.all(
      (['drill', 'killSwitch'] as const).map((op) => ctx.state.get<RunRecord>(recordKeys.last(op))),
    );
    const names = records.flatMap((item) => {
      const accounts = (item?.value.report as { accounts?: unknown } | undefined)?.accounts;
      return Array.isArray(accounts)
        ? accounts.map((a) => (typeof a === 'string' ? a : (a as { account?: unknown })?.account))
        : [];
    });
    return [...new Set(names.filter((n): n is string => typeof n === 'string' && ACCOUNT.test(n)))];
  } catch (error) {
    ctx.logger.warn('telegram: the accounts of the last runs could not be read', describeError(error));
    return [];
  }
}

/** Keeps a confirmation under a fresh nonce and sends it with its two buttons. */
async function ask(
  ctx: UpdateContext,
  update: MessageUpdate,
  request: Pick<Asked, 'action' | 'accounts' | 'reason'> & { known?: string[] },
): Promise<Job> {
  const { known = [], ...what } = request;
  const confirmation: Confirmation = {
    ...what,
    stage: ctx.stage,
    by: userLabel(update.user),
    chatId: update.chatId,
    userId: update.user.id,
    expiresAt: ctx.now() + CONFIRMATION_MS,
  };
  const nonce = newNonce();
  try {
    await ctx.state.put(recordKeys.confirmation(nonce), confirmation, {
      ttlSeconds: CONFIRMATION_TTL_SECONDS,
    });
  } catch (error) {
    ctx.logger.error('telegram confirmation not kept: the state table failed', describeError(error));
    return reply(update, stateDownText(ctx.stage));
  }
  return {
    kind: 'send',
    chatId: update.chatId,
    text: confirmationText(confirmation, known),
    keyboard: {
      inline_keyboard: [
        [
          { text: CONFIRM_BUTTONS[confirmation.action], callback_data: buttonData('go', ctx.stage, nonce) },
          { text: CANCEL_BUTTON, callback_data: buttonData('no', ctx.stage, nonce) },
        ],
      ],
    },
  };
}

async function onButton(ctx: UpdateContext, update: ButtonUpdate): Promise<Job> {
  const { logger } = ctx;
  const answer = (text: string, alert = false, edit?: string): Job => ({
    kind: 'answer',
    queryId: update.queryId,
    text,
    ...(alert ? { alert } : {}),
    ...(edit !== undefined
      ? { edit: { chatId: update.chatId, messageId: update.messageId, text: edit } }
      : {}),
  });
  const refuse = (why: string, text: string) => {
    logger.warn('telegram button refused', { updateId: update.updateId, why, userId: update.user.id });
    return answer(text, true);
  };
  const data = readButtonData(update.data);
  if (!data) return refuse('not a confirmation button', 'This button is not valid. Nothing was done.');
  if (data.stage !== stageTag(ctx.stage))
    return refuse('for another stage', `This button is not for stage ${ctx.stage}. Nothing was done.`);
  let confirmation: Confirmation | undefined;
  try {
    confirmation = (await ctx.state.get<Confirmation>(recordKeys.confirmation(data.nonce)))?.value;
  } catch (error) {
    logger.error('telegram button not acted on: the state table failed', describeError(error));
    return answer('Nothing was done: the state table could not be read. Try again in a minute.', true);
  }
  if (!confirmation || confirmation.stage !== ctx.stage || confirmation.chatId !== update.chatId)
    return refuse('no such confirmation', 'This button is not valid. Nothing was done.');
  if (confirmation.userId !== update.user.id)
    return refuse('pressed by another user', `Only ${confirmation.by} can confirm this. Nothing was done.`);
  const now = ctx.now();
  if (now > confirmation.expiresAt) {
    logger.warn('telegram button refused', { updateId: update.updateId, why: 'expired' });
    return answer('This confirmation has expired. Nothing was done.', true, expiredText(confirmation));
  }
  let first: boolean;
  try {
    first = await ctx.state.putIfAbsent(
      recordKeys.confirmationUsed(data.nonce),
      { verb: data.verb, userId: update.user.id, at: new Date(now).toISOString() },
      { ttlSeconds: CONFIRMATION_TTL_SECONDS },
    );
  } catch (error) {
    logger.error('telegram button not acted on: the state table failed', describeError(error));
    return answer('Nothing was done: the state table could not be written. Try again in a minute.', true);
  }
  if (!first) return refuse('already used', 'This confirmation was already used. Nothing more was done.');
  logger.info('telegram confirmation', {
    action: confirmation.action,
    verb: data.verb,
    userId: update.user.id,
  });
  if (data.verb === 'no')
    return answer(
      'Cancelled. Nothing was done.',
      false,
      cancelledText(confirmation, userLabel(update.user), now),
    );
  if (confirmation.action !== 'kill') {
    return {
      kind: confirmation.action,
      queryId: update.queryId,
      chatId: update.chatId,
      messageId: update.messageId,
      asked: confirmation,
    };
  }
  try {
    const eventId = await ctx.fire(killDetail(confirmation));
    logger.info('telegram kill switch fired', { eventId, by: confirmation.userId });
    return answer('Kill switch fired. Its report follows.', false, firedText(confirmation, eventId, now));
  } catch (error) {
    logger.error('telegram kill switch not fired', describeError(error));
    return answer(
      'The kill switch was NOT fired.',
      true,
      notFiredText(confirmation, (error as Error).message ?? 'EventBridge failed'),
    );
  }
}

/** The kill-switch event's detail: origin telegram, the user named in the reason, the accounts if narrowed. */
export function killDetail(confirmation: Confirmation): Record<string, unknown> {
  const by = `Telegram /kill by ${confirmation.by}`;
  const reason = confirmation.reason ? `${by}: ${confirmation.reason}` : by;
  return {
    origin: TELEGRAM_ORIGIN,
    reason: reason.length > REASON_MAX ? `${reason.slice(0, REASON_MAX - 1)}…` : reason,
    ...(confirmation.accounts?.length ? { accounts: confirmation.accounts } : {}),
  };
}

function reply(update: MessageUpdate | ButtonUpdate, text: string): Job {
  if (update.kind === 'button') return { kind: 'answer', queryId: update.queryId, text, alert: true };
  return { kind: 'send', chatId: update.chatId, text };
}

// ---- The jobs ----

export interface JobContext {
  stage: string;
  bot: TelegramBot;
  /** Runs a function and waits for its answer (the drill, the reset, the heartbeat). */
  run: (fn: 'drill' | 'reset' | 'heartbeat', payload: unknown) => Promise<Answered>;
  readStatus: () => Promise<StackStatus>;
  /** The last drill's record (the whole report of a drill that failed: Lambda passes on only its message). */
  lastDrill: () => Promise<RunRecord | undefined>;
  logger: Logger;
  now: () => number;
}

/** Runs a job; answers how many Telegram calls it made and how many failed (logged, never thrown). */
export async function runJob(ctx: JobContext, job: Job): Promise<{ calls: number; failed: number }> {
  const counts = { calls: 0, failed: 0 };
  const call = async (what: string, send: () => Promise<unknown>) => {
    counts.calls++;
    try {
      await send();
    } catch (error) {
      counts.failed++;
      ctx.logger.error('telegram call failed', { what, ...describeError(error) });
    }
  };
  const { bot } = ctx;
  switch (job.kind) {
    case 'send':
      await call('send', () =>
        bot.sendMessage(job.chatId, job.text, job.keyboard ? { keyboard: job.keyboard } : {}),
      );
      break;
    case 'answer':
      await Promise.all([
        call('answer the button', () => bot.answerCallbackQuery(job.queryId, job.text, { alert: job.alert })),
        ...(job.edit
          ? [
              call('edit the confirmation', () =>
                bot.editMessageText(job.edit?.chatId ?? '', job.edit?.messageId ?? 0, job.edit?.text ?? ''),
              ),
            ]
          : []),
      ]);
      break;
    case 'status': {
      const status = await ctx.readStatus();
      await call('send the status', () => bot.sendMessage(job.chatId, statusText(status, ctx.now())));
      break;
    }
    case 'drill': {
      await call('say the drill started', () =>
        bot.sendMessage(job.chatId, drillStartedText(ctx.stage, job.accounts)),
      );
      const text = drillText(ctx.stage, await drillOutcome(ctx, job.accounts));
      await call('send the drill', () => bot.sendMessage(job.chatId, text));
      break;
    }
    case 'reset':
    case 'disarm': {
      const { chatId, messageId, asked } = job;
      await Promise.all([
        call('answer the button', () => bot.answerCallbackQuery(job.queryId, 'Confirmed: running…')),
        call('edit the confirmation', () =>
          bot.editMessageText(chatId, messageId, runningText(asked, ctx.now())),
        ),
      ]);
      const text = job.kind === 'reset' ? await reset(ctx, asked) : await disarm(ctx, asked);
      await call('edit the confirmation', () => bot.editMessageText(chatId, messageId, text));
      break;
    }
  }
  return counts;
}

async function drillOutcome(ctx: JobContext, accounts?: string[]) {
  const answered = await ctx
    .run('drill', { drill: true, ...(accounts ? { accounts } : {}) })
    .catch(invokeFailed);
  if (!answered.error) return { report: answered.result as Partial<DrillReport> };
  if (answered.error.type === 'DrillFailedError') {
    // The drill failed on a problem: its whole report is the last drill's record.
    const record = await ctx.lastDrill().catch(() => undefined);
    if (record && (!answered.requestId || record.requestId === answered.requestId) && record.report)
      return { report: record.report as Partial<DrillReport> };
  }
  return { error: answered.error };
}

async function reset(ctx: JobContext, asked: Asked): Promise<string> {
  const answered = await ctx
    .run('reset', {
      ...(asked.accounts?.length ? { accounts: asked.accounts } : {}),
      by: `Telegram: ${asked.by}`,
    })
    .catch(invokeFailed);
  ctx.logger.info('telegram reset', { ok: !answered.error, error: answered.error?.type });
  return resetText(
    asked,
    answered.error ? { error: answered.error } : { report: answered.result as Partial<ResetReport> },
  );
}

async function disarm(ctx: JobContext, asked: Asked): Promise<string> {
  const answered = await ctx.run('heartbeat', { disarm: true }).catch(invokeFailed);
  const outcome = disarmOutcome(answered);
  ctx.logger.info('telegram disarm', {
    outcome: outcome.kind,
    statusCode: (answered.result as { statusCode?: unknown } | undefined)?.statusCode,
    error: answered.error?.type,
  });
  return disarmText(asked, outcome);
}

/**
 * The heartbeat function answers a direct invocation as HTTP would, `{statusCode, …body}`, refusals included:
 * 200 with `armed: false` is done; 423 is a halt that must be reset first; anything else failed.
 */
function disarmOutcome(answered: Answered): DisarmOutcome {
  if (answered.error) return { kind: 'failed', why: `${answered.error.type}: ${answered.error.message}` };
  const answer = (answered.result ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const { statusCode } = answer;
  if (statusCode === 200 && answer.armed === false) return { kind: 'disarmed' };
  if (statusCode === 200) return { kind: 'failed', why: 'the heartbeat function did not say it is disarmed' };
  if (statusCode === 423) {
    const accounts = Array.isArray(answer.accounts)
      ? answer.accounts.filter((a) => typeof a === 'string')
      : [];
    const [since, origin, reason] = [text(answer.since), text(answer.origin), text(answer.reason)];
    return {
      kind: 'halted',
      accounts,
      ...(since ? { since } : {}),
      ...(origin ? { origin } : {}),
      ...(reason ? { reason } : {}),
    };
  }
  if (typeof statusCode !== 'number') return { kind: 'failed', why: 'the heartbeat function gave no status' };
  const error = text(answer.error) ?? 'Error';
  return { kind: 'failed', why: `${error}: ${text(answer.message) ?? 'no message'} (HTTP ${statusCode})` };
}

/** An invocation Lambda refused or did not answer, as an answer: nothing ran, or no one knows. */
function invokeFailed(error: unknown): Answered {
  const { name, message } = error as Error;
  return { error: { type: name ?? 'Error', message: String(message) } };
}
