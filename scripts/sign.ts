// `npm run sign -- '<json body>'`: the x-timestamp and x-signature headers that authenticate a webhook body on
// one route (the route-bound signature: no other route accepts it), and a curl command that sends it. The key
// is the `webhookSecret` of the webhook secret: from --secret, else WEBHOOK_SECRET, else the running local stack
// (`npm start`).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaults as configDefaults } from '../lib/lambda/config.ts';
import {
  parseCancelAllRequest,
  parseCancelRequest,
  parseHeartbeatRequest,
  parseStatusRequest,
} from '../lib/lambda/requests.ts';
import { DEFAULT_STATE_FILE, type LocalState, runningState } from './local/state.ts';
import { apiBaseUrl, curlCommand, ROUTES, type RoutePath, routeOf, signHeaders } from './local/webhook.ts';

const USAGE = `usage: npm run sign -- '<json body>' [--url <api url>] [--path ${ROUTES.join('|')}] [--secret <key>]
                     [--timestamp <unix ms>] [--state <file>]
  '<json body>'  the exact body to send ('-' reads it from stdin)
  --url          the API's base URL (default: the running local stack's, else a placeholder)
  --path         the route the signature is for; no other route accepts it (default: /heartbeat for a
                 ttlSeconds or disarm body, /cancel when the body names an order, else /cancel-all)
  --secret       the webhook key (default: $WEBHOOK_SECRET, else the running local stack's demo key)
  --timestamp    sign as of this Unix time in ms (default: now); the functions accept ±${configDefaults.WEBHOOK_MAX_SKEW_SECONDS} s
  --state        the local stack's state file (default .local/stack.json)`;

const PLACEHOLDER_URL = 'https://<api-id>.execute-api.<region>.amazonaws.com';
const MIN_SECRET_LENGTH = 16;

class UsageError extends Error {}

function main(): void {
  const { values, positionals } = parse();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals.length !== 1)
    throw new UsageError('give exactly one body, quoted: \'{"category":"linear",…}\'');
  const body = positionals[0] === '-' ? readFileSync(0, 'utf8') : (positionals[0] as string);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new UsageError('the body is not valid JSON (the functions would answer 400)');
  }
  const path = values.path ?? routeOf(parsed);
  if (!(ROUTES as readonly string[]).includes(path))
    throw new UsageError(`--path must be one of ${ROUTES.join(', ')}`);
  const timestamp = values.timestamp === undefined ? Date.now() : Number(values.timestamp);
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0) {
    throw new UsageError('--timestamp must be Unix time in milliseconds, e.g. 1767225600000');
  }
  const url = values.url === undefined ? undefined : apiBaseUrl(values.url);
  if (url instanceof Error) {
    throw new UsageError(
      `--url: ${url.message}, e.g. https://abc123.execute-api.ap-southeast-1.amazonaws.com`,
    );
  }
  const { secret, local } = keyOf(values.secret, values.state ?? DEFAULT_STATE_FILE);
  const base = (url ?? local?.httpUrl ?? PLACEHOLDER_URL).replace(/\/+$/, '');
  const headers = signHeaders(secret, path as RoutePath, body, timestamp);
  const skew = local?.maxSkewSeconds ?? configDefaults.WEBHOOK_MAX_SKEW_SECONDS;

  process.stdout.write(`x-timestamp: ${headers['x-timestamp']}\n`);
  process.stdout.write(`x-signature: ${headers['x-signature']}\n`);
  const expiry = new Date(timestamp + skew * 1000);
  process.stdout.write(
    `${expiry.getTime() < Date.now() ? 'Expired at' : 'Valid until'} ${expiry.toISOString()} (the functions accept a timestamp within ${skew} s of their clock), for POST ${path} only, once.\n`,
  );
  const refused = refusal(path, parsed);
  if (refused) process.stdout.write(`Note: the function will refuse this body with 400: ${refused}\n`);
  process.stdout.write(`\n${curlCommand(`${base}${path}`, body, headers)}\n`);
  if (base === PLACEHOLDER_URL) {
    process.stdout.write(
      "\n(Replace the URL with your API's, from `npx serverless info --stage <stage>`, or pass --url.)\n",
    );
  }
}

/** The key to sign with, and the local stack when the key is its demo key (then its URL is the one to use). */
function keyOf(flag: string | undefined, stateFile: string): { secret: string; local?: LocalState } {
  const given = flag ?? process.env.WEBHOOK_SECRET;
  if (given !== undefined) {
    if (given.length < MIN_SECRET_LENGTH) {
      throw new UsageError(
        `the webhook key must be at least ${MIN_SECRET_LENGTH} characters (the webhookSecret of the secret)`,
      );
    }
    return { secret: given };
  }
  const state = runningState(stateFile);
  if (state instanceof Error) {
    throw new UsageError(
      `no webhook key: set WEBHOOK_SECRET (the webhookSecret of your webhook secret) or pass --secret; ${state.message}`,
    );
  }
  return { secret: state.webhookSecret, local: state };
}

/** Why the function would refuse the body (checked with the functions' own validation), if it would. */
function refusal(path: string, body: unknown): string | undefined {
  try {
    if (path === '/cancel') parseCancelRequest(body);
    else if (path === '/heartbeat') parseHeartbeatRequest(body, configDefaults.DEAD_MANS_SWITCH_SECONDS);
    else if (path === '/status') parseStatusRequest(body);
    else parseCancelAllRequest(body);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function parse() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        path: { type: 'string' },
        secret: { type: 'string' },
        timestamp: { type: 'string' },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

try {
  main();
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`npm run sign: ${error.message}\n\n${USAGE}\n`);
  process.exitCode = 2;
}
