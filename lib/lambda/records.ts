// What the stack remembers of its runs, in the state table (state.ts). Every partition key is a named
// prefix, so that each kind of record lives apart and an IAM condition can name the ones a function may use:
//   event#<event id>   sk `report`             a kill switch's record, by its EventBridge event id (or the
//                                              request id), kept 30 days: `npm run kill-switch` waits for it
//   last               sk <operation>          the last record of each operation (killSwitch, drill, sweep, …)
//   drills             sk <ISO time>#<req id>  the recent drills, newest first, kept 30 days
//   signature#<hash>   sk `seen`               a signed request taken (SHA-256 of its x-signature), until its
//                                              timestamp leaves the skew window: each is served once (replay.ts)
//   accounts           sk `names`              the account names of the exchange secret, names only, written by
//                                              the functions that read the secret (accounts.ts)
//   dead-mans-switch   sk `turn`               the last heartbeat or disarm applied to the schedule, and the
//                                              lease of the one moving it now (heartbeat-turns.ts)
//   halt               sk <account>            an account's halt (since, origin, reason, event id), kept until
//                      sk <account>#key#<sha>  a reset; and each key it made read-only, with its prior state
//                                              (lib/lambda/halts.ts): one Query lists every halt, and an IAM
//                                              `dynamodb:LeadingKeys` condition names the partition exactly
//   telegram-update#<update id>  sk `update`  a Telegram update acted on (Telegram redelivers), kept 2 days
//   nonce#<nonce>      sk `confirmation`      what a Telegram confirmation asks (its buttons carry the nonce)
//                      sk `used`              written once, by the press that acts on it

import type { Operation } from './metrics.ts';
import type { StateKey } from './state.ts';

export const PARTITIONS = {
  event: 'event#',
  last: 'last',
  drills: 'drills',
  signature: 'signature#',
  accounts: 'accounts',
  deadMansSwitch: 'dead-mans-switch',
  halt: 'halt',
  telegramUpdate: 'telegram-update#',
  nonce: 'nonce#',
} as const;

const DAY_SECONDS = 86_400;
/** How long a kill switch's record and a drill's stay findable. */
export const RECORD_TTL_SECONDS = 30 * DAY_SECONDS;

/** The sort key of a kill switch's record in its event partition. */
const EVENT_REPORT = 'report';

/** Between an account and a key's fingerprint in the sort key of a halted key. */
const HALT_KEY_INFIX = '#key#';

export const recordKeys = {
  /** A kill switch's record by the id of the event that fired it (or the invocation's request id). */
  event: (id: string): StateKey => ({ pk: `${PARTITIONS.event}${id}`, sk: EVENT_REPORT }),
  /** The last record of an operation. */
  last: (operation: Operation): StateKey => ({ pk: PARTITIONS.last, sk: operation }),
  /** One drill, sorted by time. */
  drill: (at: string, requestId: string): StateKey => ({ pk: PARTITIONS.drills, sk: `${at}#${requestId}` }),
  /** A signed request already taken, by the SHA-256 of its signature (never the signature itself). */
  signature: (hash: string): StateKey => ({ pk: `${PARTITIONS.signature}${hash}`, sk: 'seen' }),
  /** The account names of the exchange secret. */
  accounts: (): StateKey => ({ pk: PARTITIONS.accounts, sk: 'names' }),
  /** The order of the dead man's switch's heartbeats and disarms. */
  heartbeatTurn: (): StateKey => ({ pk: PARTITIONS.deadMansSwitch, sk: 'turn' }),
  /** An account's halt. */
  halt: (account: string): StateKey => ({ pk: PARTITIONS.halt, sk: account }),
  /** A key the account's halt made read-only, by the SHA-256 of the key (never the key itself). */
  haltKey: (account: string, fingerprint: string): StateKey => ({
    pk: PARTITIONS.halt,
    sk: `${account}${HALT_KEY_INFIX}${fingerprint}`,
  }),
  /** A Telegram update by its update_id: written once, before the update is acted on. */
  telegramUpdate: (updateId: number): StateKey => ({
    pk: `${PARTITIONS.telegramUpdate}${updateId}`,
    sk: 'update',
  }),
  /** What a Telegram confirmation asks, by the nonce its buttons carry. */
  confirmation: (nonce: string): StateKey => ({ pk: `${PARTITIONS.nonce}${nonce}`, sk: 'confirmation' }),
  /** Written once (put if absent) by the press that acts on a confirmation: a second press finds it. */
  confirmationUsed: (nonce: string): StateKey => ({ pk: `${PARTITIONS.nonce}${nonce}`, sk: 'used' }),
};

/** One run as the stack remembers it (and `npm run kill-switch` and the status read it). */
export interface RunRecord {
  operation: Operation;
  /** True when the run did everything it was asked: all clear, or a drill without a problem. */
  ok: boolean;
  /** When the run started (ISO). */
  at: string;
  durationMs: number;
  requestId: string;
  /** The EventBridge event that fired it, when one did. */
  eventId?: string;
  /** What started the run: `eventBridge`, `webhook`, `schedule` or `direct`. */
  trigger: string;
  /** Who fired it, when the event says (`deadMansSwitch`, `cli`). */
  origin?: string;
  reason?: string;
  functionName: string;
  /** Where its log lines are (CloudWatch Logs). */
  logGroup: string;
  /** The run's report, shortened to fit an item if it had to be; absent when the run failed before one. */
  report?: Record<string, unknown>;
  /** Why the run failed, when it did. */
  error?: { type: string; message: string };
}
