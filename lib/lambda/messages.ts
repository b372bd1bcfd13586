// What a person reads: one message per thing worth telling, in plain text that reads well on a phone. The
// subject leads with the outcome (ASCII only, no line break, under 100 characters: an SNS subject); the body
// says who or what fired it and why, what happened per account, what to do now (the runbook's words) and
// where the logs are. Nothing here ever holds a key, a secret or a signature: the records it reads carry none.
//
// A new kind of message is one function here that fills a `Draft`, and one decision in reporting.ts.

import type {
  AccountDrill,
  DrillReport,
  MasterDrill,
  MasterProblemCode,
  ProblemCode,
} from '../cancel/drill.ts';
import type { AccountHaltReport, HaltReport, ResetReport } from '../cancel/halt.ts';
import type { KillSwitchReport, ScopeReport, UncancellableOrder } from '../cancel/kill-switch.ts';
import type { Operation } from './metrics.ts';
import type { RunRecord } from './records.ts';

export type MessageKind = 'killSwitch' | 'drillFailed' | 'drillRecovered' | 'ipBan' | 'reset' | 'resetFailed';

export interface Message {
  kind: MessageKind;
  /** False when the message reports a failure (subscribers can filter on it). */
  ok: boolean;
  subject: string;
  body: string;
}

/** What every message knows besides its record. */
export interface MessageContext {
  stage: string;
  /** The IP refusal this run met (Bybit's HTTP 403), in its own words. */
  ipRefusal?: string;
}

/** SNS refuses a subject of 100 characters or more. */
export const SUBJECT_MAX = 99;
/** Order ids listed per account; the rest are in the logged report. */
const IDS_PER_ACCOUNT = 10;

/** The kill switch's outcome, whatever fired it: all clear, or what is left and what to do. */
export function killSwitchMessage(record: RunRecord, context: MessageContext): Message {
  const report = record.report as Partial<KillSwitchReport> | undefined;
  const accounts = accountLines(report);
  const failed = !record.ok;
  const lead = failed ? failureLead(record, report, context) : clearLead(report, record);
  return compose({
    kind: 'killSwitch',
    ok: !failed,
    subject: failed ? failureSubject(record, report, context) : clearSubject(report, record),
    context,
    record,
    lead,
    sections: [
      facts(record, context, true),
      accounts.length ? ['Per account:', ...accounts] : [],
      haltLines(report?.halt, context),
      report?.coverage && report.coverage.confirmed === false
        ? ["Bybit's list of linear settle coins could not be read: only the configured ones were checked."]
        : [],
      report?.warnings?.length ? ['Also:', ...report.warnings.map((w) => `- ${w}`)] : [],
      report?.ignored?.length ? [`Ignored in the request: ${report.ignored.join('; ')}.`] : [],
      context.ipRefusal ? [context.ipRefusal] : [],
    ],
    actions: [
      ...(failed ? failureActions(report, context) : clearActions(record, report?.halt)),
      ...haltActions(report?.halt, context),
    ],
  });
}

/** A reset: what it restored, what it left alone and why, or why the accounts are still halted. */
export function resetMessage(record: RunRecord, context: MessageContext): Message {
  const report = record.report as Partial<ResetReport> | undefined;
  const accounts = report?.accounts ?? [];
  const failed = !record.ok;
  const stillHalted = accounts.filter((a) => !a.cleared).map((a) => a.account);
  const cleared = accounts.filter((a) => a.cleared).map((a) => a.account);
  const restored = accounts.reduce((n, a) => n + a.restored.length, 0);
  const subject = failed
    ? `HALT RESET FAILED: ${stillHalted.length ? `${names(stillHalted)} still halted` : (record.error?.type ?? 'error')}`
    : `Halt reset: ${names(cleared)} - ${plural(restored, 'key')} made read-write again`;
  const lead = !report
    ? `The reset FAILED before it could start: ${record.error?.type ?? 'Error'}: ${record.error?.message ?? 'no report'}. Every halt stands.`
    : failed
      ? `The reset is INCOMPLETE: ${stillHalted.length ? `${names(stillHalted)} ${stillHalted.length === 1 ? 'is' : 'are'} still halted` : record.error ? `${record.error.type}: ${record.error.message}` : 'it did not finish'}${cleared.length ? `; ${names(cleared)} may trade again` : ''}.`
      : `The halt is over on ${names(cleared)}: bots may trade again. ${plural(restored, 'key')} made read-write again, with the IPs ${restored === 1 ? 'it' : 'they'} had.`;
  const lines = accounts.flatMap((a) => [
    `- ${a.account}: ${a.cleared ? 'no longer halted' : 'STILL HALTED'}; ${plural(a.restored.length, 'key')} restored${a.restored.length ? ` (${a.restored.join(', ')})` : ''}`,
    ...a.leftAlone.map((k) => `    left alone: ${k.key ? `key ${k.key}: ` : ''}${k.error}`),
    ...a.failed.map((k) => `    FAILED: ${k.key ? `key ${k.key}: ` : ''}${k.error}`),
  ]);
  return compose({
    kind: failed ? 'resetFailed' : 'reset',
    ok: !failed,
    subject,
    context,
    record,
    lead,
    sections: [
      [
        `Reset by: ${report?.by ?? firedBy(record)}`,
        `When: ${when(record.at)} (took ${seconds(record.durationMs)})`,
        `Stage: ${context.stage}`,
      ],
      lines.length ? ['Per account:', ...lines] : [],
    ],
    actions: failed
      ? [
          `Run the reset again: npm run kill-switch -- --reset --stage ${context.stage}. What failed is named above.`,
          `If it fails again, check the master key (npm run kill-switch -- --drill --stage ${context.stage}) and the keys named above in Bybit's API management.`,
        ]
      : [
          'Watch your bots as they start again: the next kill switch halts them again.',
          ...(accounts.some((a) => a.leftAlone.length)
            ? ['Keys left alone were changed by hand during the halt: check each in Bybit’s API management.']
            : []),
        ],
  });
}

/** What the halt did, per account: the keys made read-only (masked), or why the halt is cooperative only. */
function haltLines(halt: HaltReport | undefined, context: MessageContext): string[] {
  if (!halt) return [];
  if (!halt.set)
    return [
      `No halt was set: ${halt.why ?? 'the kill switch asked for none'}. Bots may trade again at once.`,
    ];
  if (halt.accounts.length === 0) return [];
  return [
    'Halted (trading stays stopped until a person resets it):',
    ...halt.accounts.flatMap((a) => haltAccountLines(a)),
    `To reset, once you know why: npm run kill-switch -- --reset --stage ${context.stage}`,
  ];
}

function haltAccountLines(a: AccountHaltReport): string[] {
  const what =
    a.mode === 'enforced'
      ? `${plural(a.flipped.length, 'key')} made read-only${a.flipped.length ? ` (${a.flipped.join(', ')})` : ''}${a.alreadyReadOnly.length ? `, ${a.alreadyReadOnly.length} read-only already` : ''}`
      : `cooperative only${a.why ? ` (${a.why})` : ''}: bots that send heartbeats get 423`;
  return [
    `- ${a.account}: ${what}`,
    ...a.failed.map((f) => `    HALT FAILED: ${f.key ? `key ${f.key}: ` : ''}${f.error}`),
  ];
}

function haltActions(halt: HaltReport | undefined, context: MessageContext): string[] {
  const incomplete = (halt?.accounts ?? []).filter((a) => a.failed.length > 0);
  if (incomplete.length === 0) return [];
  return [
    `The halt is incomplete on ${names(incomplete.map((a) => a.account))}: a bot there may still place orders. Make the keys named above read-only by hand in Bybit’s API management, and check the master key: npm run kill-switch -- --drill --stage ${context.stage}`,
  ];
}

/** A drill that found a problem: the kill switch would fail for these accounts, and how to fix each. */
export function drillFailedMessage(record: RunRecord, context: MessageContext): Message {
  const report = record.report as Partial<DrillReport> | undefined;
  const accounts = report?.accounts ?? [];
  const failing = accounts.filter((a) => !a.ok);
  const master = report?.master;
  const masterProblems = master?.problems ?? [];
  const problems = failing.reduce((n, a) => n + a.problems.length, 0) + masterProblems.length;
  const where = [...failing.map((a) => a.account), ...(masterProblems.length ? ['the master key'] : [])];
  const subject = report
    ? `Kill-switch drill FAILED: ${plural(problems, 'problem')} on ${names(where)}`
    : `Kill-switch drill FAILED: ${record.error?.type ?? 'it could not run'}`;
  const masterLead = masterProblems.length
    ? ' The master key of the enforced halt has problems: a kill switch could not make sub-account keys read-only.'
    : '';
  // "would fail on 0 of 2 accounts" reads as a pass: when only the master key fails, say that the cancels would work.
  const accountLead =
    failing.length === 0 && masterProblems.length
      ? `the kill switch would cancel on every account (${plural(accounts.length, 'account')}), but it could not halt them.`
      : `the kill switch would fail on ${failing.length} of ${plural(accounts.length, 'account')}.`;
  return compose({
    kind: 'drillFailed',
    ok: false,
    subject,
    context,
    record,
    lead: report
      ? `The drill found problems: ${accountLead}${masterLead} Nothing was cancelled (the drill only reads).`
      : `The drill could not run: ${record.error?.message ?? 'no report'}. Nothing was cancelled.`,
    sections: [
      facts(record, context, false),
      drillLines(accounts),
      masterLines(master),
      context.ipRefusal ? [context.ipRefusal] : [],
    ],
    actions: [
      ...failing.flatMap((a) =>
        a.problems.map((p) => `${a.account}: ${PROBLEM_ACTIONS[p.code] ?? p.message}`),
      ),
      ...masterProblems.map((p) => `master key: ${MASTER_PROBLEM_ACTIONS[p.code] ?? p.message}`),
      `Check again once fixed: npm run kill-switch -- --drill --stage ${context.stage}`,
    ],
  });
}

/** The first drill to pass after one that failed. */
export function drillRecoveredMessage(record: RunRecord, context: MessageContext, failedAt: string): Message {
  const accounts = (record.report as Partial<DrillReport> | undefined)?.accounts ?? [];
  const warnings = accounts.reduce((n, a) => n + a.warnings.length, 0);
  return compose({
    kind: 'drillRecovered',
    ok: true,
    subject: `Kill-switch drill passes again: ${plural(accounts.length, 'account')}`,
    context,
    record,
    lead: `The drill found no problem on any of ${plural(accounts.length, 'account')}: the kill switch would work. The drill of ${when(failedAt)} had failed.`,
    sections: [facts(record, context, false), warnings ? drillLines(accounts) : []],
    actions: [warnings ? 'Nothing urgent; the warnings above are worth a look.' : 'Nothing.'],
  });
}

/** Bybit refused this IP (HTTP 403) during a run that sends no message of its own. */
export function ipBanMessage(record: RunRecord, context: MessageContext): Message {
  const region = /blocked region/.test(context.ipRefusal ?? '');
  return compose({
    kind: 'ipBan',
    ok: false,
    subject: `Bybit refused this IP (HTTP 403) during ${OPERATIONS[record.operation] ?? record.operation}`,
    context,
    record,
    lead: `${context.ipRefusal ?? 'Bybit refused this IP (HTTP 403).'} The ${record.functionName} function sends nothing to Bybit for the next 10 minutes; a kill switch from the same IP may be refused too.`,
    sections: [facts(record, context, false)],
    actions: region
      ? [
          'Bybit does not serve this address: move the functions’ egress IP to a region Bybit serves (not the US or mainland China).',
        ]
      : [
          'Wait at least 10 minutes before sending anything from this IP; cancel by hand in Bybit’s website or app if you must.',
          'Find what else sends from this IP: all keys together may send 600 requests per 5 s (see the capacity page).',
        ],
  });
}

/** Subject lines for the failure, from the most to the least urgent fact. */
function failureSubject(
  record: RunRecord,
  report: Partial<KillSwitchReport> | undefined,
  context: MessageContext,
): string {
  if (!report) return `KILL SWITCH FAILED: ${record.error?.type ?? 'error'} before any cancel was confirmed`;
  const open = openByAccount(report);
  const remaining = report.remaining ?? 0;
  if (remaining > 0)
    return `KILL SWITCH FAILED: ${plural(remaining, 'order')} still open on ${names([...open.keys()])}`;
  if (context.ipRefusal) return 'KILL SWITCH FAILED: Bybit refused this IP (HTTP 403)';
  const trading = (report.strategies ?? []).filter((s) => s.remaining.length > 0);
  if (trading.length) {
    const count = trading.reduce((n, s) => n + s.remaining.length, 0);
    return `KILL SWITCH FAILED: ${plural(count, 'strategy')} still trading on ${names(trading.map((s) => s.account))}`;
  }
  const unverified = [
    ...new Set([
      ...unverifiedScopes(report).map((s) => s.account),
      ...(report.strategies ?? []).filter((s) => !s.verified).map((s) => s.account),
    ]),
  ];
  if (unverified.length) return `KILL SWITCH FAILED: could not verify ${names(unverified)}`;
  const stuck = [...new Set((report.uncancellable ?? []).map((u) => u.account))];
  if (stuck.length) return `KILL SWITCH FAILED: Bybit will not cancel orders on ${names(stuck)}`;
  const unhalted = (report.halt?.accounts ?? []).filter((a) => a.failed.length > 0).map((a) => a.account);
  if (unhalted.length) return `KILL SWITCH: orders cleared, but the HALT FAILED on ${names(unhalted)}`;
  return 'KILL SWITCH FAILED: not everything was confirmed clear';
}

function clearSubject(report: Partial<KillSwitchReport> | undefined, record: RunRecord): string {
  const accounts = report?.accounts?.length ?? 0;
  return `Kill switch: all clear - ${plural(accounts, 'account')}, ${plural(report?.cancelled ?? 0, 'order')}, ${seconds(report?.durationMs ?? record.durationMs)}`;
}

function clearLead(report: Partial<KillSwitchReport> | undefined, record: RunRecord): string {
  const accounts = report?.accounts?.length ?? 0;
  return `All clear. The kill switch cancelled ${plural(report?.cancelled ?? 0, 'order')} on ${plural(accounts, 'account')}, and Bybit's widest listings show nothing open (${seconds(report?.durationMs ?? record.durationMs)}).`;
}

function failureLead(
  record: RunRecord,
  report: Partial<KillSwitchReport> | undefined,
  context: MessageContext,
): string {
  if (!report) {
    return `The kill switch FAILED before it could confirm anything: ${record.error?.type ?? 'Error'}: ${record.error?.message ?? 'no report'}. Orders may still be open.`;
  }
  const remaining = report.remaining ?? 0;
  const unverified = unverifiedScopes(report).length;
  const trading = (report.strategies ?? []).reduce((n, s) => n + s.remaining.length, 0);
  const parts = [
    remaining > 0 ? `${plural(remaining, 'order')} still open` : '',
    trading > 0 ? `${plural(trading, 'strategy')} still trading` : '',
    unverified > 0 ? `${plural(unverified, 'listing')} could not be verified` : '',
    (report.uncancellable?.length ?? 0) > 0
      ? `${plural(report.uncancellable?.length ?? 0, 'order')} Bybit will not cancel now`
      : '',
    context.ipRefusal ? 'Bybit refused this IP' : '',
  ].filter(Boolean);
  return `The kill switch did NOT clear everything: ${parts.join(', ') || 'it could not confirm the accounts clear'}. It cancelled ${plural(report.cancelled ?? 0, 'order')}. Act now.`;
}

function clearActions(record: RunRecord, halt: HaltReport | undefined): string[] {
  const halted = halt?.set === true && halt.accounts.length > 0;
  const first =
    record.origin === 'deadMansSwitch'
      ? halted
        ? 'Your bot stopped sending heartbeats. Find out why before it trades again; while halted, its heartbeats get 423 and change nothing.'
        : 'Your bot stopped sending heartbeats. Find out why before it trades again; its next heartbeat arms the dead man’s switch again.'
      : 'Find out why it was fired before any bot trades again.';
  return [first, 'The kill switch cancels orders only: check your positions in Bybit.'];
}

function failureActions(report: Partial<KillSwitchReport> | undefined, context: MessageContext): string[] {
  const fireAgain = `npm run kill-switch -- --stage ${context.stage}`;
  const actions: string[] = [];
  if (context.ipRefusal) {
    actions.push(
      'Bybit refused this IP: do not fire again for at least 10 minutes. Cancel by hand in Bybit’s website or app now.',
    );
  }
  if (!report) {
    actions.push(
      `Cancel by hand in Bybit now. Fix the cause above, then fire again: ${fireAgain}`,
      'The error and the request id are in the log group below.',
    );
    return actions;
  }
  if ((report.remaining ?? 0) > 0) {
    actions.push(
      `Cancel the open orders above by hand in Bybit now${context.ipRefusal ? '' : `, or fire the kill switch again: ${fireAgain}`}.`,
    );
  }
  if ((report.strategies ?? []).some((s) => s.remaining.length > 0))
    actions.push(
      'Stop the strategies marked "STILL TRADING" in Bybit (strategy orders): they place orders again.',
    );
  if (unverifiedScopes(report).length > 0 || (report.strategies ?? []).some((s) => !s.verified))
    actions.push('Look at the listings marked "not verified" in Bybit: the kill switch could not see them.');
  if ((report.uncancellable?.length ?? 0) > 0)
    actions.push('Bybit will not cancel some orders right now (listed above): watch them in Bybit.');
  if ((report.scopes ?? []).some((s) => s.error?.errorType === 'UnknownAccount'))
    actions.push('An account named in the request is not in the exchange secret: check the names.');
  actions.push('Check your positions in Bybit: the kill switch cancels orders only.');
  return actions;
}

/** One line per account (cancelled, left), then its open order ids, unverified listings and stuck orders. */
function accountLines(report: Partial<KillSwitchReport> | undefined): string[] {
  const scopes = report?.scopes ?? [];
  const names = [...new Set([...(report?.accounts ?? []), ...scopes.map((s) => s.account)])];
  return names.flatMap((account) => {
    const own = scopes.filter((s) => s.account === account);
    const unknown = own.find((s) => s.scope === '*' && s.error);
    if (unknown) return [`- ${account}: ${unknown.error?.errorMessage ?? 'failed'}; nothing cancelled`];
    const cancelled = sum(own.map((s) => s.cancelled));
    const remaining = sum(own.filter((s) => s.verified).map((s) => s.remaining));
    const lines = [
      `- ${account}: ${cancelled} cancelled, ${remaining ? `${remaining} STILL OPEN` : 'none left'}`,
    ];
    const ids = own.flatMap((s) =>
      (s.remainingOrders ?? []).map((o) => `${s.scope} ${o.symbol} ${o.orderId}`),
    );
    for (const id of ids.slice(0, IDS_PER_ACCOUNT)) lines.push(`    open: ${id}`);
    if (ids.length > IDS_PER_ACCOUNT)
      lines.push(`    and ${ids.length - IDS_PER_ACCOUNT} more (in the logged report)`);
    for (const s of own.filter((s) => !s.verified || s.error)) {
      lines.push(`    not verified: ${s.scope}${s.error?.errorMessage ? ` (${s.error.errorMessage})` : ''}`);
    }
    for (const u of (report?.uncancellable ?? []).filter((u) => u.account === account)) {
      lines.push(`    Bybit will not cancel: ${stuckLine(u)}`);
    }
    const strategies = (report?.strategies ?? []).find((s) => s.account === account);
    if (strategies?.stopped.length) lines.push(`    strategies stopped: ${strategies.stopped.length}`);
    for (const r of strategies?.remaining ?? []) {
      lines.push(`    STILL TRADING: ${r.strategyType} ${r.symbol} ${r.strategyId} (${r.why})`);
    }
    if (strategies && !strategies.verified) {
      lines.push(
        `    not verified: strategies${strategies.error?.errorMessage ? ` (${strategies.error.errorMessage})` : ''}`,
      );
    }
    return lines;
  });
}

function stuckLine(u: UncancellableOrder): string {
  return `${u.category} ${u.symbol} ${u.orderId} (${u.why})`;
}

function unverifiedScopes(report: Partial<KillSwitchReport>): ScopeReport[] {
  return (report.scopes ?? []).filter((s) => !s.verified || s.error);
}

/** Accounts with orders still open, with how many. */
function openByAccount(report: Partial<KillSwitchReport>): Map<string, number> {
  const open = new Map<string, number>();
  for (const s of report.scopes ?? []) {
    if (s.verified && s.remaining > 0) open.set(s.account, (open.get(s.account) ?? 0) + s.remaining);
  }
  return open;
}

function drillLines(accounts: AccountDrill[]): string[] {
  if (accounts.length === 0) return [];
  return [
    'Per account:',
    ...accounts.flatMap((a) => [
      `- ${a.account}: ${a.ok ? 'ok' : `${plural(a.problems.length, 'PROBLEM')}`}`,
      ...a.problems.map((p) => `    problem: ${p.message}`),
      ...a.warnings.map((w) => `    warning: ${w.message}`),
    ]),
  ];
}

/** The master key of the enforced halt, when the drill checked one. */
function masterLines(master: MasterDrill | undefined): string[] {
  if (!master) return [];
  return [
    `Master key (enforced halt): ${master.ok ? 'ok' : plural(master.problems.length, 'PROBLEM')}`,
    ...master.problems.map((p) => `    problem: ${p.message}`),
    ...master.warnings.map((w) => `    warning: ${w.message}`),
  ];
}

/** What to do for each problem with the master key (docs/guides/halt.md says the same). */
const MASTER_PROBLEM_ACTIONS: Record<MasterProblemCode, string> = {
  masterKeyFailed:
    'the master key could not be read or checked: check HALT_MASTER_SECRET_ID, the secret, and that Bybit accepts the key.',
  notMaster:
    'the key is not the master account’s: create one in the master account (API management) and put it in the master secret.',
  masterReadOnly: 'the key is read-only: make it read-write with Wallet → Account Transfer only.',
  masterMissingPermission: 'give the key Wallet → Account Transfer (nothing else is needed).',
  masterWithdrawal:
    'remove the Withdrawal permission now: make a new master key with Wallet → Account Transfer only, and delete this one.',
  masterNotIpBound:
    'bind the key to your egress IP in Bybit’s API management page (the API cannot bind a master key).',
  masterExpiresSoon: 'make a new master key before this one expires, and put it in the master secret.',
};

/** What to do for each problem the drill finds (docs/operations/runbook.md says the same). */
const PROBLEM_ACTIONS: Record<ProblemCode, string> = {
  unknownAccount: 'the exchange secret has no such account: check the names the drill was given.',
  keyRefused:
    'Bybit refuses the key: check it in the exchange secret, its IP binding, and that it was not deleted in Bybit.',
  keyExpired:
    'the key has expired: create a new one in Bybit (API management) and put it in the exchange secret.',
  keyExpiresSoon:
    'the key expires soon: create a new one in Bybit and put it in the exchange secret before it does.',
  keyExpiryUnknown:
    'Bybit gave no expiry for an unbound key: bind the key to your egress IP, or check it in Bybit.',
  keyInfoFailed:
    'Bybit did not answer the key check: run the drill again; if it repeats, check Bybit’s status.',
  readOnly:
    'the key is read-only: give it trade permissions (Orders, SpotTrade, OptionsTrade) or make a new key.',
  missingPermission:
    'the key lacks a trade permission the kill switch needs: add it in Bybit, or make a new key.',
  listingFailed:
    'a listing failed: run the drill again; if it repeats, check the key’s permissions and Bybit’s status.',
  strategyListingFailed:
    'the strategy list failed, so a kill switch could not stop strategies: run the drill again; if it repeats, check the key and Bybit’s status.',
  subUidMalformed: 'fix the account’s "subUid" in the exchange secret: the sub-account’s UID, digits only.',
  noMasterKey:
    'the account names a subUid but no master key is configured: set HALT_MASTER_SECRET_ID, or remove the subUid.',
  subKeysUnlisted:
    'the master key cannot list this sub-account’s keys: check the subUid and that the key is the master’s.',
  subUidMismatch:
    'the account’s key is not a key of the sub UID the secret names: correct its "subUid" in the exchange secret.',
  subKeyUnreadable:
    'Bybit lists one of the sub-account’s keys without readable IPs or permissions: check it in API management.',
};

const OPERATIONS: Partial<Record<Operation, string>> = {
  cancel: 'a single-order cancel',
  cancelAll: 'a scoped cancel-all',
  killSwitch: 'the kill switch',
  sweep: 'the stale-order sweep',
  drill: 'the kill-switch drill',
};

/** Who or what started the run, in words. */
export function firedBy(record: Pick<RunRecord, 'origin' | 'trigger' | 'operation'>): string {
  switch (record.origin) {
    case 'deadMansSwitch':
      return 'the dead man’s switch (no heartbeat in time)';
    case 'cli':
      return 'npm run kill-switch';
    case 'telegram':
      return 'Telegram (/kill, confirmed with Kill now)';
    case undefined:
      break;
    default:
      return record.origin;
  }
  switch (record.trigger) {
    case 'eventBridge':
      return 'an EventBridge kill-switch event';
    case 'webhook':
      return 'a signed webhook request';
    case 'schedule':
      return record.operation === 'drill' ? 'the daily drill schedule' : 'its schedule';
    default:
      return 'a direct invocation';
  }
}

/** The facts block: who, why, when, where. */
function facts(record: RunRecord, context: MessageContext, withReason: boolean): string[] {
  return [
    `Fired by: ${firedBy(record)}`,
    ...(withReason && record.reason ? [`Reason: ${record.reason}`] : []),
    `When: ${when(record.at)} (took ${seconds(record.durationMs)})`,
    `Stage: ${context.stage}`,
  ];
}

interface Draft {
  kind: MessageKind;
  ok: boolean;
  subject: string;
  context: MessageContext;
  record: RunRecord;
  lead: string;
  sections: string[][];
  actions: string[];
}

/** Lays a message out the same way for every kind. */
function compose(draft: Draft): Message {
  const { record } = draft;
  const blocks = [
    [draft.lead],
    ...draft.sections.filter((s) => s.length > 0),
    ['What to do now:', ...draft.actions.map((a) => `- ${a}`)],
    [`Request id: ${record.requestId}`, `Log group: ${record.logGroup}`],
  ];
  return {
    kind: draft.kind,
    ok: draft.ok,
    subject: subjectLine(draft.subject, draft.context.stage),
    body: blocks.map((b) => b.join('\n')).join('\n\n'),
  };
}

/** The subject with the stage, made safe for SNS: ASCII, one line, under 100 characters. */
export function subjectLine(subject: string, stage?: string): string {
  const suffix = stage ? ` (${asciiSafe(stage)})` : '';
  const text = asciiSafe(subject);
  const room = SUBJECT_MAX - suffix.length;
  return `${text.length > room ? `${text.slice(0, room - 3).trimEnd()}...` : text}${suffix}`;
}

/** Printable ASCII only: dashes and quotes made plain, anything else dropped, whitespace folded. */
export function asciiSafe(text: string): string {
  return text
    .replace(/[\u2013\u2014]/g, '-')
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201c\u201d]/g, '"')
    .replace(/\u2026/g, '...')
    .replace(/\s+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '')
    .trim();
}

/** Up to three names, then how many more. */
function names(list: string[]): string {
  const shown = list.slice(0, 3).join(', ');
  return list.length > 3 ? `${shown} and ${list.length - 3} more` : shown || 'no account';
}

function plural(n: number, word: string): string {
  if (n === 1) return `${n} ${word}`;
  // strategy → strategies, key → keys; PROBLEM → PROBLEMS.
  if (/[^aeiou]y$/.test(word)) return `${n} ${word.slice(0, -1)}ies`;
  return `${n} ${word}${word === word.toUpperCase() ? 'S' : 's'}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** An ISO time as people read it: `2026-12-05 03:02:11 UTC`. */
export function when(iso: string): string {
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : `${time.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
