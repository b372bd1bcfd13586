// The drill's checks of the enforced halt, through the real drill handler against the emulator: the
// master key (the master's, allowed to change sub-account keys, IP-bound, no Withdrawal) and each
// sub-account's key listing. Read-only: the drill sends no POST.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DrillReport } from '../../lib/cancel/drill.ts';
import type { DrillFailedError } from '../../lib/errors.ts';
import { metricsOf } from '../../lib/lambda/metrics.ts';
import { lambdaContext, loadEvent } from '../support/events.ts';
import { registerSecret } from '../support/secret-registry.ts';
import { type LocalStack, type StackAccount, startStack } from '../support/stack.ts';

let stack: LocalStack;
let master: StackAccount;
let drillHandler: (event: unknown, context: unknown) => Promise<unknown>;
const BOT = { apiKey: 'key-drill-bot-5f3a9c1d2e', apiSecret: 'drill-bot-secret-0123456789' };
/** A master key may change sub keys with Account Transfer alone (docs/v5/user/modify-sub-apikey.mdx). */
const NARROW = {
  permissions: { ContractTrade: [], Spot: [], Options: [], Derivatives: [], Wallet: ['AccountTransfer'] },
};

beforeAll(async () => {
  // Secrets read afresh on every drill: one test changes the exchange secret.
  stack = await startStack({
    accounts: ['desk', 'fund'],
    subAccounts: ['desk'],
    env: { SECRET_CACHE_TTL_SECONDS: '0' },
  });
  Object.assign(process.env, stack.env);
  master = stack.master as StackAccount;
  const desk = stack.accounts.find((a) => a.name === 'desk') as StackAccount;
  registerSecret('apiKey', BOT.apiKey);
  registerSecret('apiSecret', BOT.apiSecret);
  stack.emulator.addAccount({ uid: desk.uid, parentUid: master.uid, ...BOT });
  drillHandler = (await import('../../handlers/drill.ts')).handler as typeof drillHandler;
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emulator.reset();
  stack.emulator.setKey(master.apiKey, NARROW);
});

const drill = () => drillHandler(loadEvent('drill.json'), lambdaContext()) as Promise<DrillReport>;
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the drill to fail');
    },
    (error: DrillFailedError) => error,
  );
const reportOf = (error: DrillFailedError) => error.report as unknown as DrillReport;

describe('the drill with a master key', () => {
  it('passes a narrow, IP-bound master key, and says what a halt would make read-only, sending no POST', async () => {
    const report = await drill();
    expect(report.ok).toBe(true);
    expect(report.master).toEqual({
      ok: true,
      problems: [],
      warnings: [],
      walletPermissions: ['AccountTransfer'],
    });
    const desk = report.accounts.find((a) => a.account === 'desk');
    expect(desk?.halt).toEqual({ subUid: desk?.halt?.subUid, keys: 2, wouldFlip: 1 });
    expect(desk?.halt?.subUid).toMatch(/^\d+$/);
    expect(report.accounts.find((a) => a.account === 'fund')).not.toHaveProperty('halt');
    expect(stack.emulator.requests.filter((r) => r.path === '/v5/user/sub-apikeys')).toHaveLength(1);
    expect(stack.emulator.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('reports a master key with the Withdrawal permission as a problem, recommending Account Transfer alone', async () => {
    stack.emulator.setKey(master.apiKey, { permissions: { ...NARROW.permissions, Wallet: ['Withdraw'] } });
    const error = await failure(drill());
    const report = reportOf(error);
    expect(report.ok).toBe(false);
    expect(report.master?.problems.map((p) => p.code)).toEqual(['masterWithdrawal']);
    expect(report.master?.problems[0]?.message).toContain('replace it with Wallet → Account Transfer only');
    expect(error.message).toContain('master key: the key holds the Withdrawal permission');
    // The problem counts in the drill's metric, as an account's would.
    expect(metricsOf({ error }, 1, 'drill').drillProblems).toBe(1);
    expect(report.accounts.every((a) => a.ok)).toBe(true);
  });

  it('reports a master key bound to no IP, or unable to change sub keys', async () => {
    stack.emulator.setKey(master.apiKey, { ...NARROW, ips: ['*'] });
    expect(reportOf(await failure(drill())).master?.problems.map((p) => p.code)).toEqual([
      'masterNotIpBound',
    ]);
    stack.emulator.setKey(master.apiKey, { permissions: { ...NARROW.permissions, Wallet: [] } });
    const lacking = reportOf(await failure(drill())).master;
    expect(lacking?.problems.map((p) => p.code)).toEqual(['masterMissingPermission']);
    expect(lacking?.problems[0]?.message).toContain('give it Account Transfer');
  });

  it('reports a sub UID whose keys do not include the account’s own key', async () => {
    const desk = stack.accounts.find((a) => a.name === 'desk') as StackAccount;
    const other = {
      uid: '100077',
      parentUid: master.uid,
      apiKey: 'key-other-sub-77aa11',
      apiSecret: 'x'.repeat(24),
    };
    stack.emulator.addAccount(other);
    stack.secrets.put(stack.exchangeSecretId, {
      accounts: { desk: { apiKey: desk.apiKey, apiSecret: desk.apiSecret, subUid: other.uid } },
    });
    try {
      const report = reportOf(await failure(drill()));
      expect(report.accounts[0]?.problems.map((p) => p.code)).toEqual(['subUidMismatch']);
      expect(report.master?.ok).toBe(true);
    } finally {
      stack.writeExchangeSecret();
    }
  });
});
