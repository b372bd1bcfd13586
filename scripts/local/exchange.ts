// The product's surroundings for the local run: the Bybit emulator with the demo accounts and their orders,
// and a Secrets Manager endpoint holding freshly generated demo keys in the documented formats, under the
// secret ids the stage uses by default (serverless.yml: bybit-cancel/<stage>/…).

import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { type Emulator, type EmulatorAccount, startEmulator } from '../../test/emulator/index.ts';
import { type SecretsManagerEndpoint, startSecretsManager } from '../../test/support/secrets-manager.ts';
import { DEMO_ACCOUNTS, demoOrders } from './seed.ts';
import { serviceName } from './service.ts';

export interface AccountKeys {
  name: string;
  apiKey: string;
  apiSecret?: string;
  privateKey?: string;
}

export interface LocalExchange {
  emulator: Emulator;
  secrets: SecretsManagerEndpoint;
  accounts: AccountKeys[];
  exchangeSecretId: string;
  webhookSecretId: string;
  webhookSecret: string;
  /** Adds the demo orders to every account; returns how many. */
  seed(): number;
  close(): Promise<void>;
}

/** Starts the emulator and the secrets endpoint on loopback (free ports) with new demo keys. */
export async function startLocalExchange(stage: string, region: string): Promise<LocalExchange> {
  const service = serviceName();
  const accounts = DEMO_ACCOUNTS.map(({ name, rsa }): AccountKeys => {
    const apiKey = `demo-${name}-${randomBytes(6).toString('hex')}`;
    if (!rsa) return { name, apiKey, apiSecret: randomBytes(18).toString('hex') };
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    return { name, apiKey, privateKey };
  });
  const emulator = await startEmulator({
    accounts: accounts.map((a, i) => ({
      ...emulatorAccount(a, String(100_001 + i)),
      key: DEMO_ACCOUNTS[i]?.key,
    })),
  });
  const secrets = await startSecretsManager({ region }).catch(async (error: unknown) => {
    await emulator.close();
    throw error;
  });
  const exchangeSecretId = `${service}/${stage}/exchange-keys`;
  const webhookSecretId = `${service}/${stage}/webhook`;
  const webhookSecret = randomBytes(24).toString('hex');
  // The named-accounts format: {accounts: {name: {apiKey, apiSecret} | {apiKey, privateKey}}}.
  secrets.put(exchangeSecretId, {
    accounts: Object.fromEntries(accounts.map(({ name, ...pair }) => [name, pair])),
  });
  secrets.put(webhookSecretId, { webhookSecret });

  return {
    emulator,
    secrets,
    accounts,
    exchangeSecretId,
    webhookSecretId,
    webhookSecret,
    seed() {
      const now = Date.now();
      return accounts.reduce(
        (count, a) => count + emulator.addOrders(a.apiKey, demoOrders(a.name, now)).length,
        0,
      );
    },
    async close() {
      await Promise.all([emulator.close(), secrets.close()]);
    },
  };
}

function emulatorAccount(account: AccountKeys, uid: string): EmulatorAccount {
  if (!account.privateKey) return { uid, apiKey: account.apiKey, apiSecret: account.apiSecret };
  const publicKeyPem = createPublicKey(account.privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { uid, apiKey: account.apiKey, publicKeyPem };
}
