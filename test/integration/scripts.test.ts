// The two commands for people, run as child processes the way `npm run sign` and `npm run kill-switch` run
// them: what `sign` prints verifies with the functions' own check; `kill-switch` refuses bad arguments, puts
// the right event on EventBridge (a wire-level endpoint on loopback serving the packaged template's rule,
// reached by the real AWS SDK client), and fires the local stack's kill switch through serverless-offline's
// Lambda endpoint. Waiting for a deployed kill switch's report: kill-switch-cli.test.ts.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { authenticateWebhook } from '../../lib/lambda/webhook-auth.ts';
import { type FakeEventBridge, startEventBridge, templateRule } from '../support/eventbridge.ts';
import {
  childEnv,
  freePortArgs,
  killRecordedOffline,
  ROOT,
  type Running,
  runScript,
  startScript,
} from '../support/local-run.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'bybit-cancel-scripts-'));
const noStack = join(dir, 'none.json');
const TIMEOUT_MS = 30_000;
const KEY = 'demo-webhook-key-0123456789';

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The header values and the curl command `npm run sign` printed. */
function signed(stdout: string) {
  const header = (name: string) => new RegExp(`^${name}: (\\S+)$`, 'm').exec(stdout)?.[1];
  const curl = stdout.split('\n').find((line) => line.startsWith('curl ')) ?? '';
  return { timestamp: header('x-timestamp'), signature: header('x-signature'), curl };
}

describe('npm run sign', () => {
  it('prints headers that authenticate the body with the webhook key', async () => {
    const body = '{"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "tv-btc-long-1"}';
    const result = await runScript(
      'sign',
      [body, '--secret', KEY, '--timestamp', '1767225600000'],
      TIMEOUT_MS,
    );

    expect(result.code).toBe(0);
    const { timestamp, signature, curl } = signed(result.stdout);
    expect(timestamp).toBe('1767225600000');
    const headers = { 'x-timestamp': timestamp, 'x-signature': signature };
    const options = {
      maxSkewMs: 300_000,
      passphraseMode: false,
      route: 'POST /cancel',
      legacySignature: false,
      now: () => 1767225600000 + 299_000,
    };
    expect(authenticateWebhook(headers, Buffer.from(body), { webhookSecret: KEY }, options)).toBe(
      'signature',
    );
    // Signed for POST /cancel: no other route takes it, the legacy signature allowed or not.
    expect(() =>
      authenticateWebhook(
        headers,
        Buffer.from(body),
        { webhookSecret: KEY },
        { ...options, route: 'POST /cancel-all', legacySignature: true },
      ),
    ).toThrow('x-signature does not match');
    // A different key, or the same body re-serialised, does not verify.
    expect(() =>
      authenticateWebhook(headers, Buffer.from(body), { webhookSecret: `${KEY}x` }, options),
    ).toThrow('x-signature does not match');
    expect(() =>
      authenticateWebhook(
        headers,
        Buffer.from(JSON.stringify(JSON.parse(body))),
        { webhookSecret: KEY },
        options,
      ),
    ).toThrow('x-signature does not match');
    expect(curl).toContain("'https://<api-id>.execute-api.<region>.amazonaws.com/cancel'");
    expect(curl).toContain(`-H 'x-signature: ${signature}'`);
    // When the signature stops being accepted, in UTC like every time this project prints.
    expect(result.stdout).toContain(
      'Expired at 2026-01-01T00:05:00.000Z (the functions accept a timestamp within 300 s',
    );
  });

  it('reads the key from WEBHOOK_SECRET and the body from stdin, and quotes it for the shell byte for byte', async () => {
    const body = '{"reason": "it\'s $HOME `x`", "category": "spot", "symbol": "btcusdt"}';
    const env = childEnv({ WEBHOOK_SECRET: KEY });
    const result = await runScript('sign', ['-', '--url', 'https://example.test/'], TIMEOUT_MS, env, body);

    expect(result.code).toBe(0);
    const { timestamp, signature, curl } = signed(result.stdout);
    const headers = { 'x-timestamp': timestamp, 'x-signature': signature };
    const options = {
      maxSkewMs: 300_000,
      passphraseMode: false,
      route: 'POST /cancel-all',
      legacySignature: false,
    };
    expect(authenticateWebhook(headers, Buffer.from(body), { webhookSecret: KEY }, options)).toBe(
      'signature',
    );
    expect(curl).toContain("'https://example.test/cancel-all'");
    // What the shell makes of the printed --data-raw argument is the signed body itself.
    const quoted = curl.slice(curl.indexOf('--data-raw ') + '--data-raw '.length);
    const shell = await run('bash', ['-c', `printf '%s' ${quoted}`], { timeout: TIMEOUT_MS });
    expect(shell.stdout).toBe(body);
    // The body is checked with the functions' own validation: this one would be refused.
    expect(result.stdout).toContain(
      'Note: the function will refuse this body with 400: symbol is not a valid symbol (symbols are uppercase',
    );
  });

  it.each([
    ['no key anywhere', ['{"category":"spot"}', '--state', noStack], 'no webhook key: set WEBHOOK_SECRET'],
    ['a body that is not JSON', ['{category:spot}', '--secret', KEY], 'the body is not valid JSON'],
    ['a key too short to be one', ['{"category":"spot"}', '--secret', 'short'], 'at least 16 characters'],
    ['no body', ['--secret', KEY], 'give exactly one body'],
    ['an unknown route', ['{"category":"spot"}', '--secret', KEY, '--path', '/x'], '--path must be one of'],
    [
      'a --url that is not one',
      ['{"category":"spot"}', '--secret', KEY, '--url', 'not a url'],
      '--url: "not a url"',
    ],
  ])('refuses %s with exit status 2', async (_, args, message) => {
    const result = await runScript('sign', args, TIMEOUT_MS, childEnv({ WEBHOOK_SECRET: undefined }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });
});

describe('npm run kill-switch: arguments', () => {
  it.each([
    ['no stage', [], '--stage is required'],
    ['a stage that is not a name', ['--stage', 'prod/eu'], 'is not a stage name'],
    ['a region that is not one', ['--stage', 'prod', '--region', 'moon'], 'is not an AWS region'],
    ['an account that is not a name', ['--stage', 'prod', '--account', 'a b'], '--account: account must be'],
    [
      'a reason over 500 characters',
      ['--stage', 'prod', '--reason', 'x'.repeat(501)],
      '--reason: reason must be',
    ],
    [
      '--region for the local stack',
      ['--stage', 'local', '--region', 'eu-west-1'],
      '--region is for a deployed',
    ],
    ['an unknown option', ['--stage', 'prod', '--force'], "Unknown option '--force'"],
    [
      'a reason for a drill',
      ['--drill', '--stage', 'local', '--reason', 'x'],
      '--reason is for the kill switch',
    ],
    [
      'an account for the status',
      ['--status', '--stage', 'prod', '--account', 'main'],
      '--account is for firing the kill switch or the drill, not --status',
    ],
    ['--json without --status', ['--stage', 'prod', '--json'], '--json is for --status'],
    [
      '--no-wait for a drill',
      ['--drill', '--stage', 'prod', '--no-wait'],
      '--no-wait is for the kill switch',
    ],
  ])('refuses %s with exit status 2, sending nothing', async (_, args, message) => {
    const events = await startEventBridge();
    try {
      const result = await runScript('kill-switch', args, TIMEOUT_MS, awsEnv(events.url));
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(events.calls).toHaveLength(0);
    } finally {
      await events.close();
    }
  });

  it('says so when no local stack is running', async () => {
    const result = await runScript('kill-switch', ['--stage', 'local', '--state', noStack], TIMEOUT_MS);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no local stack is running');
  });
});

describe('npm run kill-switch: a deployed stage', () => {
  // The stage the template was packaged for, and the rule it deploys (what AWS would list).
  const rule = templateRule(inject('packaged').template);
  const stage = /^bybit-cancel-(.+)-kill-switch$/.exec(rule.Name)?.[1] as string;
  let events: FakeEventBridge;
  beforeAll(async () => {
    events = await startEventBridge();
  });
  afterAll(() => events.close());

  it('puts the kill-switch event on the default bus and names the rule the stack deploys (--no-wait)', async () => {
    events.calls.length = 0;
    // Another stage's rule, whose name starts with this one's, must not be taken for it.
    events.rules = [{ ...rule, Name: `${rule.Name}-2`, State: 'DISABLED' }, rule];
    const args = ['--stage', stage, '--region', 'eu-west-1', '--account', 'main', '--account', 'hedge'];
    const result = await runScript(
      'kill-switch',
      [...args, '--reason', 'drawdown', '--no-wait'],
      TIMEOUT_MS,
      awsEnv(events.url),
    );

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [put, list, ...more] = events.calls;
    expect(more).toEqual([]);
    expect(put?.target).toBe('AWSEvents.PutEvents');
    expect(put?.body).toEqual({
      Entries: [
        {
          EventBusName: 'default',
          Source: 'bybit.killswitch',
          DetailType: 'Kill Switch',
          Detail: JSON.stringify({ accounts: ['main', 'hedge'], reason: 'drawdown', origin: 'cli' }),
        },
      ],
    });
    expect(put?.region).toBe('eu-west-1');
    expect(list?.target).toBe('AWSEvents.ListRules');
    expect(list?.body).toMatchObject({ NamePrefix: rule.Name });
    expect(result.stdout).toContain(`EventBridge accepted the event: entry id ${events.eventId}`);
    expect(result.stdout).toContain(
      `Rule ${rule.Name} (ENABLED) sends it to bybit-cancel-${stage}-cancelAll`,
    );
    expect(result.stdout).toContain('Lambda does not retry it');
    expect(result.stdout).not.toMatch(/retries a failed run/);
    expect(result.stdout).toContain(`npm run kill-switch -- --status --stage ${stage} --region eu-west-1`);
  });

  it('fails (exit 1) when EventBridge refuses the entry', async () => {
    events.calls.length = 0;
    events.failEntry = { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' };
    try {
      const result = await runScript('kill-switch', ['--stage', stage], TIMEOUT_MS, awsEnv(events.url));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('EventBridge refused the event: InternalFailure try again');
      expect(events.calls.map((c) => c.target)).toEqual(['AWSEvents.PutEvents']);
      // Without --region, serverless.yml's default.
      expect(events.calls[0]?.region).toBe('ap-southeast-1');
    } finally {
      events.failEntry = undefined;
    }
  });

  it('fails (exit 1) when no enabled rule of the stage matches the event: nothing would run', async () => {
    const other = { ...rule, Name: `${rule.Name}-2` };
    for (const rules of [[], [other], [{ ...rule, State: 'DISABLED' }]]) {
      events.rules = rules;
      const result = await runScript('kill-switch', ['--stage', stage], TIMEOUT_MS, awsEnv(events.url));
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('EventBridge accepted the event');
      expect(result.stderr).toMatch(
        new RegExp(`no rule ${rule.Name} in ap-southeast-1 matches|${rule.Name} matches but is DISABLED`),
      );
    }
  });
});

describe('npm run kill-switch -- --drill: a deployed stage', () => {
  const report = {
    operation: 'drill',
    ok: true,
    durationMs: 12,
    accounts: [
      {
        account: 'main',
        ok: true,
        problems: [],
        warnings: [{ code: 'noIpBound', message: 'the key is bound to no IP address' }],
        keyExpiresInDays: 80,
        openOrders: { linear: 3, spot: 1 },
        coverage: [],
      },
    ],
  };

  it('invokes the stage’s drill function with {"drill": true} and prints the report as a table', async () => {
    const lambda = await startLambda({ payload: report });
    try {
      const args = ['--drill', '--stage', 'prod', '--region', 'eu-west-1', '--account', 'main'];
      const result = await runScript('kill-switch', args, TIMEOUT_MS, awsEnv(lambda.url));
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(lambda.calls).toEqual([
        {
          path: '/2015-03-31/functions/bybit-cancel-prod-drill/invocations',
          invocationType: 'RequestResponse',
          body: { drill: true, accounts: ['main'] },
        },
      ]);
      expect(result.stdout).toMatch(
        /^ {2}main\s+expires in 80 d\s+linear 3, spot 1\s+✔ ok, 1 warning\(s\)$/m,
      );
      expect(result.stdout).toContain('  ! main: the key is bound to no IP address [noIpBound]');
    } finally {
      await lambda.close();
    }
  });

  it('exits 1 and lists every account and problem when the drill fails', async () => {
    const errorMessage =
      'kill-switch drill failed: hedge: the key is read-only: every cancel would be refused (10005); grid: the key expires in 5 day(s)';
    const lambda = await startLambda({ error: { errorType: 'DrillFailedError', errorMessage } });
    try {
      const result = await runScript(
        'kill-switch',
        ['--drill', '--stage', 'prod'],
        TIMEOUT_MS,
        awsEnv(lambda.url),
      );
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(
        '  ✘ hedge: the key is read-only: every cancel would be refused (10005)\n',
      );
      expect(result.stdout).toContain('  ✘ grid: the key expires in 5 day(s)\n');
      expect(result.stderr).toContain('the drill found problems');
      expect(lambda.calls[0]?.body).toEqual({ drill: true });
    } finally {
      await lambda.close();
    }
  });
});

describe('against the running local stack', () => {
  const stateFile = join(dir, 'stack.json');
  let stack: Running;
  let seeded: number;

  beforeAll(async () => {
    const { args } = await freePortArgs();
    stack = startScript('start', [...args, '--state', stateFile]);
    const ready = await stack.waitFor(/The emulator holds (\d+) new open orders/, 120_000);
    seeded = Number(ready[1]);
  }, 150_000);

  afterAll(async () => {
    await stack.stop('SIGINT', 30_000);
    killRecordedOffline(stateFile);
  }, 40_000);

  it('kill-switch --drill names the problem and exits 1 for the demo key that expires in 10 days, and prints the table when all is well', async () => {
    const before = await runScript(
      'kill-switch',
      ['--drill', '--stage', 'local', '--state', stateFile],
      60_000,
    );
    expect(before.code).toBe(1);
    expect(before.stdout).toContain(
      'Kill-switch drill on the local stack: invoking bybit-cancel-local-drill with {"drill":true}',
    );
    // A failed drill fails the drill function's invocation; its message names each account and problem.
    expect(before.stdout).toContain('  ✘ hedge: the key expires in 10 day(s)');
    expect(before.stdout).not.toContain('✘ main');
    expect(before.stderr).toContain('the drill found problems');
    expect(before.stderr).not.toContain('✘ ✘');

    const healthy = await runScript(
      'kill-switch',
      ['--drill', '--stage', 'local', '--account', 'main', '--state', stateFile],
      60_000,
    );
    expect(healthy.stderr).toBe('');
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toMatch(/^ {2}account\s+key\s+open orders\s+result$/m);
    expect(healthy.stdout).toMatch(
      /^ {2}main\s+no expiry\s+linear \d+, inverse \d+, spot \d+, option \d+\s+✔ ok$/m,
    );
    expect(healthy.stdout).toContain(
      '✔ The kill switch would work for all 1 account(s); nothing was cancelled.',
    );
  });

  it('kill-switch names an account the secret does not hold and exits 1', async () => {
    const args = ['--stage', 'local', '--account', 'nobody', '--state', stateFile];
    const result = await runScript('kill-switch', args, 60_000);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the kill switch did not clear everything');
    expect(result.stderr).toContain('nobody');
  });

  it('sign uses the stack’s key and address; then the kill switch cancels every other order and says so', async () => {
    const body = '{"account":"grid","category":"linear","symbol":"BTCUSDT","orderLinkId":"level-7"}';
    const result = await runScript('sign', [body, '--state', stateFile], TIMEOUT_MS);
    expect(result.code).toBe(0);
    const { curl } = signed(result.stdout);
    const sent = await run('bash', ['-c', `${curl} -w '\\n%{http_code}'`], {
      cwd: ROOT,
      timeout: TIMEOUT_MS,
    });
    const [answer, status] = sent.stdout.split('\n');
    expect(status).toBe('200');
    expect(JSON.parse(answer as string)).toMatchObject({
      orderLinkId: 'level-7',
      orderStatus: 'Cancelled',
      confirmed: true,
    });

    const fired = await runScript(
      'kill-switch',
      ['--stage', 'local', '--state', stateFile, '--reason', 'test'],
      60_000,
    );
    expect(fired.stderr).toBe('');
    expect(fired.code).toBe(0);
    expect(fired.stdout).toContain('detail {"reason":"test","origin":"cli"}');
    expect(fired.stdout).toMatch(/^ {2}grid\s+linear settleCoin=USDT\s+\d{3,}\s+0$/m);
    expect(fired.stdout).toContain(
      `✔ Cancelled ${seeded - 1} order(s) in 3 account(s); nothing is left open`,
    );

    // Checked by a second run: its listings find nothing to cancel.
    const again = await runScript('kill-switch', ['--stage', 'local', '--state', stateFile], 60_000);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('✔ Cancelled 0 order(s) in 3 account(s); nothing is left open');
  });
});

interface FakeLambda {
  url: string;
  calls: { path: string; invocationType: string | undefined; body: unknown }[];
  close(): Promise<void>;
}

/** Lambda's Invoke API (REST-JSON, `POST /2015-03-31/functions/{name}/invocations`) on loopback. */
async function startLambda(reply: { payload?: unknown; error?: unknown }): Promise<FakeLambda> {
  const calls: FakeLambda['calls'] = [];
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    calls.push({
      path: decodeURIComponent(String(request.url)),
      invocationType: request.headers['x-amz-invocation-type'] as string | undefined,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'),
    });
    // A function that threw: HTTP 200, X-Amz-Function-Error, and {errorType, errorMessage} as the payload.
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amz-executed-version': '$LATEST',
    };
    if (reply.error) headers['x-amz-function-error'] = 'Unhandled';
    response.writeHead(200, headers);
    response.end(JSON.stringify(reply.error ?? reply.payload));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The AWS SDK pointed at the loopback endpoint, with credentials that only exist here. */
function awsEnv(endpoint: string) {
  return childEnv({
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
    AWS_ENDPOINT_URL_LAMBDA: endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDKILLSWITCHTEST',
    AWS_SECRET_ACCESS_KEY: 'kill-switch-test-only',
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
  });
}
