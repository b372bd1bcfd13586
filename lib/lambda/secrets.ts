// Secrets Manager reads, cached across warm invocations, and the two secret formats this product accepts.
// Errors name the secret and what is wrong with it, never a byte of its content.

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Credentials } from '../bybit/sign.ts';
import type { AccountKeys, CredentialsSource } from '../cancel/exchange.ts';
import { SecretError } from '../errors.ts';

/** The name an account gets when the secret holds a single key pair. */
export const DEFAULT_ACCOUNT = 'default';

export interface SecretReader {
  send(command: GetSecretValueCommand): Promise<{ SecretString?: string }>;
}

export interface SecretStoreOptions {
  /** Defaults to the SDK client, which follows the standard AWS_* endpoint and region settings. */
  client?: SecretReader;
  ttlMs: number;
  now?: () => number;
}

interface Entry {
  value: Promise<unknown>;
  expiresAt: number;
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

export class SecretStore {
  private readonly cache = new Map<string, Entry>();
  private client: SecretReader | undefined;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: SecretStoreOptions) {
    this.client = options.client;
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
  }

  /** The secret's JSON value, from cache while fresh. `refresh` reads again (after a key rotation). */
  async getJson(secretId: string, { refresh = false } = {}): Promise<unknown> {
    const cached = this.cache.get(secretId);
    if (cached && !refresh && cached.expiresAt > this.now()) return cached.value;
    // Concurrent callers share one read; a failed read is not cached.
    const value = this.read(secretId);
    this.cache.set(secretId, { value, expiresAt: this.now() + this.ttlMs });
    value.catch(() => this.cache.delete(secretId));
    return value;
  }

  private async read(secretId: string): Promise<unknown> {
    if (!secretId) throw new SecretError('(unset)', 'no secret id configured');
    this.client ??= new SecretsManagerClient({
      maxAttempts: 4,
      // Without timeouts a hung connection would hold the invocation until Lambda kills it.
      requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
    });
    let text: string | undefined;
    try {
      const answer = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }));
      text = answer.SecretString;
    } catch (cause) {
      const name = (cause as Error)?.name ?? 'Error';
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
 * account alone (its entry is the SecretError), so one bad entry never disables the others.
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
          return [name, keyPair(secretId, pair, `accounts.${name}`)];
        } catch (error) {
          return [name, error as SecretError];
        }
      }),
    );
  }
  return new Map([[DEFAULT_ACCOUNT, keyPair(secretId, value, 'the secret')]]);
}

/** The exchange secret as the domain's source of keys: read through the store's cache, parsed once a value. */
export function exchangeCredentials(store: SecretStore, secretId: string): CredentialsSource {
  const parsed = new WeakMap<object, AccountKeys>();
  return {
    id: secretId,
    async accounts({ refresh = false } = {}) {
      const value = await store.getJson(secretId, { refresh });
      // The store hands back the same object while it is cached: parse it once, not on every call.
      if (typeof value !== 'object' || value === null) return parseExchangeSecret(secretId, value);
      let accounts = parsed.get(value);
      if (!accounts) {
        accounts = parseExchangeSecret(secretId, value);
        parsed.set(value, accounts);
      }
      return accounts;
    },
  };
}

export interface WebhookSecret {
  webhookSecret: string;
  /** Only for the opt-in passphrase mode (TradingView cannot sign). */
  passphrase?: string;
}

/** Webhook keys: `{webhookSecret, passphrase?}`. */
export function parseWebhookSecret(secretId: string, value: unknown): WebhookSecret {
  if (!isObject(value)) throw new SecretError(secretId, 'must be a JSON object');
  const { webhookSecret, passphrase } = value;
  if (typeof webhookSecret !== 'string' || webhookSecret.length < 16) {
    throw new SecretError(secretId, '"webhookSecret" must be a string of at least 16 characters');
  }
  if (passphrase !== undefined && (typeof passphrase !== 'string' || passphrase.length < 16)) {
    throw new SecretError(secretId, '"passphrase" must be a string of at least 16 characters');
  }
  return { webhookSecret, passphrase };
}

function keyPair(secretId: string, value: unknown, where: string): Credentials {
  if (!isObject(value))
    throw new SecretError(secretId, `${where} must be an object with apiKey and apiSecret or privateKey`);
  const { apiKey, apiSecret, privateKey } = value;
  if (typeof apiKey !== 'string' || apiKey === '')
    throw new SecretError(secretId, `${where}: "apiKey" is missing`);
  if (typeof privateKey === 'string' && privateKey.includes('PRIVATE KEY')) return { apiKey, privateKey };
  if (privateKey !== undefined)
    throw new SecretError(secretId, `${where}: "privateKey" is not a PEM private key`);
  if (typeof apiSecret === 'string' && apiSecret !== '') return { apiKey, apiSecret };
  throw new SecretError(secretId, `${where}: needs "apiSecret" (HMAC) or "privateKey" (RSA)`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
