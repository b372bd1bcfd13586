// The accounts, each with its own client. Clients outlive an invocation so that their connections and
// rate-limit windows carry over to the next warm one.

import { createHash } from 'node:crypto';
import { BybitClient, type BybitClientOptions } from '../bybit/client.ts';
import type { Credentials } from '../bybit/sign.ts';
import { BybitApiError, SecretError, ValidationError } from '../errors.ts';

/** Rejections after which the key may have been rotated: read the secret again, once. */
const ROTATION_CODES = new Set([10003, 10004]);

export type ClientSettings = Omit<BybitClientOptions, 'credentials'>;

/** Where the accounts' keys come from: the exchange secret, in production (lib/lambda/secrets.ts). */
export interface CredentialsSource {
  /** Names the source in errors (the secret id); never its content. */
  readonly id: string;
  /** The key pairs by account name; `refresh` reads again, after the exchange refused a key. */
  accounts(options?: { refresh?: boolean }): Promise<Map<string, Credentials>>;
}

export interface ExchangeOptions {
  credentials: CredentialsSource;
  client: ClientSettings;
}

export class Exchange {
  private readonly clients = new Map<string, { id: string; client: BybitClient }>();
  private readonly options: ExchangeOptions;

  constructor(options: ExchangeOptions) {
    this.options = options;
  }

  /** The account names in the secret, in the order the secret lists them. */
  async accountNames(): Promise<string[]> {
    return [...(await this.accounts()).keys()];
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
    const used = (await this.accounts()).get(account) as Credentials;
    try {
      return await work(this.client(account, used), account);
    } catch (error) {
      if (!(error instanceof BybitApiError) || !ROTATION_CODES.has(error.retCode)) throw error;
      const fresh = (await this.accounts({ refresh: true })).get(account);
      if (!fresh || fingerprint(fresh) === fingerprint(used)) throw error;
      return work(this.client(account, fresh), account);
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

  private accounts(options?: { refresh?: boolean }): Promise<Map<string, Credentials>> {
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
