// Secrets Manager reads, cached across warm invocations, and the two secret formats this product accepts.
// Errors name the secret and what is wrong with it, never a byte of its content.

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Credentials } from '../bybit/sign.ts';
import type {
  AccountCredentials,
  AccountKeys,
  CredentialsSource,
  MasterKeySource,
} from '../cancel/exchange.ts';
import { SecretError, SecretUnavailableError } from '../errors.ts';

/** What an API key may hold: printable ASCII without spaces, as Bybit issues keys and as a header carries them. */
const HEADER_TOKEN = /^[\x21-\x7e]+$/;

/** The name an account gets when the secret holds a single key pair. */
export const DEFAULT_ACCOUNT = 'default';

export interface SecretReader {
  send(
    command: GetSecretValueCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<{ SecretString?: string }>;
}

/** A read with no invocation deadline set (start-up, tools) still ends: no caller waits longer than this. */
const READ_LIMIT_MS = 10_000;

export interface SecretStoreOptions {
  /** Defaults to the SDK client, which follows the standard AWS_* endpoint and region settings. */
  client?: SecretReader;
  ttlMs: number;
  now?: () => number;
  /** Hears of every read that failed while a value read before was served instead (log it, count it). */
  onStale?: (stale: StaleRead) => void;
}

/** A failed read answered from the last value read: which secret, how old that value is, and why. */
export interface StaleRead {
  secretId: string;
  ageMs: number;
  error: unknown;
}

/**
 * Stale-if-error: when a read fails, the last value read is served instead for up to this long after it was
 * read. A Secrets Manager brownout (throttling, a regional fault) must not take keys a warm container holds.
 */
export const STALE_IF_ERROR_MS = 3_600_000;
/** After a failed read, the stale value is served without another read for this long (no read storm). */
const STALE_RETRY_MS = 30_000;
/** With a value to fall back on, a read may take this long before the fallback is served. */
const READ_LIMIT_WITH_FALLBACK_MS = 3000;

interface Entry {
  /** The last value read, and when. */
  good?: { value: unknown; readAt: number };
  /** Until then `good` is served without a read. */
  expiresAt: number;
  /** The read in progress, shared by every caller meanwhile. */
  reading?: Promise<unknown>;
}

/** Error types the SDK raises, mapped to what an operator should check. */
const SDK_ERRORS: Record<string, string> = {
  ResourceNotFoundException: 'not found (check the secret id and the region)',
  AccessDeniedException: "access denied (check the function's IAM policy and the secret's resource policy)",
  DecryptionFailure: 'cannot be decrypted (check the KMS key policy)',
  InvalidRequestException: 'cannot be read in its current state (is it scheduled for deletion?)',
  InvalidParameterException: 'the secret id is not valid',
  ThrottlingException: 'Secrets Manager is throttling reads; retries were exhausted',
  InternalServiceError: 'Secrets Manager failed; retries were exhausted',
};

/** Error types that say Secrets Manager could not answer in time, not that the secret is wrong. */
const UNAVAILABLE = new Set([
  'ThrottlingException',
  'InternalServiceError',
  'TimeoutError',
  'AbortError',
  'RequestTimeout',
]);

export class SecretStore {
  private readonly cache = new Map<string, Entry>();
  private client: SecretReader | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly onStale: (stale: StaleRead) => void;
  /**
   * Epoch ms by which every read must have ended: the current invocation's deadline, set when it starts. A read
   * that would run past it is aborted (the SDK's own request timeout only warns unless told to throw).
   */
  deadline: number | undefined;

  constructor(options: SecretStoreOptions) {
    this.client = options.client;
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    this.onStale = options.onStale ?? (() => undefined);
  }

  /**
   * The secret's JSON value, from cache while fresh. `refresh` reads again (after a key rotation). A failed
   * read never drops a value read before: for up to STALE_IF_ERROR_MS that value is served instead, and
   * `onStale` hears of it. So neither a brownout nor a forged request that forces a re-read takes a key away.
   */
  async getJson(secretId: string, { refresh = false } = {}): Promise<unknown> {
    let entry = this.cache.get(secretId);
    if (!entry) {
      entry = { expiresAt: Number.NEGATIVE_INFINITY };
      this.cache.set(secretId, entry);
    }
    if (entry.good && !refresh && entry.expiresAt > this.now()) return entry.good.value;
    // Concurrent callers share one read.
    entry.reading ??= this.refresh(secretId, entry).finally(() => {
      (entry as Entry).reading = undefined;
    });
    return entry.reading;
  }

  private async refresh(secretId: string, entry: Entry): Promise<unknown> {
    const fallback = entry.good;
    const usable = fallback && this.now() - fallback.readAt <= STALE_IF_ERROR_MS ? fallback : undefined;
    try {
      const value = await this.read(secretId, usable ? READ_LIMIT_WITH_FALLBACK_MS : READ_LIMIT_MS);
      entry.good = { value, readAt: this.now() };
      entry.expiresAt = this.now() + this.ttlMs;
      return value;
    } catch (error) {
      if (!usable) throw error;
      entry.expiresAt = Math.max(entry.expiresAt, this.now() + Math.min(STALE_RETRY_MS, this.ttlMs));
      this.onStale({ secretId, ageMs: this.now() - usable.readAt, error });
      return usable.value;
    }
  }

  private async read(secretId: string, limitMs: number): Promise<unknown> {
    if (!secretId) throw new SecretError('(unset)', 'no secret id configured');
    this.client ??= new SecretsManagerClient({
      maxAttempts: 4,
      // Without timeouts a hung connection would hold the invocation until Lambda kills it.
      requestHandler: { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true },
    });
    const now = this.now();
    const until = Math.min(this.deadline ?? Number.POSITIVE_INFINITY, now + limitMs);
    let text: string | undefined;
    try {
      const abortSignal = AbortSignal.timeout(Math.max(1, until - now));
      const answer = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }), {
        abortSignal,
      });
      text = answer.SecretString;
    } catch (cause) {
      const name = (cause as Error)?.name ?? 'Error';
      if (UNAVAILABLE.has(name) || this.now() >= until) {
        const why =
          SDK_ERRORS[name] ?? `no answer from Secrets Manager within ${Math.max(0, until - now)} ms`;
        throw new SecretUnavailableError(secretId, why, { cause });
      }
      throw new SecretError(secretId, SDK_ERRORS[name] ?? `could not be read (${name})`, { cause });
    }
    if (text === undefined)
      throw new SecretError(secretId, 'holds no SecretString (binary secrets are not supported)');
    try {
      return JSON.parse(text);
    } catch {
      // JSON.parse's message quotes the input: do not pass it on.
      throw new SecretError(secretId, 'is not valid JSON');
    }
  }
}

/**
 * Exchange keys: one pair `{apiKey, apiSecret}` (HMAC) or `{apiKey, privateKey}` (RSA, PEM), or named
 * accounts `{accounts: {name: pair, …}}`. Returns the accounts by name. A malformed named pair fails that
 * account alone (its entry is the SecretError), so one bad entry never disables the others. A pair may name
 * the sub UID it belongs to (`subUid`): that account gets the enforced halt. A malformed `subUid` fails the
 * account's halt, never its cancels.
 */
export function parseExchangeSecret(secretId: string, value: unknown): AccountKeys {
  if (!isObject(value)) throw new SecretError(secretId, 'must be a JSON object');
  if ('accounts' in value) {
    const accounts = value.accounts;
    if (!isObject(accounts) || Object.keys(accounts).length === 0) {
      throw new SecretError(secretId, '"accounts" must be an object with at least one named key pair');
    }
    return new Map(
      Object.entries(accounts).map(([name, pair]): [string, Credentials | SecretError] => {
        try {
          return [name, accountKey(secretId, pair, `accounts.${name}`)];
        } catch (error) {
          return [name, error as SecretError];
        }
      }),
    );
  }
  return new Map([[DEFAULT_ACCOUNT, accountKey(secretId, value, 'the secret')]]);
}

/** The master account's key (HALT_MASTER_SECRET_ID): `{apiKey, apiSecret}` (HMAC) or `{apiKey, privateKey}` (RSA). */
export function parseMasterSecret(secretId: string, value: unknown): Credentials {
  return keyPair(secretId, value, 'the secret');
}

/** The master secret as the domain's source of the master key: read through the store's cache, parsed once a value. */
export function masterKey(store: SecretStore, secretId: string): MasterKeySource {
  const read = parsedOnce(store, secretId, parseMasterSecret);
  return { id: secretId, credentials: () => read() };
}

/**
 * The exchange secret as the domain's source of keys: read through the store's cache, parsed once a value.
 * `onParsed` hears the account names each time a new value is parsed (names only, never a key).
 */
export function exchangeCredentials(
  store: SecretStore,
  secretId: string,
  onParsed: (names: string[]) => void = () => undefined,
): CredentialsSource {
  const read = parsedOnce(store, secretId, (id, value) => {
    const accounts = parseExchangeSecret(id, value);
    onParsed([...accounts.keys()]);
    return accounts;
  });
  return { id: secretId, accounts: ({ refresh = false } = {}) => read(refresh) };
}

/** Reads a secret through the store and parses it, once per value the store hands back. */
function parsedOnce<T>(store: SecretStore, secretId: string, parse: (secretId: string, value: unknown) => T) {
  const parsed = new WeakMap<object, T>();
  return async (refresh = false): Promise<T> => {
    const value = await store.getJson(secretId, { refresh });
    // The store hands back the same object while it is cached: parse it once, not on every call.
    if (typeof value !== 'object' || value === null) return parse(secretId, value);
    let result = parsed.get(value);
    if (result === undefined) {
      result = parse(secretId, value);
      parsed.set(value, result);
    }
    return result;
  };
}

export interface WebhookSecret {
  webhookSecret: string;
  /** The key before the last rotation, accepted until the operator removes it (senders move over in their time). */
  previousWebhookSecret?: string;
  /** Only for the opt-in passphrase mode (TradingView cannot sign). */
  passphrase?: string;
}

/** Webhook keys: `{webhookSecret, previousWebhookSecret?, passphrase?}`. */
export function parseWebhookSecret(secretId: string, value: unknown): WebhookSecret {
  if (!isObject(value)) throw new SecretError(secretId, 'must be a JSON object');
  const { webhookSecret, previousWebhookSecret, passphrase } = value;
  for (const [name, key] of Object.entries({ webhookSecret, previousWebhookSecret, passphrase })) {
    // Only the current key is required; a key that is given must be one (anyone can sign with a blank).
    if (key === undefined && name !== 'webhookSecret') continue;
    if (!isKey(key) || key.length < 16) {
      throw new SecretError(secretId, `"${name}" must be a string of at least 16 characters, not all blank`);
    }
  }
  return withoutUndefined({
    webhookSecret: webhookSecret as string,
    previousWebhookSecret: previousWebhookSecret as string | undefined,
    passphrase: passphrase as string | undefined,
  });
}

/** Sub UIDs are Bybit user ids: digits, as a string or a whole number. */
const SUB_UID = /^[1-9]\d{0,19}$/;

function accountKey(secretId: string, value: unknown, where: string): AccountCredentials {
  const credentials = keyPair(secretId, value, where);
  const subUid = (value as Record<string, unknown>).subUid;
  if (subUid === undefined) return credentials;
  const text = typeof subUid === 'number' && Number.isSafeInteger(subUid) ? String(subUid) : subUid;
  if (typeof text === 'string' && SUB_UID.test(text)) return { ...credentials, subUid: text };
  return {
    ...credentials,
    subUid: new SecretError(secretId, `${where}: "subUid" must be the sub-account's UID (digits)`),
  };
}

export interface TelegramSecret {
  botToken: string;
  /** The chats every message goes to: ids (`-1001234567890`) or channel names (`@desk_alerts`). */
  chatIds: string[];
}

/** A bot token as BotFather issues it: `<bot id>:<secret>`. */
const BOT_TOKEN = /^\d{5,}:[\w-]{30,}$/;
const CHAT_ID = /^(-?\d{1,20}|@\w{4,64})$/;

/**
 * The Telegram secret: `{botToken, chatIds}`, all that notifications need. Other fields are accepted and left
 * for the commands (parseTelegramCommandSecret).
 */
export function parseTelegramSecret(secretId: string, value: unknown): TelegramSecret {
  if (!isObject(value)) throw new SecretError(secretId, 'must be a JSON object');
  const { botToken, chatIds } = value;
  if (typeof botToken !== 'string' || !BOT_TOKEN.test(botToken)) {
    throw new SecretError(secretId, '"botToken" must be a bot token as BotFather gives it (<digits>:<text>)');
  }
  const ids = Array.isArray(chatIds) ? chatIds.map((id) => (typeof id === 'number' ? String(id) : id)) : [];
  if (ids.length === 0 || !ids.every((id) => typeof id === 'string' && CHAT_ID.test(id))) {
    throw new SecretError(
      secretId,
      '"chatIds" must be a non-empty list of chat ids (e.g. "-1001234567890") or channel names ("@name")',
    );
  }
  return { botToken, chatIds: [...new Set(ids as string[])] };
}

/** What Telegram commands also need: the webhook's secret token, and who may command. */
export interface TelegramCommandSecret extends TelegramSecret {
  /** What Telegram sends in X-Telegram-Bot-Api-Secret-Token (setWebhook's `secret_token`). */
  webhookToken: string;
  /** Telegram user ids that may command, in the chats of `chatIds`. */
  userIds: string[];
}

/** setWebhook's secret_token takes 1-256 of these characters; a guessable one would let anyone post updates. */
const WEBHOOK_TOKEN = /^[A-Za-z0-9_-]{32,256}$/;
/** Telegram user ids are positive whole numbers. */
const USER_ID = /^[1-9]\d{0,19}$/;

/**
 * The Telegram secret as the commands read it: `{botToken, chatIds, webhookToken, userIds}`. Without a
 * webhook token of at least 32 random characters and at least one user id, no command is taken.
 */
export function parseTelegramCommandSecret(secretId: string, value: unknown): TelegramCommandSecret {
  const base = parseTelegramSecret(secretId, value);
  const { webhookToken, userIds } = value as Record<string, unknown>;
  if (typeof webhookToken !== 'string' || !WEBHOOK_TOKEN.test(webhookToken)) {
    throw new SecretError(
      secretId,
      '"webhookToken" must be 32 to 256 random characters of A-Z, a-z, 0-9, _ and - (Telegram commands are off without it)',
    );
  }
  const ids = Array.isArray(userIds) ? userIds.map((id) => (typeof id === 'number' ? String(id) : id)) : [];
  if (ids.length === 0 || !ids.every((id) => typeof id === 'string' && USER_ID.test(id))) {
    throw new SecretError(
      secretId,
      '"userIds" must be a non-empty list of Telegram user ids (digits) who may command (Telegram commands are off without it)',
    );
  }
  return { ...base, webhookToken, userIds: [...new Set(ids as string[])] };
}

/** A secret that can sign or verify: a string with more than whitespace in it. */
export function isKey(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function keyPair(secretId: string, value: unknown, where: string): Credentials {
  if (!isObject(value))
    throw new SecretError(secretId, `${where} must be an object with apiKey and apiSecret or privateKey`);
  const { apiKey, apiSecret, privateKey } = value;
  if (typeof apiKey !== 'string' || apiKey === '')
    throw new SecretError(secretId, `${where}: "apiKey" is missing`);
  // The key travels in a header: a pasted line break, BOM or zero-width space would fail every request of
  // this account before it is sent. Refused here, it fails its own account at once, like a missing key.
  if (!HEADER_TOKEN.test(apiKey)) {
    throw new SecretError(
      secretId,
      `${where}: "apiKey" holds a character no HTTP header can carry (a space, a line break, or anything outside printable ASCII)`,
    );
  }
  if (typeof privateKey === 'string' && privateKey.includes('PRIVATE KEY')) return { apiKey, privateKey };
  if (privateKey !== undefined)
    throw new SecretError(secretId, `${where}: "privateKey" is not a PEM private key`);
  if (isKey(apiSecret)) return { apiKey, apiSecret };
  throw new SecretError(secretId, `${where}: needs "apiSecret" (HMAC) or "privateKey" (RSA)`);
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
