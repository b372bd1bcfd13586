// The halt: a kill switch stops the trading, not just the orders, and it stays stopped until a person
// resets it. Every covered account gets the cooperative halt: a record in the state table (since when, by
// what origin, the reason, the event id) that a bot's heartbeat is answered with. A sub-account (an account
// of the exchange secret with a `subUid`) also gets the enforced halt when a master key is configured:
// every read-write API key of its sub UID except the kill switch's own is made read-only, so the exchange
// itself refuses the bot's next order (10005). A master account's own keys cannot get it: a key changes
// only itself through `/v5/user/update-api` (docs/v5/user/modify-master-apikey.mdx: "Only the api key that
// calls this interface can be modified").
//
// Steps per account, started right after the account's first-wave cancel-alls are sent (never in front):
//   1. record the halt and, at the same time, list every page of the sub UID's keys (master key);
//   2. per key to flip, write ahead: its prior state (readOnly, ips, permissions) goes into the halt record,
//      then update-sub-api with readOnly 1, the key's own `ips` (left out, they would unbind it:
//      docs/v5/user/modify-sub-apikey.mdx) and no `permissions` (left out, they stay);
//   3. the account's verification listings wait for 2: an order placed after the last listing is refused.
// A failed flip never stops the cancels: the report names the key by a masked id, and the run fails.
//
// The reset restores exactly the keys a halt flipped, with their recorded `ips`, and clears the record; keys
// changed by hand since the halt are reported and left alone.

import { createHash } from 'node:crypto';
import type { BybitClient, CallOptions } from '../bybit/client.ts';
import { type SubApiKey, UNBOUND_IPS } from '../bybit/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import { HaltResetError, SecretError } from '../errors.ts';
import { describeError } from '../log.ts';
import type { Exchange, SubAccounts } from './exchange.ts';

/** Who set a halt, and when. */
export interface HaltOrigin {
  /** When the halt began (ISO 8601). */
  since: string;
  /** What fired the kill switch: `deadMansSwitch`, or `killSwitch` when the event names nothing else. */
  origin: string;
  reason?: string;
  /** The kill-switch event's id, when it came as an event. */
  eventId?: string;
}

/** A sub-account key as it was before the halt made it read-only: what a reset restores. */
export interface PriorKeyState {
  /** SHA-256 of the API key: finds the key again in a listing without the record holding the key itself. */
  fingerprint: string;
  /** The key for people: its first 4 and last 2 characters. */
  key: string;
  readOnly: boolean;
  ips: string[];
  permissions: Record<string, string[]>;
}

export interface HaltedKey extends PriorKeyState {
  /** The exchange confirmed the flip. False: the flip may or may not have landed (a crash in between). */
  flipped: boolean;
}

export interface HaltRecord extends HaltOrigin {
  account: string;
  /** The sub UID whose keys the halt made read-only; absent for a cooperative halt. */
  subUid?: string;
  keys: HaltedKey[];
}

/**
 * The halt records, one per account (in the state table: pk `halt`, sk the account name, so that one Query
 * answers `list()`; lib/lambda/records.ts holds the `halt` prefix for them). Every write must
 * be durable when its promise resolves: the halt sends a flip only after `recordKey` has resolved. Each call
 * must end in bounded time (the SDK's timeouts): the account's verification waits for the writes before
 * its flips.
 */
export interface HaltStore {
  get(account: string): Promise<HaltRecord | undefined>;
  /** Starts a halt unless one stands already; answers the record as it stands (an earlier halt wins). */
  begin(account: string, start: HaltOrigin & { subUid?: string }): Promise<HaltRecord>;
  /** Writes a key's prior state (unflipped) before its flip is sent; replaces an entry of the same fingerprint. */
  recordKey(account: string, key: PriorKeyState): Promise<void>;
  /** The exchange confirmed the flip of the key with this fingerprint. */
  markFlipped(account: string, fingerprint: string): Promise<void>;
  /** Ends the halt: the record is gone. */
  clear(account: string): Promise<void>;
  list(): Promise<HaltRecord[]>;
}

/** What a kill switch needs to halt: the record store, and the master key for the enforced halt. */
export interface HaltSetup {
  store: HaltStore;
  /** The master account's client; absent, or answering undefined: every account gets the cooperative halt. */
  master?: () => Promise<BybitClient | undefined>;
}

export interface KeyFailure {
  /** The key, masked; absent when the failure is the account's. */
  key?: string;
  error: string;
}

export interface AccountHaltReport {
  account: string;
  /** `enforced`: the sub UID's keys were made read-only; `cooperative`: the halt is recorded only. */
  mode: 'enforced' | 'cooperative';
  /** Why the halt is cooperative only. */
  why?: string;
  /** When the halt began (an earlier halt that still stands keeps its time). */
  since?: string;
  subUid?: string;
  /** Keys made read-only by this kill switch (masked). */
  flipped: string[];
  /** Keys that were read-only already (masked): by hand, or by an earlier halt. */
  alreadyReadOnly: string[];
  /** The kill switch's own keys in the listing, left read-write so that it can cancel (masked). */
  own: string[];
  failed: KeyFailure[];
}

export interface HaltReport {
  set: boolean;
  /** Why no halt was set. */
  why?: string;
  accounts: AccountHaltReport[];
}

/** Who asked for the halt. */
export interface HaltRequest {
  origin: string;
  reason?: string;
  eventId?: string;
}

/**
 * Time kept for the verification listings after the flips: the halt's requests give up by the later of the
 * deadline minus this and half the time left, so that a hung update-sub-api cannot take the time the
 * verification needs.
 */
const VERIFICATION_RESERVE_MS = 5000;

/**
 * A key created this recently may be one the exchange secret has just been rotated to while this container
 * still holds the secret as it was (SECRET_CACHE_TTL_SECONDS is at most a day): before such a key is made
 * read-only, the secret is read again, so that the kill switch never locks out its own new key. Older keys
 * (every bot's, in steady state) need no read on the way to the flips.
 */
const RECENT_KEY_MS = 86_400_000;

/** Pages of a sub UID's keys read before giving up (20 keys a page). */
const MAX_KEY_PAGES = 50;
const PAGE_SIZE = 20;

/** A key for people: `abcd…yz`; a key too short to show any of it is `…`. */
export function maskKey(apiKey: string): string {
  return apiKey.length >= 10 ? `${apiKey.slice(0, 4)}…${apiKey.slice(-2)}` : '…';
}

/** Identifies an API key in a halt record without storing it. */
export function keyFingerprint(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/** `ips` as update-sub-api takes it: comma-separated, `*` for none (docs/v5/user/modify-sub-apikey.mdx). */
export function ipsParam(ips: readonly string[]): string {
  return ips.length === 0 ? UNBOUND_IPS : ips.join(',');
}

/**
 * One kill switch's halt over its accounts. `account(name)` starts an account's halt once (later calls
 * answer the same run) and settles when all of it is done, never with an error: what failed is in the
 * report. `keysSettled(name)` settles as soon as the exchange has answered every flip of the account: what
 * its verification listings wait for (the confirmations in the record follow).
 */
export class Halt {
  private readonly runs = new Map<string, Promise<AccountHaltReport>>();
  private readonly settled = new Map<string, Promise<void>>();
  private readonly origin: HaltOrigin;
  private cached: Promise<SubAccounts> | undefined;
  private fresh: Promise<SubAccounts | undefined> | undefined;
  private readonly now: () => number;
  private masterClient: Promise<BybitClient | undefined> | undefined;
  private readonly exchange: Exchange;
  private readonly setup: HaltSetup;
  private readonly deadline: number;

  constructor(
    exchange: Exchange,
    setup: HaltSetup,
    request: HaltRequest,
    deadline: number,
    clock: Clock = systemClock,
  ) {
    this.exchange = exchange;
    this.setup = setup;
    this.now = clock.now;
    const now = clock.now();
    this.deadline = Math.max(now + (deadline - now) / 2, deadline - VERIFICATION_RESERVE_MS);
    this.origin = {
      since: new Date(now).toISOString(),
      origin: request.origin,
      ...(request.reason !== undefined ? { reason: request.reason } : {}),
      ...(request.eventId !== undefined ? { eventId: request.eventId } : {}),
    };
  }

  account(name: string): Promise<AccountHaltReport> {
    let run = this.runs.get(name);
    if (!run) {
      let settle: () => void = () => undefined;
      this.settled.set(
        name,
        new Promise<void>((resolve) => {
          settle = resolve;
        }),
      );
      run = this.halt(name, () => settle())
        .catch((error) => ({
          ...emptyReport(name),
          failed: [{ error: `the halt could not start: ${messageOf(error)}` }],
        }))
        .finally(() => settle());
      this.runs.set(name, run);
    }
    return run;
  }

  /** Starts the account's halt (once) and settles when its keys are read-only, or have failed to be. */
  keysSettled(name: string): Promise<void> {
    this.account(name);
    return this.settled.get(name) as Promise<void>;
  }

  /** The report over the accounts named (each started now if it was not yet). */
  async report(accounts: readonly string[]): Promise<HaltReport> {
    return { set: true, accounts: await Promise.all(accounts.map((a) => this.account(a))) };
  }

  private async halt(account: string, keysSettled: () => void): Promise<AccountHaltReport> {
    const report = emptyReport(account);
    const { store } = this.setup;
    this.cached ??= this.exchange.subAccounts();
    const known = await this.cached;
    const subUid = known.subUids.get(account);
    const begun = store.begin(account, { ...this.origin, ...(typeof subUid === 'string' ? { subUid } : {}) });
    // Settled below; the key listing does not wait for it.
    begun.catch(() => undefined);
    const recorded = async () => {
      try {
        report.since = (await begun).since;
        return true;
      } catch (error) {
        report.failed.push({ error: `the halt could not be recorded: ${messageOf(error)}` });
        return false;
      }
    };

    if (subUid === undefined || subUid instanceof SecretError) {
      report.why = !known.keyOf.has(account)
        ? "the account's entry in the exchange secret is malformed"
        : subUid === undefined
          ? 'the exchange secret names no subUid for this account'
          : 'its subUid in the exchange secret is malformed';
      if (subUid instanceof SecretError) report.failed.push({ error: subUid.message });
      await recorded();
      return report;
    }
    report.subUid = subUid;
    let master: BybitClient | undefined;
    try {
      this.masterClient ??= this.setup.master?.() ?? Promise.resolve(undefined);
      master = await this.masterClient;
    } catch (error) {
      report.failed.push({ error: `the master key could not be read: ${messageOf(error)}` });
    }
    if (!master) {
      // The secret asks for the enforced halt (subUid) that cannot happen: a person must know.
      if (report.failed.length === 0)
        report.failed.push({
          error: 'the account names a subUid, but no master key is configured (HALT_MASTER_SECRET_ID)',
        });
      report.why = 'the master key is missing: no key was made read-only';
      await recorded();
      return report;
    }
    report.mode = 'enforced';

    const call: CallOptions = { deadline: this.deadline, priority: 'first-wave' };
    let keys: SubApiKey[];
    try {
      keys = await listSubApiKeys(master, subUid, call);
    } catch (error) {
      report.failed.push({ error: `the keys of sub UID ${subUid} could not be listed: ${messageOf(error)}` });
      await recorded();
      return report;
    }
    // A recent read-write key not in the cached secret may be the kill switch's own, rotated in: look again.
    const recent = keys.some(
      (k) =>
        !k.readOnly &&
        !known.ownKeys.has(k.apiKey) &&
        (k.createdAt === undefined || this.now() - k.createdAt <= RECENT_KEY_MS),
    );
    if (recent) this.fresh ??= this.exchange.subAccounts({ refresh: true }).catch(() => undefined);
    const fresh = recent ? await this.fresh : undefined;
    const ownKeys = new Set([...known.ownKeys, ...(fresh?.ownKeys ?? [])]);
    const mine = [known.keyOf.get(account), fresh?.keyOf.get(account)];
    const own = keys.filter((k) => ownKeys.has(k.apiKey));
    report.own = own.map((k) => maskKey(k.apiKey));
    if (!keys.some((k) => mine.includes(k.apiKey))) {
      report.failed.push({
        error: `the account's key is not among the keys of sub UID ${subUid}: subUid names another sub-account (or the key is gone); no key was made read-only`,
      });
      await recorded();
      return report;
    }
    // Write ahead: without the record, a reset could not know what to restore.
    if (!(await recorded())) return report;

    const flips = keys
      .filter((k) => !ownKeys.has(k.apiKey))
      .map(async (k): Promise<string | undefined> => {
        const key = maskKey(k.apiKey);
        if (k.readOnly) {
          report.alreadyReadOnly.push(key);
          return undefined;
        }
        try {
          await flip(store, master, account, k, call);
          report.flipped.push(key);
          return k.apiKey;
        } catch (error) {
          report.failed.push({ key, error: messageOf(error).replaceAll(k.apiKey, key) });
          return undefined;
        }
      });
    const flipped = (await Promise.all(flips)).filter((k): k is string => k !== undefined);
    // The keys are read-only: verification may start while the record says so.
    keysSettled();
    await Promise.all(
      flipped.map((apiKey) =>
        store.markFlipped(account, keyFingerprint(apiKey)).catch((error) => {
          report.failed.push({
            key: maskKey(apiKey),
            error: `made read-only, but the halt record could not say so (${messageOf(error)})`,
          });
        }),
      ),
    );
    return report;
  }
}

/** Makes one key read-only: its prior state is in the record before the change is sent (confirmed later). */
async function flip(
  store: HaltStore,
  master: BybitClient,
  account: string,
  key: SubApiKey,
  call: CallOptions,
): Promise<void> {
  if (key.unreadable || !key.ips || !key.permissions) {
    throw new Error(
      `the exchange listed it without a readable ${key.unreadable ?? 'ips'}: left read-write, since a change without its ips would unbind them`,
    );
  }
  const prior: PriorKeyState = {
    fingerprint: keyFingerprint(key.apiKey),
    key: maskKey(key.apiKey),
    readOnly: key.readOnly,
    ips: key.ips,
    permissions: key.permissions,
  };
  try {
    await store.recordKey(account, prior);
  } catch (error) {
    throw new Error(`left read-write: its prior state could not be recorded (${messageOf(error)})`);
  }
  const after = await master.updateSubApiKey(
    { apikey: key.apiKey, readOnly: 1, ips: ipsParam(key.ips) },
    call,
  );
  if (!after.readOnly) throw new Error('the exchange answered, but the key is still read-write');
  if (!sameIps(after.ips, key.ips)) {
    throw new Error(
      `made read-only, but the exchange changed its IPs from ${key.ips.join(',')} to ${after.ips.join(',')}`,
    );
  }
}

/** Sends one request; the drill passes its own pacing. */
export type Send = <T>(request: () => Promise<T>) => Promise<T>;

/** Every page of a sub UID's keys (master key). */
export async function listSubApiKeys(
  master: BybitClient,
  subUid: string,
  call: CallOptions,
  send: Send = (request) => request(),
): Promise<SubApiKey[]> {
  const keys: SubApiKey[] = [];
  let cursor = '';
  for (let page = 0; page < MAX_KEY_PAGES; page++) {
    const params = { subMemberId: subUid, limit: PAGE_SIZE, ...(cursor ? { cursor } : {}) };
    const answer = await send(() => master.subApiKeys(params, call));
    keys.push(...answer.list);
    if (!answer.nextPageCursor || answer.list.length === 0) return keys;
    if (answer.nextPageCursor === cursor) throw new Error('the exchange returned the same cursor twice');
    cursor = answer.nextPageCursor;
  }
  throw new Error(`more than ${MAX_KEY_PAGES * PAGE_SIZE} keys`);
}

/** The same addresses, in any order; `*` and an empty list both mean "bound to none". */
export function sameIps(a: readonly string[], b: readonly string[]): boolean {
  const normal = (ips: readonly string[]) => {
    const set = [...new Set(ips.filter((ip) => ip !== ''))].sort();
    return set.length === 0 || (set.length === 1 && set[0] === UNBOUND_IPS) ? [] : set;
  };
  return normal(a).join(',') === normal(b).join(',');
}

/** The same permissions per group, in any order; an empty group equals an absent one. */
export function samePermissions(a: Record<string, string[]>, b: Record<string, string[]>): boolean {
  const groups = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const group of groups) {
    const left = [...new Set(a[group] ?? [])].sort().join(',');
    const right = [...new Set(b[group] ?? [])].sort().join(',');
    if (left !== right) return false;
  }
  return true;
}

function emptyReport(account: string): AccountHaltReport {
  return { account, mode: 'cooperative', flipped: [], alreadyReadOnly: [], own: [], failed: [] };
}

function messageOf(error: unknown): string {
  return (describeError(error).errorMessage as string | undefined) ?? String(error);
}

// ---- Reset ----

export interface AccountResetReport {
  account: string;
  /** Keys made read-write again, with the IPs they had (masked). */
  restored: string[];
  /** Keys left as they are, and why: gone, or changed by hand since the halt. */
  leftAlone: KeyFailure[];
  /** Keys whose restore failed: the halt stands until a reset restores them. */
  failed: KeyFailure[];
  /** The halt record is gone: the account is no longer halted. */
  cleared: boolean;
}

export interface ResetReport {
  operation: 'reset';
  ok: boolean;
  /** Who asked for the reset, in their words (`npm run kill-switch by ana@desk-3`). */
  by?: string;
  /** In words: what the reset did, or that there was nothing to reset. */
  message: string;
  accounts: AccountResetReport[];
}

export interface ResetRequest {
  /** Only these accounts; every halted account when absent. */
  accounts?: string[];
  /** Who asks, for the logs and the message. */
  by?: string;
}

/**
 * Ends the halts: per halted account, restores exactly the keys the halt flipped (read-write, with the IPs
 * they had, permissions untouched) and clears the record. A key changed by hand since the halt (read-write
 * again, other IPs or permissions) or gone is reported and left alone. A key recorded but never confirmed
 * flipped (a crash between the flip and its confirmation) is restored when it is read-only exactly as the
 * halt would have left it. A restore that fails keeps the record, so that the next reset tries again; then
 * HaltResetError carries the report. With nothing halted, it does nothing and says so.
 */
export async function resetHalt(
  setup: HaltSetup,
  request: ResetRequest,
  deadline: number,
): Promise<ResetReport> {
  const records = (await setup.store.list()).filter(
    (r) => !request.accounts || request.accounts.includes(r.account),
  );
  if (records.length === 0) {
    const which = request.accounts ? request.accounts.join(', ') : 'no account';
    const message = request.accounts
      ? `nothing to reset: ${which} ${request.accounts.length === 1 ? 'is' : 'are'} not halted`
      : 'nothing to reset: no account is halted';
    return { operation: 'reset', ok: true, ...by(request), message, accounts: [] };
  }
  const call: CallOptions = { deadline, priority: 'routine' };
  let master: Promise<BybitClient | undefined> | undefined;
  const accounts = await Promise.all(
    records.map(async (record): Promise<AccountResetReport> => {
      const report: AccountResetReport = {
        account: record.account,
        restored: [],
        leftAlone: [],
        failed: [],
        cleared: false,
      };
      if (record.keys.length > 0) {
        try {
          master ??= setup.master?.() ?? Promise.resolve(undefined);
          const client = await master;
          if (!client) throw new Error('no master key is configured (HALT_MASTER_SECRET_ID)');
          await restoreKeys(client, record, report, call);
        } catch (error) {
          report.failed.push({ error: messageOf(error) });
        }
      }
      if (report.failed.length === 0) {
        try {
          await setup.store.clear(record.account);
          report.cleared = true;
        } catch (error) {
          report.failed.push({ error: `the halt record could not be cleared: ${messageOf(error)}` });
        }
      }
      return report;
    }),
  );
  const ok = accounts.every((a) => a.failed.length === 0);
  const restored = accounts.reduce((n, a) => n + a.restored.length, 0);
  const message = ok
    ? `reset ${accounts.length} account(s): ${restored} key(s) made read-write again`
    : 'the reset is incomplete: the accounts named under failed are still halted';
  const report: ResetReport = { operation: 'reset', ok, ...by(request), message, accounts };
  if (!ok) {
    const reasons = accounts.flatMap((a) =>
      a.failed.map((f) => `${a.account}: ${f.key ? `key ${f.key}: ` : ''}${f.error}`),
    );
    throw new HaltResetError({ ...report }, reasons);
  }
  return report;
}

function by(request: ResetRequest): { by?: string } {
  return request.by !== undefined ? { by: request.by } : {};
}

async function restoreKeys(
  master: BybitClient,
  record: HaltRecord,
  report: AccountResetReport,
  call: CallOptions,
): Promise<void> {
  if (!record.subUid) throw new Error('the halt record names no sub UID, yet it holds keys');
  const listed = await listSubApiKeys(master, record.subUid, call);
  const byFingerprint = new Map(listed.map((k) => [keyFingerprint(k.apiKey), k]));
  await Promise.all(
    record.keys.map(async (entry) => {
      const now = byFingerprint.get(entry.fingerprint);
      const leave = (why: string) => report.leftAlone.push({ key: entry.key, error: why });
      if (!now) return leave('the key no longer exists');
      if (!now.readOnly) {
        // Never confirmed flipped and read-write now: the flip did not land, there is nothing to undo.
        if (entry.flipped) leave('made read-write by hand since the halt');
        return;
      }
      if (now.unreadable || !now.ips || !now.permissions)
        return leave(`the exchange listed it without a readable ${now.unreadable ?? 'ips'}`);
      if (!sameIps(now.ips, entry.ips) || !samePermissions(now.permissions, entry.permissions))
        return leave('its IPs or permissions were changed by hand since the halt: left read-only');
      try {
        const after = await master.updateSubApiKey(
          { apikey: now.apiKey, readOnly: 0, ips: ipsParam(entry.ips) },
          call,
        );
        if (after.readOnly) throw new Error('the exchange answered, but the key is still read-only');
        if (!sameIps(after.ips, entry.ips))
          throw new Error(`the exchange changed its IPs to ${after.ips.join(',')}`);
        report.restored.push(entry.key);
      } catch (error) {
        report.failed.push({ key: entry.key, error: messageOf(error).replaceAll(now.apiKey, entry.key) });
      }
    }),
  );
}
