// What `npm run preflight` checks before a deploy, read-only: the credentials, the region, the settings
// (with the functions' own config module), the Lambda concurrency the stage reserves against the account's
// limit, the IP arithmetic that depends on it, the secrets (read and parsed with the functions' own parsers,
// never printed), the alarm e-mail, and with STATIC_IP the VPC and Elastic IP quotas. Each failure names its fix.

import { createRequire } from 'node:module';
import {
  DescribeAccountAttributesCommand,
  DescribeAddressesCommand,
  DescribeVpcsCommand,
  EC2Client,
  type Tag,
} from '@aws-sdk/client-ec2';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { MAINNET_URL } from '../../lib/bybit/client.ts';
import { createSigner } from '../../lib/bybit/sign.ts';
import { type Config, loadConfig } from '../../lib/lambda/config.ts';
import {
  parseExchangeSecret,
  parseWebhookSecret,
  type SecretReader,
  SecretStore,
} from '../../lib/lambda/secrets.ts';
import type { PlannedFunction, StagePlan } from './stage.ts';

const { addressCount } = createRequire(import.meta.url)('../serverless/static-ip.cjs') as {
  addressCount: (value: string, error: new (message: string) => Error) => number;
};

export type Status = 'pass' | 'fail' | 'note' | 'skip';

export interface CheckResult {
  title: string;
  status: Status;
  detail: string;
  /** What to do about a failure (or a note). */
  fix?: string;
}

interface Sender {
  // biome-ignore lint/suspicious/noExplicitAny: one shape for the SDK clients' send, whatever the command
  send(command: any): Promise<any>;
}

export interface PreflightClients {
  sts: Sender;
  lambda: Sender;
  secrets: SecretReader;
  ec2: Sender;
}

/** The SDK clients for the stage's region, with the standard credentials and AWS_ENDPOINT_URL_* settings. */
export function defaultClients(region: string): PreflightClients {
  return {
    sts: new STSClient({ region }),
    lambda: new LambdaClient({ region }),
    secrets: new SecretsManagerClient({ region }),
    ec2: new EC2Client({ region }),
  };
}

/** Bybit's limit per IP (600 requests per 5 s, every key together), and the share of it the stack plans for. */
const BYBIT_IP_LIMIT = 600;
const IP_PLAN = 520;
/** AWS keeps this much of the account's concurrency unreserved, or all of it under this limit. */
const MIN_UNRESERVED_CAP = 100;
/** Amazon VPC's default "VPCs per Region" quota (L-F678F1CE). */
const DEFAULT_VPC_QUOTA = 5;
const DOCS = {
  deploy: 'docs/getting-started/deploy.md',
  staticIp: 'docs/getting-started/static-ip.md',
  secrets: 'docs/reference/secrets.md',
  configuration: 'docs/reference/configuration.md',
  capacity: 'docs/concepts/capacity.md',
};

/** Runs every check; AWS checks are skipped when the credentials do not work. */
export async function runPreflight(plan: StagePlan, clients: PreflightClients): Promise<CheckResult[]> {
  const results: CheckResult[] = [checkRegion(plan), ...checkSettings(plan), checkAlarmEmail(plan)];
  const identity = await checkCredentials(clients);
  results.unshift(identity);
  const aws = ['Lambda concurrency', 'Bybit IP limit', 'Secrets', 'Static IP quotas'];
  if (identity.status === 'fail') {
    results.push(
      ...aws.map((title) => ({ title, status: 'skip' as const, detail: 'needs working AWS credentials' })),
    );
    return results;
  }
  const concurrency = await checkConcurrency(plan, clients);
  results.push(concurrency.result, checkIpLimit(plan, concurrency.limit));
  results.push(...(await checkSecrets(plan, clients)));
  results.push(await checkStaticIpQuotas(plan, clients));
  return results;
}

async function checkCredentials(clients: PreflightClients): Promise<CheckResult> {
  const title = 'AWS credentials';
  try {
    const { Account, Arn } = await clients.sts.send(new GetCallerIdentityCommand({}));
    return { title, status: 'pass', detail: `${Arn} (account ${Account})` };
  } catch (error) {
    return {
      title,
      status: 'fail',
      detail: `sts:GetCallerIdentity failed: ${describe(error)}`,
      fix: 'Sign in to the account you deploy to: AWS_PROFILE=…, aws sso login, or the AWS_* environment variables; `aws sts get-caller-identity` must name that account.',
    };
  }
}

function checkRegion(plan: StagePlan): CheckResult {
  const title = `Region ${plan.region}`;
  if (/^(us|cn)-/.test(plan.region)) {
    return {
      title,
      status: 'fail',
      detail: `Bybit refuses requests from ${plan.region.startsWith('us-') ? 'US' : 'mainland China'} addresses (HTTP 403): every call to the exchange would fail.`,
      fix: 'Deploy to a region Bybit serves: --region ap-southeast-1 (Singapore, next to its matching engine).',
    };
  }
  const near = plan.region === 'ap-southeast-1' ? ', next to its matching engine' : '';
  return { title, status: 'pass', detail: `Bybit serves it${near}` };
}

/** Each function's settings through the functions' own config module, and what the template must agree on. */
function checkSettings(plan: StagePlan): CheckResult[] {
  const results: CheckResult[] = [];
  const problems: string[] = [];
  // A parameter most functions share fails in each of them: one line per message, naming the functions.
  const refused = new Map<string, string[]>();
  for (const [name, fn] of Object.entries(plan.functions)) {
    try {
      loadConfig(fn.env);
    } catch (error) {
      const message = (error as Error).message;
      refused.set(message, [...(refused.get(message) ?? []), name]);
    }
    if (fn.reserved !== undefined && fn.provisioned > fn.reserved) {
      problems.push(
        `${name}: provisioned concurrency ${fn.provisioned} is more than its reservation ${fn.reserved} (AWS refuses it)`,
      );
    }
  }
  for (const [message, names] of refused) problems.push(`${names.join(', ')}: ${message}`);
  try {
    addressCount(plan.params.STATIC_IP ?? 'false', Error);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const enabled = plan.params.RESERVED_CONCURRENCY ?? 'true';
  if (enabled !== 'true' && enabled !== 'false')
    problems.push(`RESERVED_CONCURRENCY is "${enabled}": use true or false`);
  if (problems.length > 0) {
    results.push({
      title: 'Settings',
      status: 'fail',
      detail: problems.join('; '),
      fix: `Correct the parameter named: --param="NAME=value" on the deploy, or params.${plan.stage} in serverless.yml (${DOCS.configuration}).`,
    });
    return results;
  }
  const exchange = exchangeConfig(plan);
  const network = exchange?.baseUrl === MAINNET_URL ? 'mainnet' : exchange?.baseUrl;
  results.push({
    title: 'Settings',
    status: 'pass',
    detail: `every function's configuration loads; exchange: ${network}`,
  });
  const cancelAll = plan.functions.cancelAll;
  if (cancelAll && cancelAll.provisioned === 0 && exchange?.baseUrl === MAINNET_URL) {
    results.push({
      title: 'Kill switch start',
      status: 'note',
      detail: 'CANCEL_ALL_PROVISIONED_CONCURRENCY is 0: the first kill switch pays a cold start.',
      fix: `--param="CANCEL_ALL_PROVISIONED_CONCURRENCY=1" keeps one container initialised (about $4.40 a month at list prices, ${DOCS.deploy}).`,
    });
  }
  return results;
}

function checkAlarmEmail(plan: StagePlan): CheckResult {
  const title = 'Alarm e-mail';
  const email = plan.params.ALARM_EMAIL?.trim() ?? '';
  if (email === '') {
    return {
      title,
      status: 'fail',
      detail: 'ALARM_EMAIL is empty: a failed kill switch or drill would alarm nobody.',
      fix: '--param="ALARM_EMAIL=you@example.com", then confirm the subscription from the e-mail AWS sends after the deploy.',
    };
  }
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    return {
      title,
      status: 'fail',
      detail: `"${email}" is not an e-mail address`,
      fix: '--param="ALARM_EMAIL=you@example.com"',
    };
  }
  return {
    title,
    status: 'pass',
    detail: `${email}: confirm the subscription from the e-mail AWS sends after the deploy, or no alarm reaches you`,
  };
}

interface Concurrency {
  result: CheckResult;
  /** The account's limit, when it could be read. */
  limit?: number;
}

/** What the stage takes from the account's unreserved concurrency, against what AWS keeps unreserved. */
async function checkConcurrency(plan: StagePlan, clients: PreflightClients): Promise<Concurrency> {
  const title = 'Lambda concurrency';
  let limit: number;
  let unreserved: number;
  try {
    const { AccountLimit } = await clients.lambda.send(new GetAccountSettingsCommand({}));
    limit = Number(AccountLimit?.ConcurrentExecutions);
    unreserved = Number(AccountLimit?.UnreservedConcurrentExecutions);
    if (!Number.isFinite(limit) || !Number.isFinite(unreserved))
      throw new Error('no AccountLimit in the answer');
  } catch (error) {
    return {
      result: { title, status: 'fail', detail: `lambda:GetAccountSettings failed: ${describe(error)}` },
    };
  }
  const minimum = Math.min(limit, MIN_UNRESERVED_CAP);
  // A function with no reservation takes its provisioned environments from the unreserved pool.
  const takes = (fn: PlannedFunction) => fn.reserved ?? fn.provisioned;
  const parts = Object.entries(plan.functions).filter(([, fn]) => takes(fn) > 0);
  const wanted = parts.reduce((sum, [, fn]) => sum + takes(fn), 0);
  // On a redeploy the stage's own reservations are already out of the unreserved count.
  let held = 0;
  for (const [, fn] of parts) {
    try {
      const answer = await clients.lambda.send(
        new GetFunctionConcurrencyCommand({ FunctionName: fn.fullName }),
      );
      held += Number(answer.ReservedConcurrentExecutions ?? 0);
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') {
        return {
          result: {
            title,
            status: 'fail',
            detail: `lambda:GetFunctionConcurrency failed: ${describe(error)}`,
          },
          limit,
        };
      }
    }
  }
  const left = unreserved + held - wanted;
  const what = parts.map(([name, fn]) => `${name} ${takes(fn)}`).join(', ') || 'nothing';
  const detail = `the account's limit in ${plan.region} is ${limit} (${unreserved} unreserved now); this stage takes ${wanted} (${what}), leaving ${left}; AWS keeps at least ${minimum} unreserved`;
  if (left >= minimum) return { result: { title, status: 'pass', detail }, limit };
  const share = Math.floor(IP_PLAN / limit);
  const fixes = [
    `Ask AWS for more: Service Quotas → AWS Lambda → Concurrent executions (L-B99A9384), at least ${wanted + MIN_UNRESERVED_CAP - held}; 1,000 is the usual value.`,
  ];
  if (share >= 1 && plan.params.RESERVED_CONCURRENCY !== 'false') {
    fixes.push(
      `Until then, deploy without reservations: --param="RESERVED_CONCURRENCY=false" --param="UNRESERVED_IP_REQUESTS_PER_5S=${share}" (nothing then caps the containers but the account limit: ${DOCS.capacity}).`,
    );
  }
  if (plan.functions.cancelAll?.provisioned && plan.params.RESERVED_CONCURRENCY === 'false') {
    fixes.push(
      'Without reservations, provisioned concurrency needs the larger limit too: CANCEL_ALL_PROVISIONED_CONCURRENCY=0.',
    );
  }
  return {
    result: { title, status: 'fail', detail: `${detail}: AWS would refuse the deploy`, fix: fixes.join(' ') },
    limit,
  };
}

/**
 * Containers × budget per container, at most, for every function that calls Bybit, against the stack's plan
 * of 520 of Bybit's 600 per IP. Reserved concurrency caps a function's containers; without it, only the
 * account's limit does, and every container of the account could be one of ours.
 */
function checkIpLimit(plan: StagePlan, limit: number | undefined): CheckResult {
  const title = 'Bybit IP limit';
  const exchange = Object.entries(plan.functions).filter(([, fn]) => fn.callsExchange);
  const shareOf = (fn: PlannedFunction) => {
    try {
      return loadConfig(fn.env).ipRequestsPer5s;
    } catch {
      return Number.NaN;
    }
  };
  if (exchange.some(([, fn]) => Number.isNaN(shareOf(fn)))) {
    return { title, status: 'skip', detail: 'needs settings that load' };
  }
  const reserved = exchange.filter(([, fn]) => fn.reserved !== undefined);
  const unreserved = exchange.filter(([, fn]) => fn.reserved === undefined);
  let worst = reserved.reduce((sum, [, fn]) => sum + (fn.reserved as number) * shareOf(fn), 0);
  const terms = reserved.map(([name, fn]) => `${name} ${fn.reserved} × ${shareOf(fn)}`);
  if (unreserved.length > 0) {
    if (limit === undefined) return { title, status: 'skip', detail: 'needs the account concurrency limit' };
    const largest = Math.max(...unreserved.map(([, fn]) => shareOf(fn)));
    worst += limit * largest;
    terms.push(`up to ${limit} unreserved containers × ${largest}`);
  }
  const detail = `at most ${worst} requests per 5 s per address (${terms.join(' + ')}), against Bybit's ${BYBIT_IP_LIMIT}; the stack plans for ${IP_PLAN}`;
  if (worst <= IP_PLAN) return { title, status: 'pass', detail };
  const fix =
    unreserved.length > 0 && limit !== undefined && Math.floor(IP_PLAN / limit) >= 1
      ? `--param="UNRESERVED_IP_REQUESTS_PER_5S=${Math.floor(IP_PLAN / limit)}", or reserve concurrency (RESERVED_CONCURRENCY=true) once the account allows it (${DOCS.capacity}).`
      : `Deploy with reservations (RESERVED_CONCURRENCY=true, the default) and keep Σ containers × *_IP_REQUESTS_PER_5S under ${IP_PLAN} (${DOCS.capacity}).`;
  return { title, status: 'fail', detail: `${detail}: a busy moment could earn a 10-minute ban`, fix };
}

/** Both secrets read the way the functions read them, and parsed with their parsers; no value is printed. */
async function checkSecrets(plan: StagePlan, clients: PreflightClients): Promise<CheckResult[]> {
  const config = exchangeConfig(plan);
  if (!config) return [{ title: 'Secrets', status: 'skip', detail: 'needs settings that load' }];
  const store = new SecretStore({ client: clients.secrets, ttlMs: 0 });
  const create = (id: string) =>
    `Create it in ${plan.region}: aws secretsmanager create-secret --region ${plan.region} --name ${id} --secret-string file://secret.json (${DOCS.secrets}).`;
  const read = async (id: string, parse: (value: unknown) => string): Promise<CheckResult> => {
    const title = `Secret ${id}`;
    let value: unknown;
    try {
      value = await store.getJson(id);
    } catch (error) {
      const missing = /not found/.test((error as Error).message);
      return {
        title,
        status: 'fail',
        detail: (error as Error).message,
        fix: missing
          ? create(id)
          : `Check the deploying identity's secretsmanager:GetSecretValue and the secret's KMS key (${DOCS.secrets}).`,
      };
    }
    try {
      return { title, status: 'pass', detail: parse(value) };
    } catch (error) {
      return {
        title,
        status: 'fail',
        detail: (error as Error).message,
        fix: `Put a value in the documented format: aws secretsmanager put-secret-value --region ${plan.region} --secret-id ${id} --secret-string file://secret.json (${DOCS.secrets}).`,
      };
    }
  };
  return [
    await read(config.bybitSecretId, (value) => {
      const accounts = parseExchangeSecret(config.bybitSecretId, value);
      const described = [...accounts].map(([name, key]) => {
        if (key instanceof Error) throw key;
        try {
          createSigner(key);
        } catch {
          throw new Error(`secret ${config.bybitSecretId}: the key of account "${name}" cannot be parsed`);
        }
        return `${name} (${'privateKey' in key ? 'RSA' : 'HMAC'})`;
      });
      return `${accounts.size} account${accounts.size === 1 ? '' : 's'}: ${described.join(', ')}`;
    }),
    await read(config.webhookSecretId, (value) => {
      const webhook = parseWebhookSecret(config.webhookSecretId, value);
      const extras = [
        webhook.previousWebhookSecret && 'a previous key',
        webhook.passphrase && 'a passphrase',
      ].filter(Boolean);
      return `a webhook key${extras.length > 0 ? `, ${extras.join(' and ')}` : ''}`;
    }),
  ];
}

/** With STATIC_IP: room for one more VPC and the Elastic IPs, counting what this stack already holds. */
async function checkStaticIpQuotas(plan: StagePlan, clients: PreflightClients): Promise<CheckResult> {
  const title = 'Static IP quotas';
  let addresses: number;
  try {
    addresses = addressCount(plan.params.STATIC_IP ?? 'false', Error);
  } catch {
    return { title, status: 'skip', detail: 'needs a valid STATIC_IP' };
  }
  if (addresses === 0) {
    return {
      title: 'Static IP',
      status: 'note',
      detail:
        "STATIC_IP is off: the functions leave from AWS's shared addresses, so the keys cannot be bound to an IP (Bybit expires an unbound key after 90 days).",
      fix: `--param="STATIC_IP=true" (${DOCS.staticIp}).`,
    };
  }
  const ours = (tags: Tag[] | undefined) =>
    tags?.some((t) => t.Key === 'aws:cloudformation:stack-name' && t.Value === plan.stackName) ?? false;
  try {
    // Every attribute (the SDK's enum of names lacks this one, which the API documents).
    const { AccountAttributes = [] } = await clients.ec2.send(new DescribeAccountAttributesCommand({}));
    const maxIps = Number(
      AccountAttributes.find((a: { AttributeName?: string }) => a.AttributeName === 'vpc-max-elastic-ips')
        ?.AttributeValues?.[0]?.AttributeValue,
    );
    if (!Number.isFinite(maxIps)) throw new Error('no vpc-max-elastic-ips in the answer');
    const { Addresses = [] } = await clients.ec2.send(new DescribeAddressesCommand({}));
    const { Vpcs = [] } = await clients.ec2.send(new DescribeVpcsCommand({}));
    const ipsNeeded = Math.max(0, addresses - Addresses.filter((a: { Tags?: Tag[] }) => ours(a.Tags)).length);
    const vpcsNeeded = Vpcs.some((v: { Tags?: Tag[] }) => ours(v.Tags)) ? 0 : 1;
    const problems: string[] = [];
    const fixes: string[] = [];
    if (Addresses.length + ipsNeeded > maxIps) {
      problems.push(
        `${Addresses.length} of ${maxIps} Elastic IPs are in use and this stage needs ${ipsNeeded} more`,
      );
      fixes.push(
        'Release an unused Elastic IP, or ask for more: Service Quotas → Amazon EC2 → EC2-VPC Elastic IPs (L-0263D0A3).',
      );
    }
    if (Vpcs.length + vpcsNeeded > DEFAULT_VPC_QUOTA) {
      problems.push(
        `${Vpcs.length} VPCs exist and this stage needs ${vpcsNeeded} more; the default quota is ${DEFAULT_VPC_QUOTA}`,
      );
      fixes.push(
        `Delete an unused VPC, or ask for more: Service Quotas → Amazon VPC → VPCs per Region (L-F678F1CE). If yours is already above ${Vpcs.length + vpcsNeeded - 1}, this one is fine.`,
      );
    }
    const detail = `${addresses} address${addresses === 1 ? '' : 'es'}: Elastic IPs ${Addresses.length} in use of ${maxIps}, ${ipsNeeded} more needed; VPCs ${Vpcs.length}, ${vpcsNeeded} more needed`;
    if (problems.length === 0) return { title, status: 'pass', detail };
    return { title, status: 'fail', detail: problems.join('; '), fix: fixes.join(' ') };
  } catch (error) {
    return {
      title,
      status: 'fail',
      detail: `EC2 could not be read: ${describe(error)}`,
      fix: 'The deploying identity needs ec2:DescribeAccountAttributes, ec2:DescribeAddresses and ec2:DescribeVpcs.',
    };
  }
}

/** The configuration of a function that calls Bybit (they share the secrets and the exchange). */
function exchangeConfig(plan: StagePlan): Config | undefined {
  const fn = Object.values(plan.functions).find((f) => f.callsExchange);
  try {
    return fn ? loadConfig(fn.env) : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  const { name, message } = error as Error;
  return message && message !== name ? `${name}: ${message}` : String(name);
}
