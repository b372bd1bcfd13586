// Where the running local stack can be reached. `npm start` writes it under .local/ (gitignored, mode 0600:
// it holds the generated demo webhook key) so that `npm run sign` and `npm run kill-switch -- --stage local`
// find the stack, and removes it when it stops.

import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (where serverless.yml is). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LOCAL_DIR = join(ROOT, '.local');
export const DEFAULT_STATE_FILE = join(LOCAL_DIR, 'stack.json');
/** The stage the local run uses: function names and secret ids follow it as they would when deployed. */
export const LOCAL_STAGE = 'local';

export interface LocalState {
  /** The `npm start` process. */
  pid: number;
  /** serverless-offline, leader of its own process group. */
  offlinePid: number;
  startedAt: string;
  stage: string;
  /** The HTTP API: POST /cancel, POST /cancel-all. */
  httpUrl: string;
  /** The Lambda invoke endpoint: POST /2015-03-31/functions/<name>/invocations. */
  lambdaUrl: string;
  functions: { cancel: string; cancelAll: string; drill: string; reset: string };
  emulatorUrl: string;
  secretsUrl: string;
  /** The exchange keys' secret on the local Secrets Manager endpoint (the fire drill reads it). */
  exchangeSecretId: string;
  /** The region the functions run in (what local clients sign for). */
  region: string;
  /** The Scheduler endpoint (the dead man's switch), DynamoDB (the state table), SNS and Telegram. */
  schedulerUrl: string;
  stateUrl: string;
  stateTable: string;
  snsUrl: string;
  telegramUrl: string;
  webhookSecret: string;
  maxSkewSeconds: number;
  logFile: string;
}

export function writeState(file: string, state: LocalState): void {
  mkdirSync(dirname(file), { recursive: true });
  // Written whole, then renamed: a reader never sees half a file.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(partial, file);
}

/** The state in `file`, or undefined when there is none. Throws when the file is not a state file. */
export function readState(file: string): LocalState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const state = JSON.parse(text) as Partial<LocalState>;
  if (typeof state.pid !== 'number' || typeof state.lambdaUrl !== 'string' || !state.functions) {
    throw new Error(`${file} is not a local stack file (delete it and run npm start again)`);
  }
  return state as LocalState;
}

/** The state of a running stack, or an Error explaining why there is none. */
export function runningState(file: string): LocalState | Error {
  let state: LocalState | undefined;
  try {
    state = readState(file);
  } catch (error) {
    return error as Error;
  }
  if (!state)
    return new Error(`no local stack is running (${file} does not exist): start one with npm start`);
  if (!isAlive(state.pid)) {
    return new Error(`the local stack in ${file} is not running any more (pid ${state.pid}): run npm start`);
  }
  return state;
}

/** Removes the state file if it still describes the stack of process `pid`. */
export function removeState(file: string, pid: number): void {
  try {
    if (readState(file)?.pid === pid) rmSync(file, { force: true });
  } catch {
    // A file that is not ours is left alone.
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process whose parent has not reaped it yet still answers signal 0 (Linux shows it as Z).
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
