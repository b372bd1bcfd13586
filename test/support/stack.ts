// The product's surroundings on loopback: the exchange emulator, a Secrets Manager endpoint holding the
// exchange keys and the webhook key, and the environment that points the functions at both.

import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/index.ts';
import { registerSecret } from './secret-registry.ts';
import { type SecretsManagerEndpoint, startSecretsManager } from './secrets-manager.ts';

export interface StackAccount {
  name: string;
  uid: string;
  apiKey: string;
  /** A sub-account's UID, named in the exchange secret (`subUid`) for the enforced halt. */
  subUid?: string;
  /** HMAC secret, or (RSA accounts) the PEM private key. */
  apiSecret?: string;
  privateKey?: string;
}

export interface LocalStack {
  emulator: Emulator;
  secrets: SecretsManagerEndpoint;
  accounts: StackAccount[];
  webhookSecret: string;
  passphrase: string;
  /** Environment for the functions (also usable as process.env of a child process). */
  env: Record<string, string>;
  exchangeSecretId: string;
  webhookSecretId: string;
  /** The master account's key (HALT_MASTER_SECRET_ID), when the stack has sub-accounts. */
  master?: StackAccount;
  masterSecretId?: string;
  /** Puts the exchange secret back in the documented format for the current accounts. */
  writeExchangeSecret(): void;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Account names; one account is stored as a single key pair, several as named accounts. */
  accounts?: string[];
  /** Names of accounts that use RSA keys instead of HMAC. */
  rsa?: string[];
  emulator?: EmulatorOptions;
  env?: Record<string, string>;
  secretsPort?: number;
  /**
   * Names of accounts that are sub-accounts of one master account: their UIDs are sub UIDs of the master's,
   * the exchange secret names them (`subUid`), and a master key (Wallet: Account Transfer, bound to loopback)
   * is stored under HALT_MASTER_SECRET_ID.
   */
  subAccounts?: string[];
}

/** The master account's UID when the stack has sub-accounts (theirs count up from 100001). */
const MASTER_UID = '100000';

export async function startStack(options: StackOptions = {}): Promise<LocalStack> {
  const names = options.accounts ?? ['main'];
  const accounts = names.map((name, i): StackAccount => {
    const base = { name, uid: String(100_001 + i), apiKey: `key-${name}-${randomBytes(6).toString('hex')}` };
    if (!options.rsa?.includes(name)) return { ...base, apiSecret: randomBytes(18).toString('hex') };
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    return { ...base, privateKey };
  });
  const subs = new Set(options.subAccounts ?? []);
  for (const a of accounts) if (subs.has(a.name)) a.subUid = a.uid;
  const master: StackAccount | undefined =
    subs.size > 0
      ? {
          name: 'master',
          uid: MASTER_UID,
          apiKey: `key-master-${randomBytes(6).toString('hex')}`,
          apiSecret: randomBytes(18).toString('hex'),
        }
      : undefined;
  const emulator = await startEmulator({
    ...options.emulator,
    accounts: [
      ...accounts.map((a) => ({
        uid: a.uid,
        apiKey: a.apiKey,
        ...(a.subUid ? { parentUid: MASTER_UID } : {}),
        ...emulatorKey(a),
      })),
      ...(master ? [masterKey(master)] : []),
    ],
  });
  const secrets = await startSecretsManager({ port: options.secretsPort });
  const exchangeSecretId = 'bybit-cancel/test/exchange-keys';
  const webhookSecretId = 'bybit-cancel/test/webhook';
  const webhookSecret = randomBytes(24).toString('hex');
  const passphrase = randomBytes(12).toString('hex');
  secrets.put(webhookSecretId, { webhookSecret, passphrase });
  registerSecret('webhookSecret', webhookSecret);
  registerSecret('passphrase', passphrase);
  const masterSecretId = master ? 'bybit-cancel/test/halt-master' : undefined;
  if (master && masterSecretId) {
    secrets.put(masterSecretId, { apiKey: master.apiKey, apiSecret: master.apiSecret });
    registerSecret('apiKey', master.apiKey);
    registerSecret('apiSecret', master.apiSecret);
  }

  const stack: LocalStack = {
    emulator,
    secrets,
    accounts,
    webhookSecret,
    passphrase,
    exchangeSecretId,
    webhookSecretId,
    ...(master ? { master, masterSecretId } : {}),
    env: {
      BYBIT_SECRET_ID: exchangeSecretId,
      WEBHOOK_SECRET_ID: webhookSecretId,
      BYBIT_BASE_URL: emulator.url,
      BYBIT_REQUEST_TIMEOUT_MS: '1000',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_REGION: 'ap-southeast-1',
      AWS_ACCESS_KEY_ID: 'AKIDLOCALSTACK',
      AWS_SECRET_ACCESS_KEY: 'local-stack-not-a-secret',
      LOG_LEVEL: 'warn',
      ...(masterSecretId ? { HALT_MASTER_SECRET_ID: masterSecretId } : {}),
      ...options.env,
    },
    writeExchangeSecret() {
      const pair = (a: StackAccount) => ({
        ...(a.privateKey
          ? { apiKey: a.apiKey, privateKey: a.privateKey }
          : { apiKey: a.apiKey, apiSecret: a.apiSecret }),
        ...(a.subUid ? { subUid: a.subUid } : {}),
      });
      const value =
        accounts.length === 1 && accounts[0]
          ? pair(accounts[0])
          : { accounts: Object.fromEntries(accounts.map((a) => [a.name, pair(a)])) };
      secrets.put(exchangeSecretId, value);
      // Tell the secret-hygiene check what must never be printed (keys change when a test rotates them).
      for (const a of accounts) {
        registerSecret('apiKey', a.apiKey);
        registerSecret('apiSecret', a.apiSecret);
        registerSecret('privateKey', a.privateKey);
      }
    },
    async close() {
      await Promise.all([emulator.close(), secrets.close()]);
    },
  };
  stack.writeExchangeSecret();
  return stack;
}

function emulatorKey(account: StackAccount) {
  if (!account.privateKey) return { apiSecret: account.apiSecret };
  return {
    publicKeyPem: createPublicKey(account.privateKey).export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The master's key in the emulator: it may change its sub-accounts' keys (Wallet: Account Transfer). */
function masterKey(master: StackAccount) {
  return {
    uid: master.uid,
    apiKey: master.apiKey,
    apiSecret: master.apiSecret,
    key: {
      permissions: { ContractTrade: [], Spot: [], Options: [], Derivatives: [], Wallet: ['AccountTransfer'] },
    },
  };
}
