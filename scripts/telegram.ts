// `npm run telegram -- --setup --stage <stage>`: connects a deployed stage (or the local stack) to its
// Telegram bot, so that commands sent to the bot reach the telegram function (scripts/deploy/telegram-webhook.ts):
// - the webhook URL: the stack's HttpApiUrl output (CloudFormation) and `/telegram`, or --url;
// - the secret: the one the deployed telegram function reads (its TELEGRAM_SECRET_ID), or --secret-id; its
//   webhookToken becomes setWebhook's secret_token;
// - the Bot API: the function's TELEGRAM_API_URL.
// Then it sends a test message to every chat and prints what to check. It never prints a token.

import { parseArgs } from 'node:util';
import { parseTelegramCommandSecret, type TelegramCommandSecret } from '../lib/lambda/secrets.ts';
import { checkRegion, checkStage, UsageError } from './deploy/args.ts';
import { setUpWebhook, type WebhookSetup, webhookChecks } from './deploy/telegram-webhook.ts';
import { defaultRegion, serviceName } from './local/service.ts';
import { DEFAULT_STATE_FILE, LOCAL_STAGE, runningState } from './local/state.ts';

const USAGE = `usage: npm run telegram -- --setup --stage <stage> [--region <region>] [--secret-id <id>] [--url <webhook url>]
  --setup      register the stage's POST /telegram as the bot's webhook, send a test message to every chat
  --stage      the stage you deployed, or "local" for the stack npm start runs
  --region     the region you deployed to (default: serverless.yml's, ${defaultRegion()})
  --secret-id  the Telegram secret (default: the TELEGRAM_SECRET_ID the deployed telegram function reads)
  --url        the webhook URL (default: the stack's HttpApiUrl output and /telegram; a custom domain goes here)
  --state      the local stack's state file (default .local/stack.json; --stage local only)
exit status: 0 connected, 1 not (the reason is printed), 2 wrong arguments`;

class NotDoneError extends Error {}

interface Options {
  stage: string;
  region?: string;
  secretId?: string;
  url?: string;
  state: string;
}

async function main(): Promise<void> {
  const options = readOptions();
  const setup = options.stage === LOCAL_STAGE ? await localSetup(options) : await deployedSetup(options);
  process.stdout.write(
    `Connecting stage ${setup.stage} to its Telegram bot: webhook ${setup.webhookUrl}, updates message and callback_query, ${setup.secret.chatIds.length} chat(s), ${setup.secret.userIds.length} user(s) who may command\n`,
  );
  let report: Awaited<ReturnType<typeof setUpWebhook>>;
  try {
    report = await setUpWebhook(setup);
  } catch (error) {
    throw new NotDoneError(
      `Telegram refused: ${(error as Error).message}. Check the botToken of the secret.`,
    );
  }
  const lines = webhookChecks(setup, report);
  for (const line of lines) process.stdout.write(`${line}\n`);
  if (lines.some((line) => line.startsWith('✘')))
    throw new NotDoneError('not every check passed (see above)');
}

async function deployedSetup(options: Options): Promise<WebhookSetup> {
  const region = options.region ?? defaultRegion();
  const service = serviceName();
  const fn = `${service}-${options.stage}-telegram`;
  const stackName = `${service}-${options.stage}`;
  const [{ CloudFormationClient, DescribeStacksCommand }, { GetFunctionConfigurationCommand, LambdaClient }] =
    await Promise.all([import('@aws-sdk/client-cloudformation'), import('@aws-sdk/client-lambda')]);
  let env: Record<string, string> = {};
  try {
    const config = await new LambdaClient({ region, maxAttempts: 3 }).send(
      new GetFunctionConfigurationCommand({ FunctionName: fn }),
    );
    env = config.Environment?.Variables ?? {};
  } catch (error) {
    throw new NotDoneError(
      `could not read the function ${fn} in ${region}: ${describe(error)}. Deploy the stage first (npx serverless deploy --stage ${options.stage}), or check --stage and --region.`,
    );
  }
  const secretId = options.secretId ?? env.TELEGRAM_SECRET_ID;
  if (!secretId) {
    throw new NotDoneError(
      `the stage has no Telegram secret: deploy it with --param="TELEGRAM_SECRET_ID=${service}/${options.stage}/telegram" (docs/guides/telegram.md)`,
    );
  }
  let webhookUrl = options.url;
  if (!webhookUrl) {
    try {
      const { Stacks } = await new CloudFormationClient({ region, maxAttempts: 3 }).send(
        new DescribeStacksCommand({ StackName: stackName }),
      );
      const base = Stacks?.[0]?.Outputs?.find((o) => o.OutputKey === 'HttpApiUrl')?.OutputValue;
      if (!base) throw new Error('the stack has no HttpApiUrl output');
      webhookUrl = `${base.replace(/\/+$/, '')}/telegram`;
    } catch (error) {
      throw new NotDoneError(`could not read the stack ${stackName}'s HTTP API URL: ${describe(error)}`);
    }
  }
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const secret = await readSecret(secretId, () =>
    new SecretsManagerClient({ region, maxAttempts: 3 }).send(
      new GetSecretValueCommand({ SecretId: secretId }),
    ),
  );
  return {
    stage: options.stage,
    apiUrl: (env.TELEGRAM_API_URL || 'https://api.telegram.org').replace(/\/+$/, ''),
    webhookUrl,
    secret,
  };
}

async function localSetup(options: Options): Promise<WebhookSetup> {
  if (options.region)
    throw new UsageError('--region is for a deployed stage; the local stack runs on this machine');
  const state = runningState(options.state);
  if (state instanceof Error) throw new NotDoneError(state.message);
  const secretId = options.secretId ?? `${serviceName()}/${LOCAL_STAGE}/telegram`;
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({
    region: state.region,
    endpoint: state.secretsUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local-demo' },
  });
  const secret = await readSecret(secretId, () =>
    client.send(new GetSecretValueCommand({ SecretId: secretId })),
  );
  return {
    stage: LOCAL_STAGE,
    apiUrl: state.telegramUrl,
    webhookUrl: options.url ?? `${state.httpUrl}/telegram`,
    secret,
  };
}

/** The secret as the telegram function reads it; what is wrong with it, by name, never by content. */
async function readSecret(
  secretId: string,
  read: () => Promise<{ SecretString?: string }>,
): Promise<TelegramCommandSecret> {
  let text: string | undefined;
  try {
    text = (await read()).SecretString;
  } catch (error) {
    throw new NotDoneError(`could not read the secret ${secretId}: ${describe(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new NotDoneError(`the secret ${secretId} is not JSON`);
  }
  try {
    return parseTelegramCommandSecret(secretId, value);
  } catch (error) {
    throw new NotDoneError(`${(error as Error).message} (docs/guides/telegram.md shows the format)`);
  }
}

/** An AWS error as a person can act on it: its name and message. */
function describe(error: unknown): string {
  const { name, message } = error as Error;
  if (name === 'CredentialsProviderError') {
    return 'no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login)';
  }
  return `${name}: ${message}`;
}

function readOptions(): Options {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        setup: { type: 'boolean' },
        stage: { type: 'string' },
        region: { type: 'string' },
        'secret-id': { type: 'string' },
        url: { type: 'string' },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!values.setup) throw new UsageError('--setup is required (it is what this command does)');
  const stage = checkStage(values.stage as string | undefined, 'the stage you deployed, or local');
  const region = values.region === undefined ? undefined : checkRegion(values.region as string);
  const url = values.url as string | undefined;
  if (url !== undefined && !/^https:\/\/[^\s/]+/.test(url) && stage !== LOCAL_STAGE)
    throw new UsageError('--url must be an https:// URL (Telegram takes no other webhook)');
  return {
    stage,
    ...(region ? { region } : {}),
    ...(typeof values['secret-id'] === 'string' ? { secretId: values['secret-id'] } : {}),
    ...(url ? { url } : {}),
    state: (values.state as string | undefined) ?? DEFAULT_STATE_FILE,
  };
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`npm run telegram: ${error.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else if (error instanceof NotDoneError) {
    process.stderr.write(`✘ ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`npm run telegram failed: ${(error as Error).message ?? error}\n`);
    process.exitCode = 1;
  }
});
