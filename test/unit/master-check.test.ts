import { describe, expect, it } from 'vitest';
import type { BybitClient, CallOptions } from '../../lib/bybit/client.ts';
import type { Exchange } from '../../lib/cancel/exchange.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Answered, LambdaFunctions } from '../../lib/lambda/functions.ts';
import { MASTER_CHECK, masterCheckOf, remoteMasterCheck } from '../../lib/lambda/master-check.ts';

const NOW = 1_800_000_000_000;
const DAY_MS = 86_400_000;
const clock: Clock = { now: () => NOW, sleep: async () => {} };
const request = { subAccounts: [], ownKeys: ['fp-own'] };

/** Functions that record each run and answer `answer`. */
function fakeFunctions(answer: Answered | Error) {
  const runs: { name: string; payload: unknown; until: number }[] = [];
  const functions = {
    run: async (name: string, payload: unknown, until: number) => {
      runs.push({ name, payload, until });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as LambdaFunctions;
  return { functions, runs };
}

const unusedExchange = {
  masterClient: async () => {
    throw new Error('the remote check must not read the master key here');
  },
} as unknown as Exchange;

describe('masterCheckOf', () => {
  it('asks the named function, never the local master key', async () => {
    const { functions, runs } = fakeFunctions({ result: { configured: false, accounts: [] } });
    const check = masterCheckOf({
      exchange: unusedExchange,
      expiryDays: 14,
      clock,
      functionName: 'bybit-cancel-reset',
      functions,
    });

    const result = await check(request, { deadline: NOW + 9000 });

    expect(result).toEqual({ configured: false, accounts: [] });
    expect(runs).toEqual([
      { name: 'bybit-cancel-reset', payload: { check: 'master', ...request }, until: NOW + 9000 },
    ]);
  });

  it('checks in process when no function is named: no master key, nothing configured', async () => {
    const { functions, runs } = fakeFunctions(new Error('no remote call expected'));
    const exchange = { masterClient: async () => undefined } as unknown as Exchange;
    const check = masterCheckOf({ exchange, expiryDays: 14, clock, functionName: '', functions });

    expect(await check(request, { deadline: NOW + 9000 })).toEqual({ configured: false, accounts: [] });
    expect(runs).toHaveLength(0);
  });

  it('checks in process with its expiry period, deadline and clock', async () => {
    const calls: CallOptions[] = [];
    const client = {
      apiKeyInfo: async (call: CallOptions) => {
        calls.push(call);
        return {
          isMaster: true,
          parentUid: '0',
          readOnly: 0,
          permissions: { Wallet: ['AccountTransfer'] },
          ips: ['203.0.113.7'],
          deadlineDay: 5,
        };
      },
    } as unknown as BybitClient;
    const exchange = { masterClient: async () => client } as unknown as Exchange;
    const options = { exchange, clock, functionName: '', functions: fakeFunctions({}).functions };

    const within = await masterCheckOf({ ...options, expiryDays: 6 })(request, { deadline: NOW + 7000 });
    const beyond = await masterCheckOf({ ...options, expiryDays: 4 })(request, { deadline: NOW + 7000 });

    const day = new Date(NOW + 5 * DAY_MS).toISOString().slice(0, 10);
    expect(within.master?.problems).toEqual([
      { code: 'masterExpiresSoon', message: `the key expires on ${day}, within the 6-day warning period` },
    ]);
    expect(beyond.master?.problems).toEqual([]);
    expect(calls.map((c) => c.deadline)).toEqual([NOW + 7000, NOW + 7000]);
  });
});

describe('remoteMasterCheck', () => {
  it('sends the check with the request, and answers the result as it came', async () => {
    const result = {
      configured: true,
      master: { ok: true, problems: [], warnings: [], walletPermissions: ['AccountTransfer'] },
      accounts: [{ account: 'sub', problems: [] }],
    };
    const { functions, runs } = fakeFunctions({ result, requestId: 'r' });

    const answered = await remoteMasterCheck('reset-fn', functions)(request, { deadline: NOW + 1 });

    expect(answered).toEqual(result);
    expect(MASTER_CHECK).toBe('master');
    expect(runs[0]?.payload).toEqual({ check: 'master', subAccounts: [], ownKeys: ['fp-own'] });
  });

  it('gives the call 30 s from now when it has no deadline', async () => {
    const { functions, runs } = fakeFunctions({ result: { configured: false, accounts: [] } });
    const before = Date.now();

    await remoteMasterCheck('reset-fn', functions)(request, {});

    const after = Date.now();
    expect(runs[0]?.until).toBeGreaterThanOrEqual(before + 30_000);
    expect(runs[0]?.until).toBeLessThanOrEqual(after + 30_000);
  });

  it("throws the function's error with its type and message", async () => {
    const { functions } = fakeFunctions({ error: { type: 'SecretError', message: 'secret m: unreadable' } });

    await expect(remoteMasterCheck('reset-fn', functions)(request, { deadline: NOW })).rejects.toThrow(
      new Error('reset-fn failed: SecretError: secret m: unreadable'),
    );
  });

  it.each([
    ['no result', {}],
    ['a result that is not an object', { result: 'ok' }],
    ['no configured flag', { result: { accounts: [] } }],
    ['a configured flag that is not a boolean', { result: { configured: 'true', accounts: [] } }],
    ['no accounts', { result: { configured: true } }],
    ['accounts that are not a list', { result: { configured: true, accounts: {} } }],
  ])('refuses an answer with %s', async (_what, answer) => {
    const { functions } = fakeFunctions(answer as Answered);

    await expect(remoteMasterCheck('reset-fn', functions)(request, { deadline: NOW })).rejects.toThrow(
      new Error("reset-fn answered without the check's fields"),
    );
  });
});
