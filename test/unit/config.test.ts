import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import { loadConfig, readSettings, settingProblems, settingsFor } from '../../lib/lambda/config.ts';

describe('loadConfig', () => {
  it('applies the named defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.baseUrl).toBe('https://api.bybit.com');
    expect(config.recvWindow).toBe(5000);
    expect(config.secretCacheTtlMs).toBe(300_000);
    expect(config.maxBodyBytes).toBe(16 * 1024);
    expect(config.scope).toEqual({
      categories: ['linear', 'inverse', 'spot', 'option'],
      linearSettleCoins: ['USDT', 'USDC'],
      inverseCoins: ['BTC', 'ETH'],
    });
    expect(config.killSwitch).toEqual({ source: 'bybit.killswitch', detailType: 'Kill Switch' });
  });

  it("reads the drill's expiry period, 14 days by default, and refuses one that is not a day count", () => {
    expect(loadConfig({}).drill).toEqual({ expiryDays: 14, functionName: '' });
    expect(loadConfig({ KILL_SWITCH_DRILL_EXPIRY_DAYS: '30' }).drill.expiryDays).toBe(30);
    expect(() => loadConfig({ KILL_SWITCH_DRILL_EXPIRY_DAYS: '2w' })).toThrow(
      'KILL_SWITCH_DRILL_EXPIRY_DAYS: "2w" is not an integer from 0 to 365',
    );
  });

  it('reads every kind of value', () => {
    const config = loadConfig({
      BYBIT_BASE_URL: 'https://api-testnet.bybit.com/',
      WEBHOOK_PASSPHRASE_MODE: 'true',
      SCOPE_CATEGORIES: 'linear, spot',
      SCOPE_INVERSE_COINS: 'btc,xrp',
      STALE_ORDER_MAX_AGE_SECONDS: '600',
    });
    expect(config.baseUrl).toBe('https://api-testnet.bybit.com');
    expect(config.webhookPassphraseMode).toBe(true);
    expect(config.scope.categories).toEqual(['linear', 'spot']);
    expect(config.scope.inverseCoins).toEqual(['BTC', 'XRP']);
    expect(config.sweep.maxAgeMs).toBe(600_000);
  });

  it.each([
    ['BYBIT_RECV_WINDOW', 'fast'],
    ['BYBIT_BASE_URL', 'ftp://example.com'],
    ['SWEEP_DRY_RUN', 'maybe'],
    ['SCOPE_CATEGORIES', 'linear,futures'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe('BYBIT_IP_REQUESTS_PER_5S', () => {
  it('defaults to a share with clear headroom below Bybit’s 600 per 5 s', () => {
    const { ipRequestsPer5s } = loadConfig({});
    expect(ipRequestsPer5s).toBe(400);
    expect(ipRequestsPer5s).toBeLessThanOrEqual(0.75 * 600);
  });

  it('takes a smaller share, and refuses one that alone could earn the IP a ban', () => {
    expect(loadConfig({ BYBIT_IP_REQUESTS_PER_5S: '40' }).ipRequestsPer5s).toBe(40);
    expect(() => loadConfig({ BYBIT_IP_REQUESTS_PER_5S: '601' })).toThrow(ConfigError);
    expect(() => loadConfig({ BYBIT_IP_REQUESTS_PER_5S: '0' })).toThrow(ConfigError);
  });
});

describe('WEBHOOK_ALLOWED_SOURCE_IPS', () => {
  it('is empty by default: no restriction', () => {
    expect(loadConfig({}).webhookAllowedSourceIps).toEqual([]);
  });

  it('reads addresses and CIDR ranges, IPv4 and IPv6', () => {
    const config = loadConfig({
      WEBHOOK_ALLOWED_SOURCE_IPS: '52.89.214.238, 203.0.113.0/24,2001:db8::/32,::1',
    });
    expect(config.webhookAllowedSourceIps).toEqual([
      '52.89.214.238',
      '203.0.113.0/24',
      '2001:db8::/32',
      '::1',
    ]);
  });

  it.each(['tradingview.com', '203.0.113.0/33', '2001:db8::/129', '10.0.0.1/8/1', '300.1.1.1', '10.0.0.0/'])(
    'refuses "%s" at start-up',
    (entry) => {
      expect(() => loadConfig({ WEBHOOK_ALLOWED_SOURCE_IPS: entry })).toThrow(ConfigError);
    },
  );
});

describe('a malformed setting fails only what reads it', () => {
  const env = {
    WEBHOOK_ALLOWED_SOURCE_IPS: '52.89.214.238 34.212.75.30',
    STALE_ORDER_MAX_AGE_SECONDS: '1h',
    BYBIT_IP_REQUESTS_PER_5S: '4000',
  };

  it('is read as its default and named, never thrown, when the functions read their settings', () => {
    const { config, problems } = readSettings(env);
    expect(config.webhookAllowedSourceIps).toEqual([]);
    expect(config.sweep.maxAgeMs).toBe(3600_000);
    expect(config.ipRequestsPer5s).toBe(400);
    expect(problems.map((p) => p.setting)).toEqual([
      'BYBIT_IP_REQUESTS_PER_5S',
      'WEBHOOK_ALLOWED_SOURCE_IPS',
      'STALE_ORDER_MAX_AGE_SECONDS',
    ]);
    expect(settingProblems(env)).toEqual(problems);
  });

  it('fails HTTP on an HTTP setting only, the sweep on its own, every exchange operation on an exchange setting', () => {
    const { problems } = readSettings(env);
    const fails = (reader: Parameters<typeof settingsFor>[1]) => {
      try {
        settingsFor(problems, reader);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return problems.filter((p) => (error as Error).message.includes(p.message)).map((p) => p.setting);
      }
    };
    expect(fails('http')).toEqual(['WEBHOOK_ALLOWED_SOURCE_IPS']);
    expect(fails('sweep')).toEqual(['BYBIT_IP_REQUESTS_PER_5S', 'STALE_ORDER_MAX_AGE_SECONDS']);
    expect(fails('cancel')).toEqual(['BYBIT_IP_REQUESTS_PER_5S']);
    expect(fails('drill')).toEqual(['BYBIT_IP_REQUESTS_PER_5S']);
    // The heartbeat reads no exchange setting; the kill switch is never refused over a setting.
    expect(fails('heartbeat')).toEqual([]);
    expect(fails('killSwitch')).toEqual([]);
  });

  it('returns what the reader ignores: everything, for the kill switch', () => {
    const { problems } = readSettings(env);
    expect(settingsFor(problems, 'killSwitch')).toEqual(problems);
    expect(settingsFor(problems, 'heartbeat')).toEqual(problems);
    expect(settingsFor(readSettings({ DEAD_MANS_SWITCH_SECONDS: '60' }).problems, 'cancel')).toHaveLength(1);
    expect(() => settingsFor(readSettings({ DEAD_MANS_SWITCH_SECONDS: '60' }).problems, 'heartbeat')).toThrow(
      'DEAD_MANS_SWITCH_SECONDS: "60" is not an integer from 120 to 86400',
    );
  });

  it('still throws, naming every malformed setting, from loadConfig (tools and tests)', () => {
    expect(() => loadConfig(env)).toThrow(
      /BYBIT_IP_REQUESTS_PER_5S: "4000".*; WEBHOOK_ALLOWED_SOURCE_IPS: .*; STALE_ORDER_MAX_AGE_SECONDS: "1h"/,
    );
  });
});
