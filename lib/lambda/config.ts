// Every setting, read and validated once, with its default named here. Nothing else reads process.env.
// A malformed setting takes its default and is named as a problem: it fails only the operations that read it
// (settingsFor), never the kill switch, which reports it as ignored; `serverless package` refuses it first.

import { isIP } from 'node:net';
import { MAINNET_URL } from '../bybit/client.ts';
import { DEFAULT_IP_REQUESTS_PER_5S } from '../bybit/ip-budget.ts';
import { CATEGORIES, type Category } from '../bybit/types.ts';
import { scheduleName, TTL_MAX_SECONDS, TTL_MIN_SECONDS } from '../cancel/dead-mans-switch.ts';
import type { Coverage } from '../cancel/scopes.ts';
import { ConfigError } from '../errors.ts';
import type { LogLevel } from '../log.ts';

export const defaults = {
  BYBIT_BASE_URL: MAINNET_URL,
  BYBIT_RECV_WINDOW: 5000,
  BYBIT_REQUEST_TIMEOUT_MS: 5000,
  BYBIT_MAX_ATTEMPTS: 5,
  BYBIT_IP_REQUESTS_PER_5S: DEFAULT_IP_REQUESTS_PER_5S,
  SECRET_CACHE_TTL_SECONDS: 300,
  DEADLINE_MARGIN_MS: 1500,
  WEBHOOK_MAX_SKEW_SECONDS: 300,
  WEBHOOK_PASSPHRASE_MODE: false,
  /** `/cancel` and `/cancel-all` also accept the signature of `<timestamp>.<body>`, made before routes were signed. */
  WEBHOOK_LEGACY_SIGNATURE: true,
  MAX_BODY_BYTES: 16 * 1024,
  SCOPE_CATEGORIES: [...CATEGORIES] as Category[],
  SCOPE_LINEAR_SETTLE_COINS: ['USDT', 'USDC'],
  SCOPE_INVERSE_COINS: ['BTC', 'ETH'],
  STALE_ORDER_MAX_AGE_SECONDS: 3600,
  STALE_ORDER_LINK_ID_PREFIX: '',
  SWEEP_DRY_RUN: false,
  KILL_SWITCH_SOURCE: 'bybit.killswitch',
  KILL_SWITCH_DETAIL_TYPE: 'Kill Switch',
  LOG_LEVEL: 'info',
  METRICS_NAMESPACE: 'BybitCancel',
  STAGE: 'dev',
  DEAD_MANS_SWITCH_SECONDS: 300,
  KILL_SWITCH_DRILL_EXPIRY_DAYS: 14,
  /** Empty: requests from any address are heard (and must still be signed). */
  WEBHOOK_ALLOWED_SOURCE_IPS: [] as string[],
  /** Empty: nothing is recorded (the deployed stack always names its table). */
  STATE_TABLE: '',
  /** Empty: no report is published (the deployed stack always names its topic). */
  REPORTS_TOPIC_ARN: '',
  /** Empty: no Telegram messages. */
  TELEGRAM_SECRET_ID: '',
  TELEGRAM_API_URL: 'https://api.telegram.org',
  /** Each notification is given up after this long; the run's own deadline can make it shorter. */
  NOTIFY_TIMEOUT_MS: 2000,
  /** Empty: the Telegram commands cannot start that function (serverless.yml names each on the telegram function). */
  TELEGRAM_FUNCTION_NAME: '',
  RESET_FUNCTION_NAME: '',
  DRILL_FUNCTION_NAME: '',
  HEARTBEAT_FUNCTION_NAME: '',
} as const;

/** EventBridge Scheduler's group for schedules that name none. */
const DEFAULT_SCHEDULE_GROUP = 'default';

export interface Config {
  /** Secrets Manager id (name or ARN) of the exchange keys. */
  bybitSecretId: string;
  /** Secrets Manager id of the webhook signing key; HTTP requests are refused without it. */
  webhookSecretId: string;
  /**
   * Secrets Manager id of the master account's key, for the enforced halt of sub-accounts (accounts of the
   * exchange secret with a `subUid`); empty: every account gets the cooperative halt only.
   */
  haltMasterSecretId: string;
  /**
   * The function the drill asks to check the master key (the reset function, which may read it); empty: the
   * check runs in this function, which must then be allowed to read the master secret.
   */
  masterKeyCheckFunction: string;
  baseUrl: string;
  recvWindow: number;
  requestTimeoutMs: number;
  maxAttempts: number;
  /** This container's share of Bybit's 600 requests per 5 s per IP, for every account and operation. */
  ipRequestsPer5s: number;
  secretCacheTtlMs: number;
  /** Time kept back from the Lambda's remaining time, to report before being killed. */
  deadlineMarginMs: number;
  webhookMaxSkewMs: number;
  webhookPassphraseMode: boolean;
  /** `/cancel` and `/cancel-all` also accept the legacy signature, which covers no route. */
  webhookLegacySignature: boolean;
  /** Addresses and CIDR ranges a webhook may come from; empty = any. */
  webhookAllowedSourceIps: string[];
  maxBodyBytes: number;
  scope: Coverage;
  sweep: { maxAgeMs: number; linkIdPrefix: string; dryRun: boolean };
  killSwitch: { source: string; detailType: string };
  logLevel: LogLevel;
  /** CloudWatch namespace of the EMF metrics (serverless.yml adds the stage). */
  metricsNamespace: string;
  deadMansSwitch: {
    /** Silence after which everything is cancelled, when a heartbeat names none. */
    defaultTtlSeconds: number;
    scheduleName: string;
    groupName: string;
    /** The bus the kill-switch rule listens on, and the role the scheduler puts the event with. */
    busArn: string;
    roleArn: string;
    deadLetterArn: string;
  };
  /**
   * The kill-switch drill: a key expiring within `expiryDays` is a problem. `functionName` is the drill
   * function, which cancelAll hands a webhook drill to (set by serverless.yml).
   */
  drill: { expiryDays: number; functionName: string };
  /** The deployment stage (`sls:stage`): names the schedule, the table and the messages. */
  stage: string;
  /** The DynamoDB state table (`bybit-cancel-<stage>-state`): reports, the last drill; empty: none. */
  stateTable: string;
  /** Where reports go to a person: the SNS topic and, optionally, Telegram. */
  notify: {
    topicArn: string;
    /** Secrets Manager id of `{botToken, chatIds}`; empty: no Telegram. */
    telegramSecretId: string;
    telegramApiUrl: string;
    timeoutMs: number;
  };
  /** The functions Telegram commands start (the telegram function's own settings), by their deployed names. */
  telegram: {
    /** The telegram function itself: it hands its slow work to itself, asynchronously. */
    functionName: string;
    resetFunction: string;
    drillFunction: string;
    heartbeatFunction: string;
  };
}

type Env = Record<string, string | undefined>;

/**
 * How Lambda is initialising this container (AWS_LAMBDA_INITIALIZATION_TYPE, set by the runtime):
 * `provisioned-concurrency` ahead of any event, `on-demand` once an event has arrived. Read apart from the
 * rest: deciding whether to warm up at init must not build (or fail) the configuration first.
 */
export function initializationType(env: Env = process.env): string {
  return env.AWS_LAMBDA_INITIALIZATION_TYPE?.trim() || 'on-demand';
}

/** A setting that could not be read: its default is in use instead. */
export interface SettingProblem {
  setting: string;
  message: string;
}

/** The configuration and the settings that could not be read. Never throws: see settingsFor. */
export function readSettings(env: Env = process.env): { config: Config; problems: SettingProblem[] } {
  const problems: SettingProblem[] = [];
  const config = readConfig(reader(env, problems));
  return { config, problems };
}

/** Reads the configuration; throws ConfigError naming every malformed setting (tools and tests). */
export function loadConfig(env: Env = process.env): Config {
  const { config, problems } = readSettings(env);
  if (problems.length > 0) throw configError(problems);
  return config;
}

/** What `serverless package` (and any check before a deploy) refuses: the same rules the functions apply. */
export function settingProblems(env: Env): SettingProblem[] {
  return readSettings(env).problems;
}

/**
 * Who reads which setting, beyond the exchange settings every operation but the heartbeat reads. A malformed
 * setting fails only the operations that read it; the kill switch reads them all, with defaults in place of
 * malformed ones, and reports those as ignored.
 */
const SETTING_GROUPS = {
  /** Every HTTP request, before anything else (the allowlist, the body limit, the signature). */
  http: [
    'WEBHOOK_MAX_SKEW_SECONDS',
    'WEBHOOK_PASSPHRASE_MODE',
    'WEBHOOK_ALLOWED_SOURCE_IPS',
    'MAX_BODY_BYTES',
  ],
  sweep: ['STALE_ORDER_MAX_AGE_SECONDS', 'SWEEP_DRY_RUN'],
  heartbeat: ['DEAD_MANS_SWITCH_SECONDS'],
  drill: ['KILL_SWITCH_DRILL_EXPIRY_DAYS'],
} as const;

/** What reads settings: the HTTP door, or an operation (`killSwitch` never fails on one). */
export type SettingsReader =
  | keyof typeof SETTING_GROUPS
  | 'cancel'
  | 'cancelAll'
  | 'killSwitch'
  | 'status'
  | 'reset'
  | 'masterCheck'
  | 'drillStart'
  | 'telegram'
  | 'unknown';

const GROUPED = new Set<string>(Object.values(SETTING_GROUPS).flat());

/**
 * Splits the problems into those `reader` cannot do without (thrown as one ConfigError) and the rest, which
 * it ignores and returns: the caller logs them, and a kill switch reports them.
 */
export function settingsFor(problems: readonly SettingProblem[], reader: SettingsReader): SettingProblem[] {
  const own = new Set<string>(
    reader in SETTING_GROUPS ? SETTING_GROUPS[reader as keyof typeof SETTING_GROUPS] : [],
  );
  // Every operation that reaches the exchange reads the exchange settings (all the ungrouped ones).
  const exchange = !['http', 'heartbeat', 'status', 'killSwitch', 'drillStart', 'telegram'].includes(reader);
  const reads = (setting: string) => own.has(setting) || (exchange && !GROUPED.has(setting));
  const fatal = problems.filter((p) => reads(p.setting));
  if (fatal.length > 0) throw configError(fatal);
  return problems.filter((p) => !reads(p.setting));
}

function configError(problems: readonly SettingProblem[]): ConfigError {
  return new ConfigError(problems.map((p) => p.message).join('; '));
}

function readConfig(read: ReturnType<typeof reader>): Config {
  return {
    bybitSecretId: read.string('BYBIT_SECRET_ID', ''),
    webhookSecretId: read.string('WEBHOOK_SECRET_ID', ''),
    haltMasterSecretId: read.string('HALT_MASTER_SECRET_ID', ''),
    masterKeyCheckFunction: read.string('MASTER_KEY_CHECK_FUNCTION', ''),
    baseUrl: read.url('BYBIT_BASE_URL', defaults.BYBIT_BASE_URL),
    recvWindow: read.integer('BYBIT_RECV_WINDOW', defaults.BYBIT_RECV_WINDOW, 1, 60_000),
    requestTimeoutMs: read.integer(
      'BYBIT_REQUEST_TIMEOUT_MS',
      defaults.BYBIT_REQUEST_TIMEOUT_MS,
      100,
      60_000,
    ),
    maxAttempts: read.integer('BYBIT_MAX_ATTEMPTS', defaults.BYBIT_MAX_ATTEMPTS, 1, 20),
    // Above 600 one container alone could earn the IP a ban.
    ipRequestsPer5s: read.integer('BYBIT_IP_REQUESTS_PER_5S', defaults.BYBIT_IP_REQUESTS_PER_5S, 1, 600),
    secretCacheTtlMs:
      read.integer('SECRET_CACHE_TTL_SECONDS', defaults.SECRET_CACHE_TTL_SECONDS, 0, 86_400) * 1000,
    deadlineMarginMs: read.integer('DEADLINE_MARGIN_MS', defaults.DEADLINE_MARGIN_MS, 0, 60_000),
    webhookMaxSkewMs:
      read.integer('WEBHOOK_MAX_SKEW_SECONDS', defaults.WEBHOOK_MAX_SKEW_SECONDS, 1, 3600) * 1000,
    webhookPassphraseMode: read.boolean('WEBHOOK_PASSPHRASE_MODE', defaults.WEBHOOK_PASSPHRASE_MODE),
    webhookLegacySignature: read.boolean('WEBHOOK_LEGACY_SIGNATURE', defaults.WEBHOOK_LEGACY_SIGNATURE),
    webhookAllowedSourceIps: read.checked(
      'WEBHOOK_ALLOWED_SOURCE_IPS',
      [...defaults.WEBHOOK_ALLOWED_SOURCE_IPS],
      () => read.list('WEBHOOK_ALLOWED_SOURCE_IPS', defaults.WEBHOOK_ALLOWED_SOURCE_IPS).map(sourceRange),
    ),
    maxBodyBytes: read.integer('MAX_BODY_BYTES', defaults.MAX_BODY_BYTES, 256, 1024 * 1024),
    scope: {
      categories: read.checked('SCOPE_CATEGORIES', [...defaults.SCOPE_CATEGORIES], () =>
        read.list('SCOPE_CATEGORIES', defaults.SCOPE_CATEGORIES).map(category),
      ),
      linearSettleCoins: read
        .list('SCOPE_LINEAR_SETTLE_COINS', defaults.SCOPE_LINEAR_SETTLE_COINS)
        .map(upper),
      inverseCoins: read.list('SCOPE_INVERSE_COINS', defaults.SCOPE_INVERSE_COINS).map(upper),
    },
    sweep: {
      maxAgeMs:
        read.integer('STALE_ORDER_MAX_AGE_SECONDS', defaults.STALE_ORDER_MAX_AGE_SECONDS, 1, 365 * 86_400) *
        1000,
      linkIdPrefix: read.string('STALE_ORDER_LINK_ID_PREFIX', defaults.STALE_ORDER_LINK_ID_PREFIX),
      dryRun: read.boolean('SWEEP_DRY_RUN', defaults.SWEEP_DRY_RUN),
    },
    killSwitch: {
      source: read.string('KILL_SWITCH_SOURCE', defaults.KILL_SWITCH_SOURCE),
      detailType: read.string('KILL_SWITCH_DETAIL_TYPE', defaults.KILL_SWITCH_DETAIL_TYPE),
    },
    logLevel: read.oneOf('LOG_LEVEL', defaults.LOG_LEVEL, ['debug', 'info', 'warn', 'error'] as const),
    metricsNamespace: read.string('METRICS_NAMESPACE', defaults.METRICS_NAMESPACE),
    deadMansSwitch: {
      defaultTtlSeconds: read.integer(
        'DEAD_MANS_SWITCH_SECONDS',
        defaults.DEAD_MANS_SWITCH_SECONDS,
        TTL_MIN_SECONDS,
        TTL_MAX_SECONDS,
      ),
      scheduleName: scheduleName(read.string('STAGE', defaults.STAGE)),
      groupName: DEFAULT_SCHEDULE_GROUP,
      busArn: read.string('DEAD_MANS_SWITCH_BUS_ARN', ''),
      roleArn: read.string('DEAD_MANS_SWITCH_ROLE_ARN', ''),
      deadLetterArn: read.string('DEAD_MANS_SWITCH_DLQ_ARN', ''),
    },
    drill: {
      expiryDays: read.integer(
        'KILL_SWITCH_DRILL_EXPIRY_DAYS',
        defaults.KILL_SWITCH_DRILL_EXPIRY_DAYS,
        0,
        365,
      ),
      functionName: read.string('DRILL_FUNCTION_NAME', ''),
    },
    stage: read.string('STAGE', defaults.STAGE),
    stateTable: read.string('STATE_TABLE', defaults.STATE_TABLE),
    notify: {
      topicArn: read.string('REPORTS_TOPIC_ARN', defaults.REPORTS_TOPIC_ARN),
      telegramSecretId: read.string('TELEGRAM_SECRET_ID', defaults.TELEGRAM_SECRET_ID),
      telegramApiUrl: read.url('TELEGRAM_API_URL', defaults.TELEGRAM_API_URL),
      timeoutMs: read.integer('NOTIFY_TIMEOUT_MS', defaults.NOTIFY_TIMEOUT_MS, 100, 10_000),
    },
    telegram: {
      functionName: read.string('TELEGRAM_FUNCTION_NAME', defaults.TELEGRAM_FUNCTION_NAME),
      resetFunction: read.string('RESET_FUNCTION_NAME', defaults.RESET_FUNCTION_NAME),
      drillFunction: read.string('DRILL_FUNCTION_NAME', defaults.DRILL_FUNCTION_NAME),
      heartbeatFunction: read.string('HEARTBEAT_FUNCTION_NAME', defaults.HEARTBEAT_FUNCTION_NAME),
    },
  };
}

function category(value: string): Category {
  if ((CATEGORIES as readonly string[]).includes(value)) return value as Category;
  throw new ConfigError(`SCOPE_CATEGORIES: unknown category "${value}" (expected ${CATEGORIES.join(', ')})`);
}

/** An IPv4 or IPv6 address, or a CIDR range of one (`203.0.113.0/24`, `2001:db8::/32`). */
function sourceRange(entry: string): string {
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  const maxBits = family === 6 ? 128 : 32;
  const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
  if (family === 0 || !validBits || extra !== undefined) {
    throw new ConfigError(`WEBHOOK_ALLOWED_SOURCE_IPS: "${entry}" is not an IP address or CIDR range`);
  }
  return entry;
}

function upper(value: string): string {
  return value.toUpperCase();
}

/** Reads settings; a malformed one is recorded in `problems` and its fallback returned. */
function reader(env: Env, problems: SettingProblem[]) {
  const raw = (name: string) => {
    // Lambda passes strings only; a template's unresolved value (a Ref) counts as unset.
    const given = env[name];
    const value = typeof given === 'string' ? given.trim() : undefined;
    return value === undefined || value === '' ? undefined : value;
  };
  const checked = <T>(name: string, fallback: T, read: () => T): T => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push({ setting: name, message: error.message });
      return fallback;
    }
  };
  const strict = {
    url(name: string, fallback: string) {
      const value = raw(name) ?? fallback;
      if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
        throw new ConfigError(`${name}: "${value}" is not an http(s) URL`);
      }
      return value.replace(/\/+$/, '');
    },
    integer(name: string, fallback: number, min: number, max: number) {
      const value = raw(name);
      if (value === undefined) return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        throw new ConfigError(`${name}: "${value}" is not an integer from ${min} to ${max}`);
      }
      return parsed;
    },
    boolean(name: string, fallback: boolean) {
      const value = raw(name)?.toLowerCase();
      if (value === undefined) return fallback;
      if (['true', '1', 'yes'].includes(value)) return true;
      if (['false', '0', 'no'].includes(value)) return false;
      throw new ConfigError(`${name}: "${value}" is not true or false`);
    },
    list(name: string, fallback: readonly string[]): string[] {
      const value = raw(name);
      if (value === undefined) return [...fallback];
      return value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    },
    oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
      const value = raw(name) ?? fallback;
      if ((allowed as readonly string[]).includes(value)) return value as T;
      throw new ConfigError(`${name}: "${value}" is not one of ${allowed.join(', ')}`);
    },
  };
  return {
    checked,
    string: (name: string, fallback: string) => raw(name) ?? fallback,
    list: strict.list,
    url: (name: string, fallback: string) => checked(name, fallback, () => strict.url(name, fallback)),
    integer: (name: string, fallback: number, min: number, max: number) =>
      checked(name, fallback, () => strict.integer(name, fallback, min, max)),
    boolean: (name: string, fallback: boolean) =>
      checked(name, fallback, () => strict.boolean(name, fallback)),
    oneOf: <T extends string>(name: string, fallback: T, allowed: readonly T[]) =>
      checked(name, fallback, () => strict.oneOf(name, fallback, allowed)),
  };
}
