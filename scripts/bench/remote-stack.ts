// The parent side of stack-process.ts: starts the local stack in a child process and calls into it.

import { type ChildProcess, fork } from 'node:child_process';
import type { EmulatorKeySettings, OrderSeed, RateLimits, StrategySeed } from '../../test/emulator/index.ts';
import type { StackAccount, StackOptions } from '../../test/support/stack.ts';

export type StackCall =
  | 'addAccount'
  | 'addOrders'
  | 'addStrategies'
  | 'liveStrategyCount'
  | 'pauseStrategy'
  | 'openCount'
  | 'setLatency'
  | 'setRateLimits'
  | 'reset'
  | 'resetRequests'
  | 'requestStats'
  | 'requestLog'
  | 'setKey';

export interface RequestStats {
  total: number;
  byPath: Record<string, number>;
  /** Answers per retCode (`http 0` when no answer was sent). */
  byRetCode: Record<string, number>;
  /** Orders carried by batch requests. */
  batchItems: number;
}

/** One request as the emulator saw it (arrival time, epoch ms). */
export interface LoggedRequest {
  at: number;
  path: string;
  apiKey?: string;
  httpStatus: number;
}

export interface RemoteStack {
  /** Environment for the functions: emulator URL, Secrets Manager endpoint, secret ids. */
  env: Record<string, string>;
  accounts: StackAccount[];
  /** The master account's key, when the stack has sub-accounts. */
  master?: StackAccount;
  /** `parentUid`: a key of a sub UID of that master. */
  addAccount(account: { uid: string; apiKey: string; apiSecret: string; parentUid?: string }): Promise<void>;
  /** Sets what a key may do (read-only, IPs, permissions), from now on. */
  setKey(apiKey: string, settings: EmulatorKeySettings): Promise<void>;
  /** Seeds orders; returns their order ids. */
  addOrders(apiKey: string, seeds: OrderSeed[]): Promise<string[]>;
  /** Seeds strategy orders; returns their ids. */
  addStrategies(apiKey: string, seeds: StrategySeed[]): Promise<string[]>;
  /** Strategies that can still trade (running, paused, untriggered), over every account. */
  liveStrategyCount(): Promise<number>;
  pauseStrategy(strategyId: string): Promise<void>;
  openCount(apiKey?: string): Promise<number>;
  setLatency(ms: number): Promise<void>;
  setRateLimits(limits: RateLimits | undefined): Promise<void>;
  /** Empties the book, request log and rate-limit windows; settings return to the start options. */
  reset(): Promise<void>;
  resetRequests(): Promise<void>;
  requestStats(apiKey?: string): Promise<RequestStats>;
  /** Every request since the last reset. */
  requestLog(): Promise<LoggedRequest[]>;
  close(): Promise<void>;
}

/** What the stack process says when it is up: the functions' environment, the accounts, the master key. */
interface Ready {
  env: Record<string, string>;
  accounts: StackAccount[];
  master?: StackAccount;
}

const READY_TIMEOUT_MS = 20_000;
const CALL_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 5_000;

/**
 * Starts test/support/stack.ts's stack in a fresh Node process (this one's binary); with `reporting`, also the
 * state table and the reports topic there (their env comes with the stack's).
 */
export async function startRemoteStack(
  options: StackOptions = {},
  { reporting = false } = {},
): Promise<RemoteStack> {
  const child = fork(new URL('./stack-process.ts', import.meta.url), [], {
    env: {
      ...process.env,
      BENCH_STACK_OPTIONS: JSON.stringify(options),
      BENCH_STACK_REPORTING: reporting ? '1' : '0',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the stack process did not start in time')),
      READY_TIMEOUT_MS,
    );
    child.on('message', (message: { id: number; ready?: never; result?: unknown; error?: string }) => {
      if (message.ready) {
        clearTimeout(timer);
        resolve(message.ready);
        return;
      }
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error !== undefined) waiter?.reject(new Error(`stack: ${message.error}`));
      else waiter?.resolve(message.result);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const error = new Error(`the stack process exited (code ${code})`);
      reject(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    });
  });
  let started: Awaited<typeof ready>;
  try {
    started = await ready;
  } catch (error) {
    stop(child);
    throw error;
  }

  const call = <T>(name: StackCall, ...args: unknown[]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`stack call ${name} timed out`));
      }, CALL_TIMEOUT_MS);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.send({ id, call: name, args });
    });

  return {
    env: started.env,
    accounts: started.accounts,
    ...(started.master ? { master: started.master } : {}),
    addAccount: (account) => call('addAccount', account),
    addOrders: (apiKey, seeds) => call('addOrders', apiKey, seeds),
    addStrategies: (apiKey, seeds) => call('addStrategies', apiKey, seeds),
    liveStrategyCount: () => call('liveStrategyCount'),
    pauseStrategy: (strategyId) => call('pauseStrategy', strategyId),
    openCount: (apiKey) => call('openCount', apiKey),
    setLatency: (ms) => call('setLatency', ms),
    setRateLimits: (limits) => call('setRateLimits', limits),
    reset: () => call('reset'),
    resetRequests: () => call('resetRequests'),
    requestStats: (apiKey) => call('requestStats', apiKey),
    requestLog: () => call('requestLog'),
    setKey: (apiKey, settings) => call('setKey', apiKey, settings),
    close: () => stop(child),
  };
}

/** Disconnecting asks the child to close its servers and exit; a child that does not is killed by its pid. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, EXIT_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.disconnect();
    else child.kill('SIGTERM');
  });
}
