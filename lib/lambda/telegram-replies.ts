// What the Telegram bot says: help, the status, each confirmation and what became of it, and the results of
// the drill, the reset and the disarm. Telegram's HTML parse mode: everything that comes from outside (a
// reason, a name, an error message) is escaped. Nothing here holds a key, a secret or a signature: the
// reports and records it reads carry none.

import type { AccountDrill, DrillReport } from '../cancel/drill.ts';
import type { AccountResetReport, ResetReport } from '../cancel/halt.ts';
import { when } from './messages.ts';
import { escapeHtml } from './notify.ts';
import type { StackStatus } from './status.ts';

/** What a confirmation asks for. */
export type Action = 'kill' | 'reset' | 'disarm';

/** What the messages of a confirmation show of it. */
export interface Asked {
  action: Action;
  stage: string;
  /** The asker, as userLabel names them. */
  by: string;
  accounts?: string[];
  reason?: string;
  /** Epoch ms after which a press is refused. */
  expiresAt: number;
}

const TITLES: Record<Action, string> = {
  kill: 'Fire the kill switch',
  reset: 'Reset the halt',
  disarm: 'Disarm the dead man’s switch',
};
const NAMES: Record<Action, string> = {
  kill: 'Kill switch',
  reset: 'Reset of the halt',
  disarm: 'Disarm of the dead man’s switch',
};
/** The confirming button of each action (the other is Cancel). */
export const CONFIRM_BUTTONS: Record<Action, string> = {
  kill: 'Kill now',
  reset: 'Reset now',
  disarm: 'Disarm now',
};
export const CANCEL_BUTTON = 'Cancel';

const b = (text: string) => `<b>${escapeHtml(text)}</b>`;
const e = escapeHtml;

export function helpText(stage: string): string {
  return [
    b(`bybit-cancel, stage ${stage}`),
    '/status – halt, dead man’s switch, last kill switch, last drill',
    '/kill [account …] [reason] – fire the kill switch (you confirm within 60 s)',
    '/reset [account …] – end the halt (you confirm within 60 s)',
    '/drill [account …] – run the read-only drill and get its result',
    '/disarm – disarm the dead man’s switch (you confirm within 60 s)',
    '/help – this list',
    '',
    e(`In a chat that several stages share, name the stage: /kill@${stage}.`),
  ].join('\n');
}

export function unknownCommandText(name: string): string {
  return e(`Unknown command /${name}. /help lists the commands.`);
}

/** A request the bot will not act on as given (a malformed account name, say). */
export function refusedText(why: string): string {
  return e(`Nothing was done: ${why}`);
}

/** The state table could not keep the update or the confirmation: nothing may be acted on. */
export function stateDownText(stage: string): string {
  return e(
    `Nothing was done: the state table could not be read or written, and without it an update or a confirmation cannot be kept to once. Try again in a minute. In an emergency: npm run kill-switch -- --stage ${stage}, or cancel in Bybit's app.`,
  );
}

/** The confirmation: what will happen, what fires it, who asked, and until when it can be confirmed. */
export function confirmationText(asked: Asked, knownAccounts: string[] = []): string {
  const accounts = asked.accounts?.length
    ? asked.accounts.join(', ')
    : asked.action === 'kill'
      ? `every account in the exchange secret${knownAccounts.length ? ` (seen at the last run: ${knownAccounts.join(', ')})` : ''}`
      : 'every halted account';
  const what: Record<Action, string> = {
    kill: 'the kill-switch event (origin telegram) goes to the cancelAll function: it cancels every open order and strategy of these accounts, checks that nothing is left, and halts them until a /reset. Its report follows here.',
    reset:
      'the reset function restores the API keys the halt made read-only, with their IPs, and clears the halt: bots may trade again.',
    disarm:
      'its schedule is deleted: no kill switch fires when your bot goes quiet, until the bot’s next heartbeat arms it again.',
  };
  return [
    b(`${TITLES[asked.action]} on ${asked.stage}?`),
    ...(asked.action === 'disarm' ? [] : [`Accounts: ${e(accounts)}`]),
    `What happens: ${e(what[asked.action])}`,
    ...(asked.action === 'kill' ? [`Reason: ${e(asked.reason || '(none given)')}`] : []),
    `Asked by: ${e(asked.by)}`,
    e(`Only they can confirm, within 60 s (until ${clock(asked.expiresAt)}).`),
  ].join('\n');
}

/** The confirmation once the kill switch was fired. */
export function firedText(asked: Asked, eventId: string, at: number): string {
  return [
    b(`Kill switch FIRED on ${asked.stage}`),
    e(`by ${asked.by} at ${clock(at)}.`),
    `Accounts: ${e(asked.accounts?.length ? asked.accounts.join(', ') : 'every account')}`,
    `Event id: ${e(eventId)}`,
    e('Its report follows here once it has run.'),
  ].join('\n');
}

/** The confirmation when the kill-switch event could not be put: nothing runs. */
export function notFiredText(asked: Asked, why: string): string {
  return [
    b(`Kill switch NOT fired on ${asked.stage}`),
    e(`${why}.`),
    e(
      `Nothing was fired. Send /kill again, or fire it with npm run kill-switch -- --stage ${asked.stage}, or cancel in Bybit's app.`,
    ),
  ].join('\n');
}

export function cancelledText(asked: Asked, by: string, at: number): string {
  return `${b(`${NAMES[asked.action]} on ${asked.stage}: cancelled`)}\n${e(`by ${by} at ${clock(at)}. Nothing was done.`)}`;
}

export function expiredText(asked: Asked): string {
  return `${b(`${NAMES[asked.action]} on ${asked.stage}: expired`)}\n${e(
    `Not confirmed within 60 s (by ${clock(asked.expiresAt)}). Nothing was done; send /${asked.action} again.`,
  )}`;
}

/** The confirmation while its reset or disarm runs. */
export function runningText(asked: Asked, at: number): string {
  return `${b(`${NAMES[asked.action]} on ${asked.stage}: confirmed`)}\n${e(`by ${asked.by} at ${clock(at)}; running…`)}`;
}

/** What the reset function answered. */
export function resetText(
  asked: Asked,
  outcome: { report?: Partial<ResetReport>; error?: { type: string; message: string } },
): string {
  const head = `by ${asked.by}`;
  if (outcome.error) {
    return [
      b(`Reset on ${asked.stage}: INCOMPLETE or failed`),
      e(`${head}. ${outcome.error.type}: ${outcome.error.message}`),
      e('Accounts still halted stay halted; /status shows them. Run /reset again once the cause is fixed.'),
    ].join('\n');
  }
  const report = outcome.report ?? {};
  return [
    b(`Reset on ${asked.stage}: ${report.ok === false ? 'INCOMPLETE' : 'done'}`),
    e(`${head}. ${report.message ?? ''}`.trim()),
    ...(report.accounts ?? []).map((a) => e(resetLine(a))),
  ].join('\n');
}

function resetLine(a: AccountResetReport): string {
  const parts = [
    `${a.restored.length} key(s) restored`,
    a.cleared ? 'halt cleared' : 'STILL HALTED',
    ...a.leftAlone.map((l) => `left alone: ${l.key ? `${l.key} ` : ''}(${l.error})`),
    ...a.failed.map((f) => `failed: ${f.key ? `${f.key} ` : ''}(${f.error})`),
  ];
  return `- ${a.account}: ${parts.join(', ')}`;
}

/** What the heartbeat function answered a disarm: done, refused while trading is halted, or failed. */
export type DisarmOutcome =
  | { kind: 'disarmed' }
  | { kind: 'halted'; accounts: string[]; since?: string; origin?: string; reason?: string }
  | { kind: 'failed'; why: string };

/** What the disarm did. */
export function disarmText(asked: Asked, outcome: DisarmOutcome): string {
  if (outcome.kind === 'disarmed') {
    return [
      b(`Dead man’s switch on ${asked.stage}: disarmed`),
      e(
        `by ${asked.by}. The dead man’s switch is off: no kill switch fires on silence until your bot’s next heartbeat arms it again.`,
      ),
    ].join('\n');
  }
  if (outcome.kind === 'halted') {
    const since = outcome.since ? ` since ${when(outcome.since)}` : '';
    const cause = outcome.origin ? ` (${outcome.origin}${outcome.reason ? `: ${outcome.reason}` : ''})` : '';
    return [
      b(`Dead man’s switch on ${asked.stage}: NOT disarmed`),
      e(
        `Refused: trading is halted on ${outcome.accounts.join(', ') || 'an account'}${since}${cause}. Nothing was changed: the dead man’s switch stays as it was.`,
      ),
      e('Find out why, reset first (/reset), then /disarm again.'),
    ].join('\n');
  }
  return [
    b(`Dead man’s switch on ${asked.stage}: NOT disarmed`),
    e(`Failed: ${outcome.why}.`),
    e('It is still armed if it was: /status shows when it fires. Try /disarm again.'),
  ].join('\n');
}

export function drillStartedText(stage: string, accounts?: string[]): string {
  return e(
    `Running the kill-switch drill on ${stage} (${accounts?.length ? accounts.join(', ') : 'every account'}; read-only, nothing is cancelled)…`,
  );
}

/** The drill's result: from its report (passed, or failed with the report recorded), or its error. */
export function drillText(
  stage: string,
  outcome: { report?: Partial<DrillReport>; error?: { type: string; message: string } },
): string {
  const accounts = outcome.report?.accounts ?? [];
  if (outcome.report && Array.isArray(outcome.report.accounts)) {
    const failing = accounts.filter((a) => !a.ok);
    const masterProblems = outcome.report.master?.problems ?? [];
    const problems = failing.reduce((n, a) => n + a.problems.length, 0) + masterProblems.length;
    const warnings = accounts.reduce((n, a) => n + a.warnings.length, 0);
    const head =
      problems === 0
        ? b(`Drill passed on ${stage}: ${accounts.length} account(s), no problem`)
        : b(`Drill FAILED on ${stage}: ${problems} problem(s), the kill switch would fail`);
    return [
      head,
      ...accounts.flatMap((a) => drillLines(a)),
      ...masterProblems.map((p) => e(`- master key: problem: ${p.message}`)),
      ...(problems === 0 && warnings === 0 ? [] : [e('The runbook says what to do about each.')]),
    ].join('\n');
  }
  return [
    b(`Drill FAILED on ${stage}`),
    e(`${outcome.error?.type ?? 'Error'}: ${outcome.error?.message ?? 'no report'}`),
  ].join('\n');
}

function drillLines(a: AccountDrill): string[] {
  return [
    e(`- ${a.account}: ${a.ok ? 'ok' : `${a.problems.length} PROBLEM(S)`}`),
    ...a.problems.map((p) => e(`    problem: ${p.message}`)),
    ...a.warnings.map((w) => e(`    warning: ${w.message}`)),
  ];
}

/** The status: one line per part, then what needs a person. */
export function statusText(status: StackStatus, now: number): string {
  const { halt, deadMansSwitch: dms, lastKillSwitch: ks, lastDrill: drill } = status;
  const lines = [b(`${status.stage}: ${status.ok ? 'all is well' : 'needs attention'}`)];
  const line = (label: string, text: string) => lines.push(`${label}: ${e(text)}`);
  if ('error' in halt) line('Halt', `? ${halt.error}`);
  else if (!halt.halted) line('Halt', 'none');
  else {
    line('Halt', `HALTED: ${halt.accounts.map((a) => a.account).join(', ')}`);
    for (const a of halt.accounts) {
      const keys = a.mode === 'enforced' ? `${a.keysReadOnly} key(s) made read-only` : 'cooperative';
      lines.push(
        e(
          `- ${a.account}: since ${when(a.since)}, by ${a.origin}, ${keys}${a.reason ? `; ${a.reason}` : ''}`,
        ),
      );
    }
    lines.push(e('Once you know why: /reset (you confirm within 60 s).'));
  }
  if ('error' in dms) line('Dead man’s switch', `? ${dms.error}`);
  else if (dms.armed && dms.firesAt)
    line(
      'Dead man’s switch',
      `armed, fires at ${when(dms.firesAt)} (${untilText(Date.parse(dms.firesAt) - now)})`,
    );
  else line('Dead man’s switch', 'not armed');
  if (ks === null) line('Last kill switch', 'none recorded');
  else if ('error' in ks && typeof ks.error === 'string') line('Last kill switch', `? ${ks.error}`);
  else if ('at' in ks) {
    const outcome = ks.ok
      ? `all clear, ${ks.accounts} account(s), ${ks.cancelled} cancelled`
      : ks.remaining > 0
        ? `FAILED, ${ks.remaining} order(s) still open`
        : `FAILED${ks.error ? `: ${ks.error.type}` : ''}`;
    line('Last kill switch', `${when(ks.at)}, fired by ${ks.firedBy}: ${outcome}`);
  }
  if (drill === null) line('Last drill', 'none recorded');
  else if ('error' in drill && typeof drill.error === 'string') line('Last drill', `? ${drill.error}`);
  else if ('at' in drill) {
    const outcome = drill.ok
      ? `ok, ${drill.accounts} account(s)`
      : drill.problems.length
        ? `FAILED, ${drill.problems.length} problem(s)`
        : 'FAILED';
    const warnings = drill.warnings.length ? `, ${drill.warnings.length} warning(s)` : '';
    line('Last drill', `${when(drill.at)}: ${outcome}${warnings}`);
  }
  if (status.attention.length) {
    lines.push(b('Needs attention:'), ...status.attention.map((a) => e(`- ${a}`)));
  }
  return lines.join('\n');
}

/** `09:31:00 UTC` */
function clock(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(11, 19)} UTC`;
}

function untilText(ms: number): string {
  if (ms < 0) return 'due now: it fires within the minute';
  const seconds = Math.round(ms / 1000);
  return seconds < 120 ? `in ${seconds} s` : `in ${Math.floor(seconds / 60)} min`;
}
