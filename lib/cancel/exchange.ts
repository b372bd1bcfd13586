// The accounts, each with its own client. Clients outlive an invocation so that their connections and
// rate-limit windows carry over to the next warm one.

import { createHash } from 'node:crypto';
import { BybitClient, type BybitClientOptions } from '../bybit/client.ts';
import type { Credentials } from '../bybit/sign.ts';
import { BybitApiError, SecretError, ValidationError } from '../errors.ts';
import { SettleCoinDiscovery } from './coverage.ts';

/** Rejections after which the key may have been rotated: read the secret again, once. */
const ROTATION_CODES = new Set([10003, 10004]);

/** The exchange refused the key in a way a rotated key would explain. */
export function isRotationRefusal(error: unknown): boolean {
  return error instanceof BybitApiError && ROTATION_CODES.has(error.retCode);
}

export type ClientSettings = Omit<BybitClientOptions, 'credentials'>;

/**
 * An account's key pair and, when the account is a sub-account that gets the enforced halt, its sub UID
 * (a malformed one is the error that names it: the account's cancels still run).
 */
export type AccountCredentials = Credentials & { subUid?: string | SecretError };

/** Key pairs by account name; an entry the secret holds malformed is the error that names it. */
export type AccountKeys = Map<string, AccountCredentials | SecretError>;

/** Where the accounts' keys come from: the exchange secret, in production (lib/lambda/secrets.ts). */
export interface CredentialsSource {
  /** Names the source in errors (the secret id); never its content. */
  readonly id: string;
  /** The key pairs by account name; `refresh` reads again, after the exchange refused a key. */
  accounts(options?: { refresh?: boolean }): Promise<AccountKeys>;
}

/** Where the master account's key comes from (HALT_MASTER_SECRET_ID, in production). */
export interface MasterKeySource {
  /** Names the source in errors (the secret id); never its content. */
  readonly id: string;
  credentials(): Promise<Credentials>;
}

/** What the secret says about sub-accounts: each account's sub UID, and every key the kill switch uses. */
export interface SubAccounts {
  /** Sub UID by account name, for the accounts that name one. */
  subUids: Map<string, string | SecretError>;
  /** The public half of each account's key, by account name (usable entries only). */
  keyOf: Map<string, string>;
  /** The public half of every usable key in the secret: the kill switch's own keys, never made read-only. */
  ownKeys: ReadonlySet<string>;
}

export interface ExchangeOptions {
  credentials: CredentialsSource;
  /** The master account's key, for the enforced halt; without it, sub-accounts get the cooperative halt. */
  master?: MasterKeySource;
  client: ClientSettings;
  /** What the exchange lists (settle coins), cached for the container's life; one is made if not given. */
  discovery?: SettleCoinDiscovery;
}

export class Exchange {
  readonly discovery: SettleCoinDiscovery;
  private readonly clients = new Map<string, { id: string; client: BybitClient }>();
  private master: { id: string; client: BybitClient } | undefined;
  private readonly options: ExchangeOptions;

  constructor(options: ExchangeOptions) {
    this.options = options;
    this.discovery = options.discovery ?? new SettleCoinDiscovery({ now: options.client.now });
  }

  /** The account names in the secret (malformed entries included), in the order the secret lists them. */
  async accountNames(): Promise<string[]> {
    return [...(await this.accounts()).keys()];
  }

  /** The client of the first account whose key is usable, for public market data (instruments-info). */
  async anyClient(): Promise<BybitClient> {
    for (const [account, key] of await this.accounts()) {
      if (!(key instanceof Error)) return this.client(account, key);
    }
    throw new SecretError(this.options.credentials.id, 'holds no usable key pair');
  }

  /**
   * Runs `work` with the client of one account (`name` may be omitted when the secret holds one account).
   * If the exchange refuses the key as invalid, the secret is read again and, when the key changed,
   * `work` runs once more with the new key.
   */
  async withAccount<T>(
    name: string | undefined,
    work: (client: BybitClient, account: string) => Promise<T>,
  ): Promise<T> {
    const account = await this.resolve(name);
    const used = (await this.accounts()).get(account) as Credentials | SecretError;
    // A malformed entry fails its own account alone (a fixed secret is read when the cache expires).
    if (used instanceof Error) throw used;
    try {
      return await work(this.client(account, used), account);
    } catch (error) {
      if (!(error instanceof BybitApiError) || !ROTATION_CODES.has(error.retCode)) throw error;
      const fresh = (await this.accounts({ refresh: true })).get(account);
      if (!fresh || fresh instanceof Error || fingerprint(fresh) === fingerprint(used)) throw error;
      return work(this.client(account, fresh), account);
    }
  }

  /**
   * After the exchange refused an account's key: the client of the key the secret holds now, or undefined
   * when it holds the same one (or none usable).
   */
  async rotated(account: string): Promise<BybitClient | undefined> {
    const fresh = (await this.accounts({ refresh: true })).get(account);
    if (!fresh || fresh instanceof Error) return undefined;
    if (this.clients.get(account)?.id === fingerprint(fresh)) return undefined;
    return this.client(account, fresh);
  }

  /**
   * The accounts that name a sub UID, and every key the secret holds. `refresh` reads the secret again (the
   * halt does, so that a key rotated since the cache was filled is known as the kill switch's own); when that
   * read fails, the cached one answers.
   */
  async subAccounts(options: { refresh?: boolean } = {}): Promise<SubAccounts> {
    const keys = options.refresh
      ? await this.accounts({ refresh: true }).catch(() => this.accounts())
      : await this.accounts();
    const subUids = new Map<string, string | SecretError>();
    const keyOf = new Map<string, string>();
    for (const [account, key] of keys) {
      if (key instanceof Error) continue;
      keyOf.set(account, key.apiKey);
      if (key.subUid !== undefined) subUids.set(account, key.subUid);
    }
    return { subUids, keyOf, ownKeys: new Set(keyOf.values()) };
  }

  /** The master account's client (built once per key), or undefined when no master key is configured. */
  async masterClient(): Promise<BybitClient | undefined> {
    const source = this.options.master;
    if (!source) return undefined;
    const credentials = await source.credentials();
    const id = fingerprint(credentials);
    if (this.master?.id === id) return this.master.client;
    try {
      this.master = { id, client: new BybitClient({ ...this.options.client, credentials }) };
      return this.master.client;
    } catch (cause) {
      throw new SecretError(source.id, 'the master key cannot be parsed', { cause });
    }
  }

  private async resolve(name: string | undefined): Promise<string> {
    const names = await this.accountNames();
    if (name === undefined) {
      if (names.length === 1) return names[0] as string;
      throw new ValidationError('account', `account is required: the secret holds ${names.join(', ')}`);
    }
    if (!names.includes(name)) throw new ValidationError('account', `unknown account "${name}"`);
    return name;
  }

  private accounts(options?: { refresh?: boolean }): Promise<AccountKeys> {
    return this.options.credentials.accounts(options);
  }

  private client(account: string, credentials: Credentials): BybitClient {
    const id = fingerprint(credentials);
    const cached = this.clients.get(account);
    if (cached?.id === id) return cached.client;
    try {
      const client = new BybitClient({ ...this.options.client, credentials });
      this.clients.set(account, { id, client });
      return client;
    } catch (cause) {
      throw new SecretError(this.options.credentials.id, `the key of account "${account}" cannot be parsed`, {
        cause,
      });
    }
  }
}

const fingerprints = new WeakMap<Credentials, string>();

/** Identifies key material without keeping it readable; memoised per parsed credentials object. */
function fingerprint(credentials: Credentials): string {
  let id = fingerprints.get(credentials);
  if (!id) {
    id = createHash('sha256').update(JSON.stringify(credentials)).digest('hex');
    fingerprints.set(credentials, id);
  }
  return id;
}
