// The enforced halt against the exchange emulator: a sub-account's keys made read-only beside the kill
// switch's first wave, with nothing changed but `readOnly`, written ahead into the halt record, and restored
// by a reset. The kill switch is built here with the in-memory halt store (the state table comes later).

import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { Exchange } from '../../lib/cancel/exchange.ts';
import { type HaltSetup, keyFingerprint, maskKey, resetHalt } from '../../lib/cancel/halt.ts';
import { type KillSwitchReport, killSwitch } from '../../lib/cancel/kill-switch.ts';
import type { IncompleteCancelError } from '../../lib/errors.ts';
import { loadConfig } from '../../lib/lambda/config.ts';
import { exchangeCredentials, masterKey, SecretStore } from '../../lib/lambda/secrets.ts';
import type { EmulatorKeySettings, EmulatorKeyView, RequestRecord } from '../emulator/index.ts';
import { MemoryHaltStore } from '../support/halt-store.ts';
import { runawayBot } from '../support/runaway-bot.ts';
import { registerSecret } from '../support/secret-registry.ts';
import { type LocalStack, type StackAccount, startStack } from '../support/stack.ts';

let stack: LocalStack;
let desk: StackAccount;
let master: StackAccount;

/** Bots run on keys made long ago: a key created today may be the kill switch's own, just rotated in. */
const MONTH_AGO = Date.now() - 30 * 86_400_000;

/** Keys of the desk's sub UID besides the kill switch's own: the bots, with settings of their own. */
interface Bot {
  apiKey: string;
  apiSecret: string;
  settings: EmulatorKeySettings;
}
const bots: Record<'runaway' | 'bound' | 'unbound' | 'spare', Bot> = {
  // Bound to loopback and one more address, trading permissions only.
  runaway: bot({ ips: ['127.0.0.1', '203.0.113.7'] }),
  bound: bot({ ips: ['127.0.0.1', '198.51.100.20'], permissions: { Wallet: ['AccountTransfer'] } }),
  // Bound to nothing: listed as `["*"]`, and must stay unbound.
  unbound: bot({ ips: ['*'], permissions: { Spot: ['SpotTrade'], ContractTrade: [], Options: [] } }),
  spare: bot({ ips: ['127.0.0.1'] }),
};

function bot(settings: EmulatorKeySettings): Bot {
  const apiKey = `key-bot-${randomBytes(8).toString('hex')}`;
  const apiSecret = randomBytes(18).toString('hex');
  registerSecret('apiKey', apiKey);
  registerSecret('apiSecret', apiSecret);
  return { apiKey, apiSecret, settings: { createdAt: MONTH_AGO, ...settings } };
}

beforeAll(async () => {
  stack = await startStack({ accounts: ['desk', 'fund'], subAccounts: ['desk'] });
  Object.assign(process.env, stack.env);
  desk = stack.accounts.find((a) => a.name === 'desk') as StackAccount;
  master = stack.master as StackAccount;
  for (const b of Object.values(bots)) {
    stack.emulator.addAccount({
      uid: desk.uid,
      parentUid: master.uid,
      apiKey: b.apiKey,
      apiSecret: b.apiSecret,
    });
  }
});
afterAll(() => stack.close());
/** Bots still running when a test ends (it failed midway) are stopped before the next one starts. */
const running = new Set<ReturnType<typeof runawayBot>>();
afterEach(async () => {
  await Promise.all([...running].map((b) => b.stop()));
  running.clear();
});
beforeEach(() => {
  stack.emulator.reset();
  stack.emulator.setKey(desk.apiKey, {});
  for (const b of Object.values(bots)) stack.emulator.setKey(b.apiKey, b.settings);
});

/** The exchange as the functions build it, with the master key; a secret cache of its own per test. */
function exchangeOf(): Exchange {
  const secrets = new SecretStore({ ttlMs: 60_000 });
  return new Exchange({
    credentials: exchangeCredentials(secrets, stack.exchangeSecretId),
    master: masterKey(secrets, stack.masterSecretId as string),
    client: { baseUrl: stack.emulator.url, requestTimeoutMs: 1000 },
  });
}

const scope = () => loadConfig(stack.env).scope;
const setupOf = (exchange: Exchange, store: MemoryHaltStore): HaltSetup => ({
  store,
  master: () => exchange.masterClient(),
});
const fire = (exchange: Exchange, store?: MemoryHaltStore, ms = 15_000) =>
  killSwitch(
    exchange,
    scope(),
    { accounts: ['desk'], reason: 'runaway bot' },
    Date.now() + ms,
    undefined,
    store && setupOf(exchange, store),
  );
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the kill switch to fail');
    },
    (error: IncompleteCancelError) => error,
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const settingsOf = (apiKey: string): EmulatorKeyView => stack.emulator.keySettings(apiKey);
const flipsOf = (apiKey: string) =>
  stack.emulator.requests.filter((r) => r.path === '/v5/user/update-sub-api' && r.subApiKey === apiKey);
/** The desk's open orders as the exchange lists them now, through a client of the desk's own key. */
const listed = async (exchange: Exchange) =>
  exchange.withAccount(
    'desk',
    async (client) => (await client.openOrders({ category: 'spot', limit: 50 })).list,
  );

describe('enforced halt: a runaway bot', () => {
  it('ends with 0 open orders, still 0 two seconds later, and refuses the bot after the flip; without a halt the bot leaves orders open', async () => {
    const exchange = exchangeOf();
    const order = { baseUrl: stack.emulator.url, ...bots.runaway, intervalMs: 50 };

    // Without a halt: the kill switch cancels, the bot places more.
    const unhalted = runawayBot(order);
    running.add(unhalted);
    await sleep(300);
    await fire(exchange, undefined, 5_000).catch(() => undefined);
    await sleep(2000);
    const leftOpen = stack.emulator.openOrders(desk.apiKey);
    await unhalted.stop();
    expect(leftOpen.length).toBeGreaterThan(10);
    expect(settingsOf(bots.runaway.apiKey).readOnly).toBe(false);

    // With the enforced halt: the same bot, the same kill switch.
    stack.emulator.reset();
    const store = new MemoryHaltStore();
    const runaway = runawayBot(order);
    running.add(runaway);
    await sleep(300);
    expect(stack.emulator.openOrders(desk.apiKey).length).toBeGreaterThan(0);
    const report = await fire(exchange, store);
    expect(report).toMatchObject({ ok: true, remaining: 0, failedScopes: [] });
    expect(report.scopes.every((s) => s.verified && s.remaining === 0)).toBe(true);
    expect(report.scopes.length).toBeGreaterThan(3);
    expect(stack.emulator.openOrders(desk.apiKey)).toHaveLength(0);
    await sleep(2000);
    expect(await listed(exchange)).toHaveLength(0);
    expect(stack.emulator.openOrders(desk.apiKey)).toHaveLength(0);
    const attempts = await runaway.stop();

    const requests = stack.emulator.requests;
    const flip = requests.findIndex(
      (r) => r.path === '/v5/user/update-sub-api' && r.subApiKey === bots.runaway.apiKey,
    );
    expect(flip).toBeGreaterThan(0);
    const botOrders = (from: number, to = requests.length) =>
      requests
        .slice(from, to)
        .filter((r: RequestRecord) => r.path === '/v5/order/create' && r.apiKey === bots.runaway.apiKey);
    // Placed before the flip, refused after it: every order the exchange saw after the flip.
    expect(botOrders(0, flip).some((r) => r.retCode === 0)).toBe(true);
    const after = botOrders(flip + 1);
    expect(after.length).toBeGreaterThan(10);
    expect(after.map((r) => r.retCode)).toEqual(after.map(() => 10005));
    expect(attempts.filter((a) => a.retCode === 10005).length).toBeGreaterThan(10);

    // The kill switch kept its own key; the halt says what it did, by masked ids.
    expect(settingsOf(desk.apiKey).readOnly).toBe(false);
    expect(settingsOf(bots.runaway.apiKey).readOnly).toBe(true);
    const halt = report.halt?.accounts[0];
    expect(halt).toMatchObject({
      account: 'desk',
      mode: 'enforced',
      subUid: desk.uid,
      own: [maskKey(desk.apiKey)],
      failed: [],
    });
    expect([...(halt?.flipped ?? [])].sort()).toEqual(
      [bots.runaway, bots.bound, bots.unbound, bots.spare].map((b) => maskKey(b.apiKey)).sort(),
    );
    expect(JSON.stringify(report)).not.toContain(bots.runaway.apiKey);
  });
});

describe('enforced halt: write ahead, and nothing changed but readOnly', () => {
  it('leaves every key’s ips and permissions as they were, through the flip and the reset', async () => {
    const exchange = exchangeOf();
    const store = new MemoryHaltStore();
    const keys = [bots.runaway, bots.bound, bots.unbound].map((b) => b.apiKey);
    const before = new Map(keys.map((k) => [k, settingsOf(k)]));
    expect(before.get(bots.unbound.apiKey)?.ips).toEqual(['*']);

    await fire(exchange, store);
    for (const k of keys) {
      const halted = settingsOf(k);
      expect(halted).toEqual({ ...before.get(k), readOnly: true });
    }

    const reset = await resetHalt(setupOf(exchange, store), {}, Date.now() + 10_000);
    expect(reset.ok).toBe(true);
    for (const k of keys) expect(settingsOf(k)).toEqual(before.get(k));
    expect(settingsOf(bots.unbound.apiKey).ips).toEqual(['*']);
    // Each change named the key's IPs, as listed: bound ones comma-separated, the unbound one `*`.
    expect(flipsOf(bots.unbound.apiKey)).toHaveLength(2);
  });

  it('writes each key’s prior state to the halt record before the exchange sees its flip', async () => {
    const exchange = exchangeOf();
    const order: string[] = [];
    const priorAtWrite = new Map<string, EmulatorKeyView>();
    const byFingerprint = new Map(Object.values(bots).map((b) => [keyFingerprint(b.apiKey), b.apiKey]));
    // Each write takes a round trip's time: a flip sent without waiting for it would reach the exchange first.
    const store = new MemoryHaltStore({
      latencyMs: 100,
      onWrite: (write, _account, fingerprint) => {
        const apiKey = fingerprint && byFingerprint.get(fingerprint);
        if (!apiKey) return;
        order.push(`${write} ${apiKey}`);
        if (write === 'recordKey') priorAtWrite.set(apiKey, settingsOf(apiKey));
      },
    });
    const stop = stack.emulator.onRequest((r) => {
      if (r.subApiKey) order.push(`update-sub-api ${r.subApiKey}`);
    });
    try {
      await fire(exchange, store);
    } finally {
      stop();
    }

    const flipped = Object.values(bots).map((b) => b.apiKey);
    for (const k of flipped) {
      const recorded = order.indexOf(`recordKey ${k}`);
      const sent = order.indexOf(`update-sub-api ${k}`);
      const confirmed = order.indexOf(`markFlipped ${k}`);
      expect(recorded).toBeGreaterThanOrEqual(0);
      expect(sent).toBeGreaterThan(recorded);
      expect(confirmed).toBeGreaterThan(sent);
      // When the record was written the key was still read-write: the flip had not been sent.
      expect(priorAtWrite.get(k)?.readOnly).toBe(false);
    }
    // The record holds what the key was: readOnly false, its IPs and permissions.
    const record = await store.get('desk');
    const entry = record?.keys.find((e) => e.fingerprint === keyFingerprint(bots.bound.apiKey));
    const prior = priorAtWrite.get(bots.bound.apiKey) as EmulatorKeyView;
    expect(entry).toMatchObject({
      key: maskKey(bots.bound.apiKey),
      readOnly: false,
      ips: prior.ips,
      permissions: prior.permissions,
      flipped: true,
    });
    expect(record).toMatchObject({
      account: 'desk',
      subUid: desk.uid,
      origin: 'killSwitch',
      reason: 'runaway bot',
    });
    expect(JSON.stringify(record)).not.toContain(bots.bound.apiKey);
  });

  it('sends no flip when the prior state cannot be written, and fails the run with the cancels complete', async () => {
    const exchange = exchangeOf();
    const store = new MemoryHaltStore({ failing: { recordKey: new Error('state table unavailable') } });
    stack.emulator.addOrders(desk.apiKey, [{ category: 'spot', symbol: 'BTCUSDT' }]);
    const error = await failure(fire(exchange, store));
    expect(stack.emulator.requests.filter((r) => r.path === '/v5/user/update-sub-api')).toHaveLength(0);
    expect(settingsOf(bots.runaway.apiKey).readOnly).toBe(false);
    expect(stack.emulator.openOrders(desk.apiKey)).toHaveLength(0);
    expect((error.report as unknown as KillSwitchReport).failedScopes).toEqual(['desk: halt']);
    expect(error.message).toContain('left read-write: its prior state could not be recorded');
  });
});

describe('enforced halt: a failed flip', () => {
  it('leaves the cancels complete and verified, fails the run and names the key masked', async () => {
    const exchange = exchangeOf();
    const store = new MemoryHaltStore();
    stack.emulator.addOrders(desk.apiKey, [
      { category: 'spot', symbol: 'BTCUSDT' },
      { category: 'linear', symbol: 'BTCUSDT' },
    ]);
    // The exchange refuses one flip outright (10003, not retried).
    stack.emulator.failNext('invalidKey', 1, '/v5/user/update-sub-api');
    const error = await failure(fire(exchange, store));
    const report = error.report as unknown as KillSwitchReport;

    expect(error.name).toBe('IncompleteCancelError');
    expect(error.message).toMatch(/^every order was cancelled and verified, but the halt is incomplete/);
    expect(stack.emulator.openOrders(desk.apiKey)).toHaveLength(0);
    expect(report.remaining).toBe(0);
    expect(report.scopes.every((s) => s.verified && s.remaining === 0 && !s.error)).toBe(true);
    expect(report.failedScopes).toEqual(['desk: halt']);

    const halt = report.halt?.accounts[0];
    expect(halt?.failed).toHaveLength(1);
    expect(halt?.flipped).toHaveLength(3);
    const refused = Object.values(bots).find((b) => halt?.failed[0]?.key === maskKey(b.apiKey)) as Bot;
    expect(refused).toBeDefined();
    expect(settingsOf(refused.apiKey).readOnly).toBe(false);
    expect(halt?.failed[0]?.key).toMatch(/^key-…[0-9a-f]{2}$/);
    expect(error.message).toContain(`desk: halt: key ${maskKey(refused.apiKey)}: `);
    for (const b of Object.values(bots)) {
      expect(error.message).not.toContain(b.apiKey);
      expect(JSON.stringify(report)).not.toContain(b.apiKey);
    }
  });
});

describe('enforced halt: the kill switch’s own keys', () => {
  it('never makes the kill switch’s own key read-only when the secret was just rotated to it', async () => {
    const exchange = exchangeOf();
    // This container read the secret before the rotation, and keeps it cached.
    expect(await exchange.accountNames()).toEqual(['desk', 'fund']);
    const rotated = {
      apiKey: `key-desk-new-${randomBytes(6).toString('hex')}`,
      apiSecret: randomBytes(18).toString('hex'),
    };
    registerSecret('apiKey', rotated.apiKey);
    registerSecret('apiSecret', rotated.apiSecret);
    stack.emulator.addAccount({ uid: desk.uid, parentUid: master.uid, ...rotated });
    stack.secrets.put(stack.exchangeSecretId, {
      accounts: {
        desk: { ...rotated, subUid: desk.uid },
        fund: { apiKey: stack.accounts[1]?.apiKey, apiSecret: stack.accounts[1]?.apiSecret },
      },
    });
    try {
      const report = await fire(exchange, new MemoryHaltStore());
      expect(settingsOf(rotated.apiKey).readOnly).toBe(false);
      expect(settingsOf(desk.apiKey).readOnly).toBe(false);
      expect(report.halt?.accounts[0]?.own.sort()).toEqual(
        [maskKey(desk.apiKey), maskKey(rotated.apiKey)].sort(),
      );
      expect(report.halt?.accounts[0]?.flipped).toHaveLength(4);
    } finally {
      stack.writeExchangeSecret();
      stack.emulator.revokeKey(rotated.apiKey);
    }
  });

  it('makes no key read-only when the secret names the wrong sub UID', async () => {
    const exchange = exchangeOf();
    const store = new MemoryHaltStore();
    // `fund` is not a sub-account of this master: desk's key is not in its listing.
    stack.secrets.put(stack.exchangeSecretId, {
      accounts: { desk: { apiKey: desk.apiKey, apiSecret: desk.apiSecret, subUid: '100099' } },
    });
    stack.emulator.addAccount({
      uid: '100099',
      parentUid: master.uid,
      apiKey: `key-other-${randomBytes(6).toString('hex')}`,
      apiSecret: 'x'.repeat(20),
    });
    try {
      const error = await failure(fire(exchange, store));
      expect(error.message).toContain("the account's key is not among the keys of sub UID 100099");
      expect(stack.emulator.requests.filter((r) => r.path === '/v5/user/update-sub-api')).toHaveLength(0);
    } finally {
      stack.writeExchangeSecret();
    }
  });
});

describe('reset', () => {
  it('restores only the keys the halt flipped, leaves hand-changed ones alone, and a second reset is a no-op', async () => {
    const exchange = exchangeOf();
    const store = new MemoryHaltStore();
    // Read-only before the halt: not the halt's to restore.
    stack.emulator.setKey(bots.spare.apiKey, { ...bots.spare.settings, readOnly: true });
    const report = await fire(exchange, store);
    expect(report.halt?.accounts[0]?.alreadyReadOnly).toEqual([maskKey(bots.spare.apiKey)]);
    expect(report.halt?.accounts[0]?.flipped).toHaveLength(3);

    // By hand, meanwhile: one key made read-write again, one given other IPs.
    stack.emulator.setKey(bots.bound.apiKey, { ...bots.bound.settings, readOnly: false });
    stack.emulator.setKey(bots.unbound.apiKey, {
      ...bots.unbound.settings,
      readOnly: true,
      ips: ['127.0.0.1'],
    });
    const untouched = [bots.bound, bots.unbound, bots.spare].map((b) => settingsOf(b.apiKey));
    stack.emulator.resetRequests();

    const setup = setupOf(exchange, store);
    const first = await resetHalt(setup, {}, Date.now() + 10_000);
    expect(first).toMatchObject({ operation: 'reset', ok: true });
    expect(first.accounts).toEqual([
      {
        account: 'desk',
        restored: [maskKey(bots.runaway.apiKey)],
        leftAlone: expect.arrayContaining([
          { key: maskKey(bots.bound.apiKey), error: 'made read-write by hand since the halt' },
          {
            key: maskKey(bots.unbound.apiKey),
            error: 'its IPs or permissions were changed by hand since the halt: left read-only',
          },
        ]),
        failed: [],
        cleared: true,
      },
    ]);
    expect(first.accounts[0]?.leftAlone).toHaveLength(2);
    expect(settingsOf(bots.runaway.apiKey).readOnly).toBe(false);
    expect([bots.bound, bots.unbound, bots.spare].map((b) => settingsOf(b.apiKey))).toEqual(untouched);
    expect(stack.emulator.requests.filter((r) => r.path === '/v5/user/update-sub-api')).toHaveLength(1);
    expect(await store.get('desk')).toBeUndefined();

    stack.emulator.resetRequests();
    const second = await resetHalt(setup, {}, Date.now() + 10_000);
    expect(second).toEqual({
      operation: 'reset',
      ok: true,
      message: 'nothing to reset: no account is halted',
      accounts: [],
    });
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it('restores a key recorded but never confirmed flipped (a crash after the flip was sent)', async () => {
    const exchange = exchangeOf();
    const crashed = new MemoryHaltStore({ failing: { markFlipped: new Error('the function was killed') } });
    const before = Object.values(bots).map((b) => settingsOf(b.apiKey));
    await failure(fire(exchange, crashed));
    expect(settingsOf(bots.runaway.apiKey).readOnly).toBe(true);
    expect((await crashed.get('desk'))?.keys.every((k) => !k.flipped)).toBe(true);

    const reset = await resetHalt(setupOf(exchange, crashed), {}, Date.now() + 10_000);
    expect(reset.accounts[0]?.restored).toHaveLength(4);
    expect(Object.values(bots).map((b) => settingsOf(b.apiKey))).toEqual(before);
  });
});

describe('halt: false and accounts without a sub UID', () => {
  it('sets no halt on a routine clean-up, and says so', async () => {
    const exchange = exchangeOf();
    const store = new MemoryHaltStore();
    const report = await killSwitch(
      exchange,
      scope(),
      { accounts: ['desk'], halt: false },
      Date.now() + 10_000,
      undefined,
      setupOf(exchange, store),
    );
    expect(report.halt).toEqual({ set: false, why: 'the kill switch said "halt": false', accounts: [] });
    expect(store.writes).toEqual([]);
    expect(settingsOf(bots.runaway.apiKey).readOnly).toBe(false);
  });

  it('gives the master account’s own account the cooperative halt only', async () => {
    const exchange = exchangeOf();
    const store = new MemoryHaltStore();
    const report = await killSwitch(
      exchange,
      scope(),
      { accounts: ['fund'], origin: 'deadMansSwitch', halt: false },
      Date.now() + 10_000,
      undefined,
      setupOf(exchange, store),
    );
    expect(report.halt?.accounts).toEqual([
      {
        account: 'fund',
        mode: 'cooperative',
        why: 'the exchange secret names no subUid for this account',
        since: expect.any(String),
        flipped: [],
        alreadyReadOnly: [],
        own: [],
        failed: [],
      },
    ]);
    expect(await store.get('fund')).toMatchObject({ account: 'fund', origin: 'deadMansSwitch', keys: [] });
    expect(stack.emulator.requests.filter((r) => r.path.startsWith('/v5/user/'))).toHaveLength(0);
  });
});

describe('the master key as a client', () => {
  it('lists a sub UID’s keys page by page', async () => {
    const client = new BybitClient({
      credentials: { apiKey: master.apiKey, apiSecret: master.apiSecret as string },
      baseUrl: stack.emulator.url,
    });
    const first = await client.subApiKeys({ subMemberId: desk.uid, limit: 2 });
    expect(first.list).toHaveLength(2);
    expect(first.nextPageCursor).not.toBe('');
    const rest = await client.subApiKeys({ subMemberId: desk.uid, limit: 20, cursor: first.nextPageCursor });
    const all = [...first.list, ...rest.list].map((k) => k.apiKey).sort();
    expect(all).toEqual([desk.apiKey, ...Object.values(bots).map((b) => b.apiKey)].sort());
    expect(rest.nextPageCursor).toBe('');
  });
});
