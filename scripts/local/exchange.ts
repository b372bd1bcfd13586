// The product's surroundings for the local run: the Bybit emulator with the demo accounts and their orders,
// and a Secrets Manager endpoint holding freshly generated demo keys in the documented formats, under the
// secret ids the stage uses by default (serverless.yml: bybit-cancel/<stage>/…). The demo's sub-account (grid)
// belongs to a master account whose key (Wallet: Account Transfer) is the halt's master secret, and it has a
// second key: the runaway bot's, which a halt makes read-only.

import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { type Emulator, type EmulatorAccount, startEmulator } from '../../test/emulator/index.ts';
import { type SecretsManagerEndpoint, startSecretsManager } from '../../test/support/secrets-manager.ts';
import { BOT_ACCOUNT, DEMO_ACCOUNTS, demoOrders } from './seed.ts';
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
  /** The master account's key (HALT_MASTER_SECRET_ID): it makes the sub-account's other keys read-only. */
  masterSecretId: string;
  /** The runaway bot's own key on the sub-account (not in the exchange secret: the kill switch does not own it). */
  bot: { account: string; apiKey: string; apiSecret: string };
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
  const uidOf = (i: number) => String(100_001 + i);
  const master = {
    apiKey: `demo-master-${randomBytes(6).toString('hex')}`,
    apiSecret: randomBytes(18).toString('hex'),
  };
  const botIndex = DEMO_ACCOUNTS.findIndex((a) => a.name === BOT_ACCOUNT);
  const bot = {
    account: BOT_ACCOUNT,
    apiKey: `demo-bot-${randomBytes(6).toString('hex')}`,
    apiSecret: randomBytes(18).toString('hex'),
  };
  const emulator = await startEmulator({
    accounts: [
      ...accounts.map((a, i) => ({
        ...emulatorAccount(a, uidOf(i)),
        ...(DEMO_ACCOUNTS[i]?.sub ? { parentUid: MASTER_UID } : {}),
        key: DEMO_ACCOUNTS[i]?.key,
      })),
      // Account Transfer: the narrowest permission update-sub-api takes (docs/v5/user/modify-sub-apikey.mdx).
      {
        uid: MASTER_UID,
        ...master,
        key: {
          permissions: {
            ContractTrade: [],
            Spot: [],
            Options: [],
            Derivatives: [],
            Wallet: ['AccountTransfer'],
          },
        },
      },
      // A bot's key made a month ago (a key made within a day may be the kill switch's own, just rotated in).
      {
        uid: uidOf(botIndex),
        parentUid: MASTER_UID,
        apiKey: bot.apiKey,
        apiSecret: bot.apiSecret,
        key: { createdAt: Date.now() - 30 * 86_400_000 },
      },
    ],
  });
  const secrets = await startSecretsManager({ region }).catch(async (error: unknown) => {
    await emulator.close();
    throw error;
  });
  const exchangeSecretId = `${service}/${stage}/exchange-keys`;
  const webhookSecretId = `${service}/${stage}/webhook`;
  const masterSecretId = `${service}/${stage}/halt-master`;
  const webhookSecret = randomBytes(24).toString('hex');
  // The named-accounts format: {accounts: {name: {apiKey, apiSecret} | {apiKey, privateKey}, subUid?}}.
  secrets.put(exchangeSecretId, {
    accounts: Object.fromEntries(
      accounts.map(({ name, ...pair }, i) => [
        name,
        { ...pair, ...(DEMO_ACCOUNTS[i]?.sub ? { subUid: uidOf(i) } : {}) },
      ]),
    ),
  });
  secrets.put(webhookSecretId, { webhookSecret });
  secrets.put(masterSecretId, master);

  return {
    emulator,
    secrets,
    accounts,
    exchangeSecretId,
    webhookSecretId,
    webhookSecret,
    masterSecretId,
    bot,
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

/** The demo's master account; its sub-accounts' UIDs count up from 100001. */
const MASTER_UID = '100000';

function emulatorAccount(account: AccountKeys, uid: string): EmulatorAccount {
  if (!account.privateKey) return { uid, apiKey: account.apiKey, apiSecret: account.apiSecret };
  const publicKeyPem = createPublicKey(account.privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { uid, apiKey: account.apiKey, publicKeyPem };
}
