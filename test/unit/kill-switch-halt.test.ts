// What the kill switch itself says and records about the halt it starts (halt.ts does the halting; see
// halt.test.ts): which accounts it halts, the origin it records, and how a key the halt failed on is named.

import { describe, expect, it } from 'vitest';
import type { BybitClient } from '../../lib/bybit/client.ts';
import type { CancelAllParams, OpenOrdersParams, SubApiKey } from '../../lib/bybit/types.ts';
import { SettleCoinDiscovery } from '../../lib/cancel/coverage.ts';
import type { Exchange, SubAccounts } from '../../lib/cancel/exchange.ts';
import { type HaltSetup, maskKey } from '../../lib/cancel/halt.ts';
import { type KillSwitchReport, killSwitch } from '../../lib/cancel/kill-switch.ts';
import type { Coverage } from '../../lib/cancel/scopes.ts';
import type { Clock } from '../../lib/clock.ts';
import type { IncompleteCancelError } from '../../lib/errors.ts';
import { MemoryHaltStore } from '../support/halt-store.ts';

const COVERAGE: Coverage = { categories: ['spot'], linearSettleCoins: [], inverseCoins: [] };
const OWN = 'OWNKEY-desk-0000001';
const BOT = 'BOTKEY-desk-0000002';
const clock: Clock = { now: () => 1_000_000, sleep: async () => undefined };

/** An account with nothing open and no strategy. */
const emptyClient = () =>
  ({
    apiKey: OWN,
    cancelAll: async (_: CancelAllParams) => [],
    openOrders: async (params: OpenOrdersParams) => ({
      category: params.category,
      list: [],
      nextPageCursor: '',
    }),
    strategies: async () => ({ list: [], nextCursor: '' }),
  }) as unknown as BybitClient;

/** Accounts by name, each holding the kill switch's key; `subAccount`: each is a sub-account (else a master account). */
function exchangeOf(names: string[], subAccount = false): Exchange {
  const subAccounts = (): SubAccounts => ({
    subUids: new Map(subAccount ? names.map((n, i) => [n, String(100_001 + i)]) : []),
    keyOf: new Map(names.map((n) => [n, OWN])),
    ownKeys: new Set([OWN]),
  });
  return {
    discovery: new SettleCoinDiscovery({ now: () => 0 }),
    accountNames: async () => names,
    withAccount: async <T>(name: string, work: (c: BybitClient, n: string) => Promise<T>) =>
      work(emptyClient(), name),
    rotated: async () => undefined,
    subAccounts: async () => subAccounts(),
  } as unknown as Exchange;
}

/** A master account that lists the desk's keys and refuses to make any read-only. */
function refusingMaster(): BybitClient {
  const keys: SubApiKey[] = [
    { apiKey: OWN, readOnly: false, ips: ['10.0.0.1'], permissions: { Spot: ['SpotTrade'] } },
    { apiKey: BOT, readOnly: false, ips: ['10.0.0.1'], permissions: { Spot: ['SpotTrade'] } },
  ] as SubApiKey[];
  return {
    subApiKeys: async () => ({ list: structuredClone(keys), nextPageCursor: '' }),
    updateSubApiKey: async () => {
      throw new Error('permission denied');
    },
  } as unknown as BybitClient;
}

const setupOf = (store: MemoryHaltStore, master?: BybitClient): HaltSetup => ({
  store,
  master: async () => master,
});
const fail = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: IncompleteCancelError) => error,
  );

describe('the halt the kill switch starts', () => {
  it('records "killSwitch" as the origin of a kill switch that names none', async () => {
    const store = new MemoryHaltStore();
    await killSwitch(exchangeOf(['desk']), COVERAGE, {}, 10_000_000, clock, setupOf(store));
    expect(await store.get('desk')).toMatchObject({ account: 'desk', origin: 'killSwitch' });
  });

  it('halts only the accounts the secret holds, when the request names one it does not', async () => {
    const store = new MemoryHaltStore();
    const error = await fail(
      killSwitch(
        exchangeOf(['desk']),
        COVERAGE,
        { accounts: ['desk', 'ghost'] },
        10_000_000,
        clock,
        setupOf(store),
      ),
    );
    const report = error.report as unknown as KillSwitchReport;
    expect(report.failedScopes).toEqual(['ghost: *']);
    expect(report.halt?.accounts.map((a) => a.account)).toEqual(['desk']);
    expect((await store.list()).map((r) => r.account)).toEqual(['desk']);
  });

  it('names the key a halt could not make read-only, masked, in the failure', async () => {
    const error = await fail(
      killSwitch(
        exchangeOf(['desk'], true),
        COVERAGE,
        {},
        10_000_000,
        clock,
        setupOf(new MemoryHaltStore(), refusingMaster()),
      ),
    );
    expect(error.message).toMatch(/^every order was cancelled and verified, but the halt is incomplete/);
    expect(error.message).toContain(`desk: halt: key ${maskKey(BOT)}: `);
    expect(error.message).toContain('permission denied');
    expect(error.message).not.toContain(BOT);
  });
});
