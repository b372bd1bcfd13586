// The bot examples of docs/guides/dead-mans-switch.md, run as they are printed (each `send()` with the bot around
// it, the bot's own work stubbed) against the local stack: the packaged heartbeat bundle, in one warm container,
// behind an API Gateway HTTP API on loopback (the HTTP path) and behind Lambda's Invoke API on loopback (the IAM
// path, through the real @aws-sdk/client-lambda), with the Secrets Manager, state table and Scheduler endpoints.
// Python's IAM example needs boto3, which cannot be installed on the machines that run this: it is compiled,
// not run; its bot is the one the HTTP example runs.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { parseAtExpression } from '../../lib/cancel/dead-mans-switch.ts';
import { recordKeys } from '../../lib/lambda/records.ts';
import { ROOT, readDoc, section } from '../support/docs.ts';
import { lambdaContext } from '../support/events.ts';
import { type HttpApiEndpoint, startHttpApi } from '../support/http-api.ts';
import { type LambdaEndpoint, startLambdaEndpoint } from '../support/lambda.ts';
import { functionEnv, type ReportingStack, startReporting } from '../support/reporting.ts';
import { type SchedulerEndpoint, startScheduler } from '../support/scheduler.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

const packaged = inject('packaged');
const template = packaged.template;
const resources = template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
/** The heartbeat function as the template names it, and the route API Gateway sends to it. */
const FUNCTION = String(resources.HeartbeatLambdaFunction?.Properties.FunctionName);
const ROUTE = Object.values(resources)
  .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
  .map((r) => String(r.Properties.RouteKey))
  .find((key) => key.endsWith('/heartbeat')) as string;
const PAGE = 'docs/guides/dead-mans-switch.md';
const RUN_MS = 60_000;
/** What the halt (issue 24) answers a heartbeat for a halted account; the stand-in answers it until it exists. */
const HALT = {
  operation: 'heartbeat',
  halted: true,
  since: '2026-12-05T12:00:00.000Z',
  origin: 'deadMansSwitch',
  reason: "dead man's switch: no heartbeat since 2026-12-05T11:55:00.000Z",
  accounts: ['main'],
};

let stack: LocalStack;
let reporting: ReportingStack;
let scheduler: SchedulerEndpoint;
let api: HttpApiEndpoint;
let lambda: LambdaEndpoint;
let schedule: string;
let halted = false;
let dir: string;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main', 'hedge'] });
  reporting = await startReporting(template, stack.secrets);
  scheduler = await startScheduler({ region: 'ap-southeast-1' });
  schedule = `bybit-cancel-${reporting.stage}-dead-mans-switch`;
  // The bundle's environment as the template gives it (strings only: Lambda resolves the Refs), pointed at
  // the loopback stack.
  const given = Object.entries(functionEnv(template, 'HeartbeatLambdaFunction')).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  Object.assign(process.env, Object.fromEntries(given), stack.env, reporting.env, {
    AWS_ENDPOINT_URL_SCHEDULER: scheduler.url,
    DEAD_MANS_SWITCH_BUS_ARN: 'arn:aws:events:ap-southeast-1:123456789012:event-bus/default',
    DEAD_MANS_SWITCH_ROLE_ARN: 'arn:aws:iam::123456789012:role/dead-mans-switch',
    DEAD_MANS_SWITCH_DLQ_ARN: 'arn:aws:sqs:ap-southeast-1:123456789012:bybit-cancel-dev-failures',
  });
  const bundle = join(packaged.functions.heartbeat as string, 'handlers', 'heartbeat.mjs');
  const { handler } = (await import(pathToFileURL(bundle).href)) as {
    handler: (event: unknown, context: unknown) => Promise<unknown>;
  };
  const heartbeat = (event: unknown) => {
    if (!halted) return handler(event, lambdaContext(10_000, FUNCTION));
    const answer = { ...HALT, requestId: crypto.randomUUID() };
    return Promise.resolve(
      (event as { version?: unknown }).version === '2.0'
        ? { statusCode: 423, headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer) }
        : { statusCode: 423, ...answer },
    );
  };
  api = await startHttpApi({ [ROUTE]: heartbeat });
  lambda = await startLambdaEndpoint({ [FUNCTION]: heartbeat });
  // Where the programs are written: outside node_modules (Node strips types only there), with the repository's
  // packages at hand.
  dir = mkdtempSync(join(tmpdir(), 'bybit-cancel-bots-'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'junction');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await Promise.all([api.close(), lambda.close(), scheduler.close(), reporting.close()]);
  await stack.close();
});
beforeEach(async () => {
  halted = false;
  api.reset();
  lambda.reset();
  scheduler.reset();
  await reporting.state.delete(recordKeys.heartbeatTurn());
});

/** The first code block of `language` under `heading` on the page. */
function codeUnder(heading: string, language: string): string {
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(section(readDoc(PAGE), heading));
  if (!match?.[1]) throw new Error(`no ${language} block under "${heading}"`);
  return match[1];
}

/** The bot's own work, as a test stands it in. */
const STUBS = {
  py: [
    'import time',
    'def trade_once(): time.sleep(0.02)',
    'def stop_trading(): print("BOT: stopped trading", flush=True)',
    'def tell_operator(message): print("OPERATOR:", message, flush=True)',
    '',
  ].join('\n'),
  ts: [
    'async function tradeOnce() { await new Promise((resolve) => setTimeout(resolve, 20)); }',
    "async function stopTrading() { console.log('BOT: stopped trading'); }",
    'async function tellOperator(message: string) { console.log(`OPERATOR: ${message}`); }',
    '',
  ].join('\n'),
};
const LANGUAGES = { Python: { block: 'python', ext: 'py' }, TypeScript: { block: 'ts', ext: 'ts' } } as const;
const PATHS = {
  IAM: 'send() with AWS credentials (the IAM path)',
  HTTP: 'send() without (the HTTP path)',
} as const;
type Language = keyof typeof LANGUAGES;
type Path = keyof typeof PATHS;

/** The program a reader puts together: the stand-ins for its work, one `send()`, and the bot. */
function program(language: Language, path: Path): string {
  const { block, ext } = LANGUAGES[language];
  const file = join(dir, `${language}-${path}-${Date.now()}.${ext}`);
  const code = [
    STUBS[ext],
    codeUnder(`${language}: ${PATHS[path]}`, block),
    codeUnder(`${language}: the bot`, block),
  ];
  writeFileSync(file, code.join('\n'));
  return file;
}

interface Bot {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function start(language: Language, path: Path): Bot {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    PYTHONUNBUFFERED: '1',
    ...(path === 'HTTP'
      ? { BYBIT_CANCEL_API: api.url, WEBHOOK_SECRET: stack.webhookSecret }
      : {
          HEARTBEAT_FUNCTION: FUNCTION,
          AWS_ENDPOINT_URL_LAMBDA: lambda.url,
          AWS_REGION: 'ap-southeast-1',
          AWS_ACCESS_KEY_ID: 'AKIDBOT',
          AWS_SECRET_ACCESS_KEY: 'local-bot-not-a-secret',
        }),
  };
  const file = program(language, path);
  const child = spawn(language === 'Python' ? 'python3' : process.execPath, [file], { cwd: dir, env });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  return { child, output: () => out, exited };
}

/** How many times the chosen path refused a heartbeat as throttled (429). */
const throttledOn = (path: Path) =>
  path === 'HTTP' ? api.requests.filter((r) => r.status === 429).length : lambda.throttled;

describe.each([
  ['Python', 'HTTP'],
  ['TypeScript', 'HTTP'],
  ['TypeScript', 'IAM'],
] as const)('the %s bot over the %s path', (language, path) => {
  it(
    'arms through a throttle, retried at once, and disarms on a planned shutdown',
    async () => {
      // The first three attempts are throttled: API Gateway's route throttle, or Lambda's.
      if (path === 'HTTP') api.throttle(ROUTE, 3);
      else lambda.throttle(3);
      const before = Date.now();
      const bot = start(language, path);
      // Armed by its first heartbeat (the next is 60 s later): only retrying at once explains it.
      await expect.poll(() => scheduler.get(schedule), { timeout: 20_000, interval: 50 }).toBeDefined();
      expect(throttledOn(path)).toBe(3);
      const firesAt = parseAtExpression(
        scheduler.get(schedule)?.ScheduleExpression as string,
      )?.getTime() as number;
      expect(firesAt).toBeGreaterThanOrEqual(before + 300_000);
      expect(firesAt).toBeLessThan(Date.now() + 301_000);
      expect(JSON.parse(scheduler.get(schedule)?.Target.Input as string).reason).toMatch(
        /; grid bot on vps-1$/,
      );
      bot.child.kill('SIGTERM');
      expect(await bot.exited, bot.output()).toBe(0);
      // The planned shutdown disarmed it: nothing fires.
      expect(scheduler.get(schedule)).toBeUndefined();
      expect(scheduler.calls.at(-1)).toMatchObject({ operation: 'DeleteSchedule', status: 200 });
    },
    RUN_MS,
  );

  it(
    'stops trading and tells its operator on a 423 (trading halted), and leaves the switch alone',
    async () => {
      halted = true;
      const bot = start(language, path);
      expect(await bot.exited, bot.output()).toBe(0);
      expect(bot.output()).toContain('BOT: stopped trading');
      expect(bot.output()).toContain(
        `OPERATOR: trading is halted since ${HALT.since}: ${HALT.reason}; reset the halt before the bot trades again`,
      );
      expect(scheduler.calls).toEqual([]);
    },
    RUN_MS,
  );
});

describe('the Python bot over the IAM path', () => {
  it('compiles with its boto3 send(); boto3 cannot be installed here, so its run is the HTTP bot above', async () => {
    const file = program('Python', 'IAM');
    const compiled = spawn('python3', ['-m', 'py_compile', file], { cwd: dir });
    let errors = '';
    compiled.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => compiled.once('close', resolve));
    expect(errors).toBe('');
    expect(code).toBe(0);
    // The answer it reads is the one the IAM path gives: the status inside the payload.
    expect(codeUnder('Python: send() with AWS credentials (the IAM path)', 'python')).toContain(
      'return answer.pop("statusCode"), answer',
    );
    const direct = (await await fetch(`${lambda.url}/2015-03-31/functions/${FUNCTION}/invocations`, {
      method: 'POST',
      headers: { authorization: 'AWS4-HMAC-SHA256 local' },
      body: JSON.stringify({ ttlSeconds: 300 }),
    }).then((r) => r.json())) as Record<string, unknown>;
    expect(direct).toMatchObject({ statusCode: 200, operation: 'heartbeat', armed: true });
  });
});
