import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import {
  type Config,
  initializationType,
  loadConfig,
  readSettings,
  settingProblems,
  settingsFor,
} from '../../lib/lambda/config.ts';

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

  it('reads the master secret of the enforced halt, none by default', () => {
    expect(loadConfig({}).haltMasterSecretId).toBe('');
    expect(loadConfig({ HALT_MASTER_SECRET_ID: ' bybit-cancel/prod/master ' }).haltMasterSecretId).toBe(
      'bybit-cancel/prod/master',
    );
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

  it('never fails the status, the drill start or Telegram on an exchange setting: they do not reach the exchange', () => {
    const { problems } = readSettings(env);
    for (const reader of ['status', 'drillStart', 'telegram'] as const) {
      expect(settingsFor(problems, reader)).toEqual(problems);
    }
    expect(() => settingsFor(problems, 'reset')).toThrow('BYBIT_IP_REQUESTS_PER_5S: "4000"');
  });

  it('covers every category when SCOPE_CATEGORIES is malformed, and names the setting', () => {
    const { config, problems } = readSettings({ SCOPE_CATEGORIES: 'linear,futures' });
    expect(config.scope.categories).toEqual(['linear', 'inverse', 'spot', 'option']);
    expect(problems).toEqual([
      {
        setting: 'SCOPE_CATEGORIES',
        message: 'SCOPE_CATEGORIES: unknown category "futures" (expected linear, inverse, spot, option)',
      },
    ]);
  });

  it('still throws, naming every malformed setting, from loadConfig (tools and tests)', () => {
    expect(() => loadConfig(env)).toThrow(
      /BYBIT_IP_REQUESTS_PER_5S: "4000".*; WEBHOOK_ALLOWED_SOURCE_IPS: .*; STALE_ORDER_MAX_AGE_SECONDS: "1h"/,
    );
  });
});
describe('every setting', () => {
  // Each variable with a value other than its default, and where that value lands.
  it.each([
    ['BYBIT_SECRET_ID', 'prod/bybit', (c: Config) => c.bybitSecretId, 'prod/bybit'],
    ['WEBHOOK_SECRET_ID', 'prod/webhook', (c: Config) => c.webhookSecretId, 'prod/webhook'],
    ['BYBIT_BASE_URL', 'http://127.0.0.1:9000', (c: Config) => c.baseUrl, 'http://127.0.0.1:9000'],
    ['BYBIT_RECV_WINDOW', '20000', (c: Config) => c.recvWindow, 20_000],
    ['BYBIT_REQUEST_TIMEOUT_MS', '2500', (c: Config) => c.requestTimeoutMs, 2500],
    ['BYBIT_MAX_ATTEMPTS', '7', (c: Config) => c.maxAttempts, 7],
    ['SECRET_CACHE_TTL_SECONDS', '0', (c: Config) => c.secretCacheTtlMs, 0],
    ['DEADLINE_MARGIN_MS', '900', (c: Config) => c.deadlineMarginMs, 900],
    ['WEBHOOK_MAX_SKEW_SECONDS', '30', (c: Config) => c.webhookMaxSkewMs, 30_000],
    ['MAX_BODY_BYTES', '4096', (c: Config) => c.maxBodyBytes, 4096],
    ['SCOPE_LINEAR_SETTLE_COINS', 'usdt', (c: Config) => c.scope.linearSettleCoins, ['USDT']],
    ['STALE_ORDER_LINK_ID_PREFIX', 'bot-', (c: Config) => c.sweep.linkIdPrefix, 'bot-'],
    ['SWEEP_DRY_RUN', 'yes', (c: Config) => c.sweep.dryRun, true],
    ['KILL_SWITCH_SOURCE', 'my.source', (c: Config) => c.killSwitch.source, 'my.source'],
    ['KILL_SWITCH_DETAIL_TYPE', 'Stop', (c: Config) => c.killSwitch.detailType, 'Stop'],
    ['LOG_LEVEL', 'debug', (c: Config) => c.logLevel, 'debug'],
    ['METRICS_NAMESPACE', 'Desk', (c: Config) => c.metricsNamespace, 'Desk'],
    ['STAGE', 'prod', (c: Config) => c.deadMansSwitch.scheduleName, 'bybit-cancel-prod-dead-mans-switch'],
    ['DEAD_MANS_SWITCH_SECONDS', '600', (c: Config) => c.deadMansSwitch.defaultTtlSeconds, 600],
    ['DEAD_MANS_SWITCH_BUS_ARN', 'arn:bus', (c: Config) => c.deadMansSwitch.busArn, 'arn:bus'],
    ['DEAD_MANS_SWITCH_ROLE_ARN', 'arn:role', (c: Config) => c.deadMansSwitch.roleArn, 'arn:role'],
    ['DEAD_MANS_SWITCH_DLQ_ARN', 'arn:dlq', (c: Config) => c.deadMansSwitch.deadLetterArn, 'arn:dlq'],
    ['MASTER_KEY_CHECK_FUNCTION', 'check-fn', (c: Config) => c.masterKeyCheckFunction, 'check-fn'],
    ['WEBHOOK_LEGACY_SIGNATURE', 'false', (c: Config) => c.webhookLegacySignature, false],
    ['DRILL_FUNCTION_NAME', 'drill-fn', (c: Config) => c.drill.functionName, 'drill-fn'],
    ['REPORTS_TOPIC_ARN', 'arn:topic', (c: Config) => c.notify.topicArn, 'arn:topic'],
    ['NOTIFY_TIMEOUT_MS', '500', (c: Config) => c.notify.timeoutMs, 500],
  ])('reads %s=%s', (name, value, field, expected) => {
    expect(field(loadConfig({ [name]: value }))).toEqual(expected);
    expect(field(loadConfig({}))).not.toEqual(expected);
  });

  it('leaves every id and ARN empty when unset, and names the default schedule group', () => {
    const config = loadConfig({});
    expect([config.bybitSecretId, config.webhookSecretId, config.masterKeyCheckFunction]).toEqual([
      '',
      '',
      '',
    ]);
    expect(config.deadMansSwitch).toEqual({
      defaultTtlSeconds: 300,
      scheduleName: 'bybit-cancel-dev-dead-mans-switch',
      groupName: 'default',
      busArn: '',
      roleArn: '',
      deadLetterArn: '',
    });
    expect(config).toMatchObject({
      requestTimeoutMs: 5000,
      maxAttempts: 5,
      deadlineMarginMs: 1500,
      webhookMaxSkewMs: 300_000,
      webhookPassphraseMode: false,
      logLevel: 'info',
      metricsNamespace: 'BybitCancel',
      sweep: { maxAgeMs: 3_600_000, linkIdPrefix: '', dryRun: false },
    });
  });

  it('takes a value that is empty or only spaces as unset, and trims the rest', () => {
    expect(loadConfig({ BYBIT_RECV_WINDOW: '', STALE_ORDER_LINK_ID_PREFIX: '   ' })).toMatchObject({
      recvWindow: 5000,
      sweep: { linkIdPrefix: '' },
    });
    expect(loadConfig({ BYBIT_RECV_WINDOW: ' 7000 ', METRICS_NAMESPACE: ' Desk ' })).toMatchObject({
      recvWindow: 7000,
      metricsNamespace: 'Desk',
    });
  });

  it.each([
    ['BYBIT_RECV_WINDOW', 1, 60_000],
    ['BYBIT_REQUEST_TIMEOUT_MS', 100, 60_000],
    ['BYBIT_MAX_ATTEMPTS', 1, 20],
    ['SECRET_CACHE_TTL_SECONDS', 0, 86_400],
    ['DEADLINE_MARGIN_MS', 0, 60_000],
    ['WEBHOOK_MAX_SKEW_SECONDS', 1, 3600],
    ['MAX_BODY_BYTES', 256, 1024 * 1024],
    ['STALE_ORDER_MAX_AGE_SECONDS', 1, 365 * 86_400],
    ['DEAD_MANS_SWITCH_SECONDS', 120, 86_400],
    ['KILL_SWITCH_DRILL_EXPIRY_DAYS', 0, 365],
    ['BYBIT_IP_REQUESTS_PER_5S', 1, 600],
  ])('takes %s from %i to %i and nothing outside, nor a fraction', (name, min, max) => {
    expect(() => loadConfig({ [name]: String(min) })).not.toThrow();
    expect(() => loadConfig({ [name]: String(max) })).not.toThrow();
    for (const value of [min - 1, max + 1, min + 0.5]) {
      expect(() => loadConfig({ [name]: String(value) })).toThrow(
        `${name}: "${value}" is not an integer from ${min} to ${max}`,
      );
    }
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['no', false],
  ])('reads the boolean %s as %s', (value, expected) => {
    expect(loadConfig({ WEBHOOK_PASSPHRASE_MODE: value }).webhookPassphraseMode).toBe(expected);
    expect(loadConfig({ SWEEP_DRY_RUN: value }).sweep.dryRun).toBe(expected);
  });

  it('reads a list item by item: trimmed, empty items dropped', () => {
    expect(loadConfig({ SCOPE_INVERSE_COINS: ' btc , ,eth,' }).scope.inverseCoins).toEqual(['BTC', 'ETH']);
    expect(loadConfig({ SCOPE_CATEGORIES: 'spot,,option ' }).scope.categories).toEqual(['spot', 'option']);
  });

  it('strips every trailing slash of the base URL and takes http or https only', () => {
    expect(loadConfig({ BYBIT_BASE_URL: 'https://api.bybit.com///' }).baseUrl).toBe('https://api.bybit.com');
    expect(loadConfig({ BYBIT_BASE_URL: 'http://localhost:9000/' }).baseUrl).toBe('http://localhost:9000');
    for (const url of [
      'not a url',
      'ws://api.bybit.com',
      'xhttps://api.bybit.com',
      'httpx://api.bybit.com',
    ]) {
      expect(() => loadConfig({ BYBIT_BASE_URL: url })).toThrow(
        `BYBIT_BASE_URL: "${url}" is not an http(s) URL`,
      );
    }
  });

  it('names what it expected in the message of a bad category or log level', () => {
    expect(() => loadConfig({ SCOPE_CATEGORIES: 'futures' })).toThrow(
      'SCOPE_CATEGORIES: unknown category "futures" (expected linear, inverse, spot, option)',
    );
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(
      'LOG_LEVEL: "loud" is not one of debug, info, warn, error',
    );
    expect(() => loadConfig({ SWEEP_DRY_RUN: 'maybe' })).toThrow(
      'SWEEP_DRY_RUN: "maybe" is not true or false',
    );
  });
});

describe('WEBHOOK_ALLOWED_SOURCE_IPS ranges', () => {
  it.each(['203.0.113.7/32', '203.0.113.0/0', '2001:db8::1/128', '::/0'])('takes "%s"', (entry) => {
    expect(loadConfig({ WEBHOOK_ALLOWED_SOURCE_IPS: entry }).webhookAllowedSourceIps).toEqual([entry]);
  });

  it.each([
    '203.0.113.0/a',
    '203.0.113.0/1a',
    '203.0.113.0/a1',
    '2001:db8::/1234',
    '203.0.113.0/-1',
    // Numbers JavaScript reads, but not a prefix length as written.
    '203.0.113.0/1e1',
    '203.0.113.0/0x10',
  ])('refuses "%s", naming it', (entry) => {
    expect(() => loadConfig({ WEBHOOK_ALLOWED_SOURCE_IPS: entry })).toThrow(
      `WEBHOOK_ALLOWED_SOURCE_IPS: "${entry}" is not an IP address or CIDR range`,
    );
  });
});

describe('initializationType', () => {
  it('is on-demand unless Lambda says otherwise, a blank value included', () => {
    expect(initializationType({})).toBe('on-demand');
    expect(initializationType({ AWS_LAMBDA_INITIALIZATION_TYPE: '  ' })).toBe('on-demand');
    expect(initializationType({ AWS_LAMBDA_INITIALIZATION_TYPE: ' provisioned-concurrency ' })).toBe(
      'provisioned-concurrency',
    );
  });
});
