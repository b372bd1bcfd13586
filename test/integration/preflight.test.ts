// `npm run preflight` against an AWS account on loopback (test/support/aws-account.ts: STS, Lambda, EC2) and
// the Secrets Manager endpoint, with the real SDK clients, for stages resolved from serverless.yml by
// `serverless print` as a deploy would resolve them. Secret names come from that resolution.

import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EC2Client } from '@aws-sdk/client-ec2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type CheckResult,
  type PreflightClients,
  runPreflight,
} from '../../scripts/deploy/preflight-checks.ts';
import { resolveStage, type StagePlan } from '../../scripts/deploy/stage.ts';
import { type AwsAccount, defaultAccountState, startAwsAccount } from '../support/aws-account.ts';
import { inspectOutput } from '../support/secret-hygiene.ts';
import { registerSecret } from '../support/secret-registry.ts';
import { type SecretsManagerEndpoint, startSecretsManager } from '../support/secrets-manager.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const REGION = 'ap-southeast-1';
const EMAIL = 'ops@example.com';
const PRINT_TIMEOUT_MS = 180_000;

let account: AwsAccount;
let secrets: SecretsManagerEndpoint;
let clients: PreflightClients;
/** Stage prod with an alarm e-mail and one static address; the same without reservations. */
let good: StagePlan;
let unreserved: StagePlan;

const credentials = { accessKeyId: 'AKIDLOCALPREFLIGHT', secretAccessKey: 'local-preflight-not-a-secret' };

beforeAll(async () => {
  [account, secrets] = await Promise.all([startAwsAccount(), startSecretsManager({ region: REGION })]);
  const aws = { region: REGION, endpoint: account.url, credentials };
  clients = {
    sts: new STSClient(aws),
    lambda: new LambdaClient(aws),
    ec2: new EC2Client(aws),
    secrets: new SecretsManagerClient({ ...aws, endpoint: secrets.url, maxAttempts: 1 }),
  };
  [good, unreserved] = await Promise.all([
    resolveStage({ stage: 'prod', region: REGION, params: { ALARM_EMAIL: EMAIL, STATIC_IP: 'true' } }),
    resolveStage({
      stage: 'prod',
      region: REGION,
      params: { ALARM_EMAIL: EMAIL, RESERVED_CONCURRENCY: 'false' },
    }),
  ]);
}, PRINT_TIMEOUT_MS);
afterAll(() => Promise.all([account.close(), secrets.close()]));

const exchangeSecretId = () => good.functions.cancelAll?.env.BYBIT_SECRET_ID as string;
const webhookSecretId = () => good.functions.cancelAll?.env.WEBHOOK_SECRET_ID as string;

/** A healthy account: the default limit, both secrets in the documented format, room for the network. */
function healthy(): void {
  account.state = defaultAccountState();
  const hmac = {
    apiKey: `key-${randomBytes(6).toString('hex')}`,
    apiSecret: randomBytes(18).toString('hex'),
  };
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const rsa = { apiKey: `key-${randomBytes(6).toString('hex')}`, privateKey };
  const webhook = { webhookSecret: randomBytes(24).toString('hex') };
  for (const value of [hmac.apiKey, rsa.apiKey]) registerSecret('apiKey', value);
  registerSecret('apiSecret', hmac.apiSecret);
  registerSecret('privateKey', privateKey);
  registerSecret('webhookSecret', webhook.webhookSecret);
  secrets.put(exchangeSecretId(), { accounts: { main: hmac, hedge: rsa } });
  secrets.put(webhookSecretId(), webhook);
}
beforeEach(healthy);

/** Runs the checks; every line it would print goes through the secret-hygiene check. */
async function preflight(plan: StagePlan): Promise<Record<string, CheckResult>> {
  const results = await runPreflight(plan, clients);
  for (const r of results) inspectOutput('log', `${r.title}: ${r.detail} ${r.fix ?? ''}`);
  return Object.fromEntries(results.map((r) => [r.title, r]));
}
const failures = (results: Record<string, CheckResult>) =>
  Object.values(results).filter((r) => r.status === 'fail');

describe('preflight', () => {
  it('passes on a good setup, and says what it found without printing a secret', async () => {
    const results = await preflight(good);
    expect(failures(results)).toEqual([]);
    expect(results['AWS credentials']).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining('123456789012'),
    });
    expect(results['Lambda concurrency']).toMatchObject({ status: 'pass' });
    expect(results['Lambda concurrency']?.detail).toContain(
      'this stage takes 5 (cancel 2, cancelAll 1, drill 1, reset 1)',
    );
    expect(results['Bybit IP limit']).toMatchObject({
      status: 'pass',
      detail: expect.stringContaining('at most 520'),
    });
    expect(results[`Secret ${exchangeSecretId()}`]).toMatchObject({
      status: 'pass',
      detail: '2 accounts: main (HMAC), hedge (RSA)',
    });
    expect(results[`Secret ${webhookSecretId()}`]).toMatchObject({ status: 'pass' });
    expect(results['Static IP quotas']).toMatchObject({ status: 'pass' });
    expect(results['Alarm e-mail']).toMatchObject({ status: 'pass', detail: expect.stringContaining(EMAIL) });
    expect(account.calls).toEqual(
      expect.arrayContaining(['sts:GetCallerIdentity', 'lambda:GetAccountSettings', 'ec2:DescribeAddresses']),
    );
  });

  it('fails on a concurrency limit of 10 and names the fix: a higher quota, or no reservations with a smaller share', async () => {
    account.state.concurrencyLimit = 10;
    const results = await preflight(good);
    expect(failures(results).map((r) => r.title)).toEqual(['Lambda concurrency']);
    const check = results['Lambda concurrency'];
    expect(check?.detail).toContain("the account's limit in ap-southeast-1 is 10");
    expect(check?.detail).toContain('AWS keeps at least 10 unreserved');
    expect(check?.fix).toContain('L-B99A9384');
    expect(check?.fix).toContain(
      '--param="RESERVED_CONCURRENCY=false" --param="UNRESERVED_IP_REQUESTS_PER_5S=52"',
    );
  });

  it('passes on that account with RESERVED_CONCURRENCY=false, counting every container of the account as ours', async () => {
    account.state.concurrencyLimit = 10;
    const results = await preflight(unreserved);
    expect(failures(results)).toEqual([]);
    expect(results['Lambda concurrency']?.detail).toContain('this stage takes 0');
    expect(results['Bybit IP limit']?.detail).toContain(
      'at most 500 requests per 5 s per address (up to 10 unreserved containers × 50)',
    );
  });

  it('fails without reservations on an account whose limit would let too many containers share the address', async () => {
    const results = await preflight(unreserved);
    expect(failures(results).map((r) => r.title)).toEqual(['Bybit IP limit']);
    expect(results['Bybit IP limit']?.fix).toContain('RESERVED_CONCURRENCY=true');
  });

  it('counts the reservations a deployed stage already holds when it is deployed again', async () => {
    const reserved = Object.values(good.functions).reduce((sum, fn) => sum + (fn.reserved ?? 0), 0);
    expect(reserved).toBe(5);
    // Exactly enough: the 100 AWS keeps unreserved and the stage's own, already out of the unreserved count.
    account.state.concurrencyLimit = 100 + reserved;
    for (const fn of Object.values(good.functions)) account.state.functions[fn.fullName] = fn.reserved;
    expect((await preflight(good))['Lambda concurrency']).toMatchObject({ status: 'pass' });
  });

  it('fails on a missing secret and says how to create it', async () => {
    secrets.delete(webhookSecretId());
    const results = await preflight(good);
    expect(failures(results).map((r) => r.title)).toEqual([`Secret ${webhookSecretId()}`]);
    expect(results[`Secret ${webhookSecretId()}`]?.detail).toContain('not found');
    expect(results[`Secret ${webhookSecretId()}`]?.fix).toContain(
      `aws secretsmanager create-secret --region ${REGION} --name ${webhookSecretId()}`,
    );
  });

  it('fails on a malformed account in the exchange secret, naming it and not its content', async () => {
    const key = randomBytes(18).toString('hex');
    registerSecret('apiSecret', key);
    secrets.put(exchangeSecretId(), { accounts: { main: { apiSecret: key } } });
    const check = (await preflight(good))[`Secret ${exchangeSecretId()}`];
    expect(check).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('accounts.main: "apiKey" is missing'),
    });
    expect(JSON.stringify(check)).not.toContain(key);
  });

  it('fails when the Elastic IP quota has no room for the static address', async () => {
    account.state.addresses = ['1', '2', '3', '4', '5'].map((n) => ({ publicIp: `203.0.113.${n}` }));
    const check = (await preflight(good))['Static IP quotas'];
    expect(check).toMatchObject({ status: 'fail', detail: expect.stringContaining('5 of 5 Elastic IPs') });
    expect(check?.fix).toContain('L-0263D0A3');
  });

  it('fails in a US region and without an alarm e-mail, naming each fix', async () => {
    const results = await preflight({
      ...good,
      region: 'us-east-1',
      params: { ...good.params, ALARM_EMAIL: '' },
    });
    expect(results['Region us-east-1']).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('ap-southeast-1'),
    });
    expect(results['Alarm e-mail']).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('ALARM_EMAIL='),
    });
  });

  it('fails on a setting the functions would refuse, with their own config module', async () => {
    const cancel = good.functions.cancel as StagePlan['functions'][string];
    const plan = {
      ...good,
      functions: {
        ...good.functions,
        cancel: { ...cancel, env: { ...cancel.env, BYBIT_RECV_WINDOW: 'soon' } },
      },
    };
    expect((await preflight(plan)).Settings).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('cancel: BYBIT_RECV_WINDOW: "soon" is not an integer'),
    });
  });

  it('skips the AWS checks, and says why, when the credentials do not work', async () => {
    const refused = {
      ...clients,
      sts: new STSClient({ region: REGION, endpoint: 'http://127.0.0.1:9', credentials, maxAttempts: 1 }),
    };
    const results = Object.fromEntries((await runPreflight(good, refused)).map((r) => [r.title, r]));
    expect(results['AWS credentials']).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('AWS_PROFILE'),
    });
    expect(results['Lambda concurrency']).toMatchObject({ status: 'skip' });
  });
});

describe('npm run preflight', () => {
  const run = (args: string[], limit: number) => {
    account.state.concurrencyLimit = limit;
    return promisify(execFile)(process.execPath, [join(root, 'scripts', 'preflight.ts'), ...args], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
        AWS_ENDPOINT_URL_STS: account.url,
        AWS_ENDPOINT_URL_LAMBDA: account.url,
        AWS_ENDPOINT_URL_EC2: account.url,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
        SLS_TELEMETRY_DISABLED: '1',
      },
      timeout: PRINT_TIMEOUT_MS,
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );
  };
  const args = ['--stage', 'prod', '--region', REGION, `--param=ALARM_EMAIL=${EMAIL}`];

  it(
    'exits 1 on a concurrency limit of 10, printing the failed check and its fix',
    async () => {
      const { code, stdout } = await run(args, 10);
      inspectOutput('log', stdout);
      expect(code).toBe(1);
      expect(stdout).toMatch(/✘ Lambda concurrency: .*limit in ap-southeast-1 is 10/);
      expect(stdout).toMatch(/ {4}Fix: .*--param="RESERVED_CONCURRENCY=false"/);
      expect(stdout).toContain('1 check failed');
    },
    PRINT_TIMEOUT_MS,
  );

  it(
    'exits 0 on a good setup and prints the deploy command',
    async () => {
      const { code, stdout } = await run(args, 1000);
      inspectOutput('log', stdout);
      expect(stdout).toContain(`✔ Secret ${exchangeSecretId()}: 2 accounts`);
      expect(stdout).toContain(
        `Ready: npx serverless deploy --stage prod --region ${REGION} --param="ALARM_EMAIL=${EMAIL}"`,
      );
      expect(code).toBe(0);
    },
    PRINT_TIMEOUT_MS,
  );
});
