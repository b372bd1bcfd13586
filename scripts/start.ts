// `npm start`: the whole product on this machine, nothing sent to Bybit or AWS. It
//   1. starts the Bybit V5 emulator with demo accounts and orders, a Secrets Manager endpoint holding
//      freshly generated demo keys, the state table (dynalite), the reports topic (SNS) and a Telegram bot,
//      all on loopback;
//   2. starts the functions behind serverless-offline (HTTP API + Lambda invoke endpoint), configured with
//      stage parameters that point them at all of these, an EventBridge Scheduler endpoint for the dead man's
//      switch, and an EventBridge endpoint whose kill-switch rule hands the event to cancelAll; registers the
//      demo bot's webhook (POST /telegram);
//   3. shows a signed webhook cancel, a scoped cancel-all, a stale sweep, the drill, a kill switch, the dead
//      man's switch, a runaway bot halted and reset, and a kill switch and its reset from Telegram (/status,
//      /kill, Kill now, /reset, Reset now), checked against the emulator, with the messages a person receives,
//      and prints what happened;
//   4. stays up for trying it by hand (curl commands, `npm run sign`, `npm run kill-switch -- --stage local`)
//      until Ctrl-C, saying when the dead man's switch fires, or exits with --once (or CI=true): 0 when
//      everything was cancelled as it should be.
// Stopping (Ctrl-C, SIGTERM, SIGHUP) ends serverless-offline's whole process group and closes every port.

import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { defaults as configDefaults } from '../lib/lambda/config.ts';
import { startEventBridge } from '../test/support/eventbridge.ts';
import { setUpWebhook } from './deploy/telegram-webhook.ts';
import { deadMansSwitchStep, LOCAL_TARGETS, startLocalScheduler } from './local/dead-mans-switch.ts';
import { runDemo, type StepOutcome } from './local/demo.ts';
import { type LocalExchange, startLocalExchange } from './local/exchange.ts';
import { runawayBotStep } from './local/halt-step.ts';
import { invokeFunction } from './local/invoke.ts';
import { groupExists, type Offline, startOffline } from './local/offline.ts';
import { choosePort, HOST, portIsFree } from './local/ports.ts';
import { createReporter } from './local/progress.ts';
import { type LocalReporting, startLocalReporting } from './local/reporting.ts';
import { BOT_PREFIX, DEMO_ACCOUNTS, STALE_AFTER_SECONDS, WEBHOOK_ORDER } from './local/seed.ts';
import { defaultRegion, serviceName } from './local/service.ts';
import {
  DEFAULT_STATE_FILE,
  isAlive,
  LOCAL_STAGE,
  type LocalState,
  readState,
  removeState,
  writeState,
} from './local/state.ts';
import { telegramStep } from './local/telegram-step.ts';
import { curlCommand, signHeaders } from './local/webhook.ts';

const USAGE = `usage: npm start [-- --once] [--port <n>] [--lambda-port <n>] [--state <file>]
  --once          run the demo, stop everything, exit 0 when all went as it should, else 1 (default with CI=true)
  --port          the HTTP API's port (default 3000, or a free one when 3000 is taken)
  --lambda-port   the Lambda invoke endpoint's port (default 3002, or a free one when taken)
  --state         where the running stack's address is written for npm run sign / kill-switch
                  (default .local/stack.json)`;

const defaults = { httpPort: 3000, lambdaPort: 3002 };
/** A kill switch the local bus delivers to cancelAll gets as long as the function's own timeout allows. */
const KILL_SWITCH_INVOKE_MS = 90_000;
const TRY_SCOPE = { account: 'hedge', category: 'spot', orderFilter: 'tpslOrder' };

const report = createReporter();
const cleanups: { name: string; run: () => Promise<void> | void }[] = [];
let stopping: Promise<void> | undefined;
/** What must be gone after stopping: serverless-offline's process group and every port this run bound. */
const started: { offlinePid?: number; ports: number[] } = { ports: [] };

/** Stops what was started, newest first; every step runs even when one fails. */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const { name, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (error) {
        process.stderr.write(`could not stop ${name}: ${(error as Error).message}\n`);
      }
    }
  })();
  return stopping;
}

let exiting: Promise<never> | undefined;

/**
 * Stops everything, says whether anything is left, and exits (with 1 when something is left). The first
 * caller decides the code: after Ctrl-C, the start-up work it interrupted fails, and that is no error.
 */
function exit(code: number): Promise<never> {
  exiting ??= (async () => {
    await stopAll();
    let clean = true;
    if (started.offlinePid !== undefined) {
      const busy: number[] = [];
      for (const port of started.ports) if (!(await portIsFree(port))) busy.push(port);
      const stray = groupExists(started.offlinePid);
      clean = !stray && busy.length === 0;
      report.line(
        `Stopped serverless-offline, the emulator and the AWS and Telegram endpoints: ${stray ? 'processes LEFT' : 'no process left'} in serverless-offline's group ${started.offlinePid}, ports ${started.ports.join(', ')} ${busy.length ? `STILL BOUND: ${busy.join(', ')}` : 'free'}.`,
      );
    }
    process.exit(code === 0 && !clean ? 1 : code);
  })();
  return exiting;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    report.line(`\n${signal}: stopping serverless-offline, the emulator and the AWS and Telegram endpoints…`);
    void exit(0).catch(() => process.exit(1));
  });
}

async function main(): Promise<number> {
  const options = readOptions();
  const stateFile = options.state;
  await clearLeftovers(stateFile);
  const service = serviceName();
  // Nothing here reaches AWS: the functions see the region serverless-offline gives them.
  const region = defaultRegion();
  const functions = {
    cancel: `${service}-${LOCAL_STAGE}-cancel`,
    cancelAll: `${service}-${LOCAL_STAGE}-cancelAll`,
    drill: `${service}-${LOCAL_STAGE}-drill`,
    reset: `${service}-${LOCAL_STAGE}-reset`,
  };
  const httpPort = await portFor('--port', options.port ?? defaults.httpPort, options.port !== undefined);
  const lambdaPort = await portFor(
    '--lambda-port',
    options.lambdaPort ?? defaults.lambdaPort,
    options.lambdaPort !== undefined,
    [httpPort],
  );
  const logFile = join(dirname(stateFile), `${basename(stateFile, '.json')}.log`);
  const offlineLogFile = join(dirname(stateFile), `${basename(stateFile, '.json')}.offline.log`);

  report.line('bybit-cancel, running locally: the Lambda functions behind serverless-offline,');
  report.line('a Bybit V5 emulator and stand-ins for Secrets Manager, EventBridge Scheduler,');
  report.line('DynamoDB, SNS and Telegram, all on 127.0.0.1. Nothing is sent to Bybit, AWS or');
  report.line('Telegram.');
  report.line();

  const exchange: LocalExchange = await report.wait(
    '[1/2] Starting the exchange emulator and the secrets endpoint',
    () => startLocalExchange(LOCAL_STAGE, region),
  );
  cleanups.push({ name: 'the emulator and the secrets endpoint', run: () => exchange.close() });
  const scheduler = await startLocalScheduler(`http://127.0.0.1:${lambdaPort}`, functions.cancelAll, region);
  cleanups.push({ name: 'the Scheduler endpoint', run: () => scheduler.close() });
  const reporting: LocalReporting = await startLocalReporting(LOCAL_STAGE, region, exchange.secrets);
  cleanups.push({ name: 'the DynamoDB, SNS and Telegram endpoints', run: () => reporting.close() });
  // The default bus with the kill-switch rule: an event put on it (Telegram's Kill now) goes to cancelAll.
  const lambdaUrl = `http://${HOST}:${lambdaPort}`;
  const bus = await startEventBridge({
    freshIds: true,
    onEvent: (event) => {
      void invokeFunction(lambdaUrl, functions.cancelAll, event, KILL_SWITCH_INVOKE_MS).catch(
        (error: Error) =>
          report.line(`the local bus could not deliver a kill-switch event: ${error.message}`),
      );
    },
  });
  cleanups.push({ name: 'the EventBridge endpoint', run: () => bus.close() });
  const seeded = exchange.seed();
  const kinds = DEMO_ACCOUNTS.map((a) => `${a.name} (${a.rsa ? 'RSA' : 'HMAC'})`).join(', ');
  report.line(`      Bybit emulator    ${exchange.emulator.url}  accounts ${kinds}, ${seeded} open orders`);
  report.line(
    `                        of every category and kind, some of them old orders of a bot (${BOT_PREFIX}…)`,
  );
  report.line(
    `      Secrets Manager   ${exchange.secrets.url}  ${exchange.exchangeSecretId} (named accounts),`,
  );
  report.line(
    `                        ${exchange.webhookSecretId}, ${exchange.masterSecretId} (the master key of the`,
  );
  report.line(
    `                        sub-account ${exchange.bot.account}, for the halt): demo keys generated for this run`,
  );
  report.line(
    `      Scheduler         ${scheduler.endpoint.url}  the dead man's switch schedule; fires into cancelAll`,
  );
  report.line(
    `      DynamoDB          ${reporting.dynamo.url}  the state table ${reporting.tableName} (dynalite)`,
  );
  report.line(
    `      SNS               ${reporting.sns.url}  the reports topic ${reporting.topicArn.split(':').at(-1)}`,
  );
  report.line(
    `      Telegram          ${reporting.telegram.url}  a demo bot and chat (${reporting.telegramSecretId})`,
  );
  report.line(`      EventBridge       ${bus.url}  the default bus: a kill-switch event goes to cancelAll`);

  const offline: Offline = await report.wait(
    '[2/2] Starting serverless-offline (esbuild bundles the functions first)',
    () =>
      startOffline({
        stage: LOCAL_STAGE,
        httpPort,
        lambdaPort,
        logFile,
        offlineLogFile,
        onSpawn: (pid, stop) => {
          cleanups.push({ name: 'serverless-offline', run: stop });
          started.offlinePid = pid;
          started.ports = [
            httpPort,
            lambdaPort,
            exchange.emulator.port,
            Number(new URL(exchange.secrets.url).port),
            Number(new URL(scheduler.endpoint.url).port),
            Number(new URL(reporting.dynamo.url).port),
            Number(new URL(reporting.sns.url).port),
            Number(new URL(reporting.telegram.url).port),
            Number(new URL(bus.url).port),
          ];
        },
        params: {
          BYBIT_BASE_URL: exchange.emulator.url,
          BYBIT_SECRET_ID: exchange.exchangeSecretId,
          WEBHOOK_SECRET_ID: exchange.webhookSecretId,
          HALT_MASTER_SECRET_ID: exchange.masterSecretId,
          STALE_ORDER_MAX_AGE_SECONDS: String(STALE_AFTER_SECONDS),
          STALE_ORDER_LINK_ID_PREFIX: BOT_PREFIX,
          // The demo and you run the sweep; a cron firing in the middle would muddle the counts.
          SWEEP_ENABLED: 'false',
          ...LOCAL_TARGETS,
          ...reporting.params,
        },
        env: {
          AWS_ENDPOINT_URL_SECRETS_MANAGER: exchange.secrets.url,
          AWS_ENDPOINT_URL_SCHEDULER: scheduler.endpoint.url,
          // A webhook drill is handed to the drill function through serverless-offline's Lambda endpoint; the
          // telegram function puts the kill-switch event on the bus, and invokes the functions (and itself) there.
          AWS_ENDPOINT_URL_EVENTBRIDGE: bus.url,
          AWS_ENDPOINT_URL_LAMBDA: lambdaUrl,
          ...reporting.env,
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
          // The SDK signs every request; the local endpoint does not check the signature.
          AWS_ACCESS_KEY_ID: 'local-demo',
          AWS_SECRET_ACCESS_KEY: 'local-demo',
        },
      }),
  );
  void offline.exited.then(async (how) => {
    if (stopping) return;
    report.line(`\nserverless-offline stopped on its own (${how}). Its last lines:\n${offline.tail()}`);
    await exit(1);
  });
  report.line(
    `      HTTP API          ${offline.httpUrl}  POST /cancel, /cancel-all, /heartbeat, /status, /reset, /telegram`,
  );
  report.line(
    `      Lambda invoke     ${offline.lambdaUrl}  ${functions.cancel}, ${functions.cancelAll}, ${functions.drill}, ${functions.reset}`,
  );
  // What `npm run telegram -- --setup --stage local` does: the demo bot's updates now reach POST /telegram.
  const webhook = await setUpWebhook({
    stage: LOCAL_STAGE,
    apiUrl: reporting.telegram.url,
    webhookUrl: `${offline.httpUrl}/telegram`,
    secret: reporting.telegramSecret,
  });
  report.line(
    `      Telegram webhook  ${webhook.url}  the demo bot's, with its secret token (${(webhook.allowedUpdates ?? []).join(', ')})`,
  );
  report.line(`      function logs     ${shortPath(logFile)} (one JSON object a line)`);
  report.line(`      offline's own     ${shortPath(offlineLogFile)}`);

  const state: LocalState = {
    pid: process.pid,
    offlinePid: offline.pid,
    startedAt: new Date().toISOString(),
    stage: LOCAL_STAGE,
    httpUrl: offline.httpUrl,
    lambdaUrl: offline.lambdaUrl,
    functions,
    emulatorUrl: exchange.emulator.url,
    secretsUrl: exchange.secrets.url,
    exchangeSecretId: exchange.exchangeSecretId,
    region,
    schedulerUrl: scheduler.endpoint.url,
    stateUrl: reporting.dynamo.url,
    stateTable: reporting.tableName,
    snsUrl: reporting.sns.url,
    telegramUrl: reporting.telegram.url,
    webhookSecret: exchange.webhookSecret,
    maxSkewSeconds: configDefaults.WEBHOOK_MAX_SKEW_SECONDS,
    logFile,
  };
  writeState(stateFile, state);
  cleanups.push({ name: 'the state file', run: () => removeState(stateFile, process.pid) });

  report.line();
  report.line(
    'The demo: each step goes through the trigger AWS would use, then the emulator is asked what is open.',
  );
  const demo = {
    exchange,
    httpUrl: offline.httpUrl,
    lambdaUrl: offline.lambdaUrl,
    functions,
    sweep: { maxAgeSeconds: STALE_AFTER_SECONDS, prefix: BOT_PREFIX },
    report,
    reporting,
  };
  // The steps after the demo's own: the dead man's switch, the runaway bot, Telegram.
  const later = 3;
  const outcomes = await runDemo(demo, later);
  const total = outcomes.length + later;
  outcomes.push(await deadMansSwitchStep({ ...demo, scheduler }, `[${total - 2}/${total}]`));
  outcomes.push(await runawayBotStep(demo, `[${total - 1}/${total}]`));
  outcomes.push(await telegramStep({ exchange, reporting, report }, `[${total}/${total}]`));
  const ok = printOutcome(outcomes);

  if (options.once) return ok ? 0 : 1;

  const reseeded = exchange.seed();
  printTryIt(state, reseeded);
  scheduler.onDelivered = (name, delivery) => {
    const result = delivery.ok ? delivery.result : undefined;
    const outcome = result
      ? `the kill switch cancelled ${result.cancelled}, remaining ${result.remaining}, ok ${result.ok}`
      : `the kill switch failed: ${delivery.ok ? '' : delivery.errorMessage}`;
    report.line(
      `${new Date().toISOString()} The dead man's switch fired (${name}, no heartbeat in time): ${outcome}. ` +
        `The emulator holds ${exchange.emulator.openOrders().length} open orders; restart npm start for a fresh book.`,
    );
  };
  return new Promise<number>(() => {
    // Runs until a signal stops it (the open servers keep the process alive).
  });
}

function printOutcome(outcomes: StepOutcome[]): boolean {
  const seconds = process.uptime().toFixed(1);
  const ok = outcomes.every((o) => o.ok);
  // The last kill switch's book: the runaway bot's one order after its reset is the only one after it.
  const killSwitches = outcomes.filter((o) => o.title === 'kill switch' || o.title === "dead man's switch");
  const cleared = killSwitches.length > 0 && killSwitches.every((o) => o.openAfter === 0);
  report.line();
  report.line('What happened (open orders counted in the emulator after each step):');
  report.line(`  ${'step'.padEnd(26)}${'cancelled'.padStart(10)}${'open after'.padStart(12)}  result`);
  for (const [i, o] of outcomes.entries()) {
    report.line(
      `  ${`${i + 1} ${o.title}`.padEnd(26)}${String(o.cancelled).padStart(10)}${String(o.openAfter).padStart(12)}  ${o.ok ? '✔' : `✘ ${o.problems.join('; ')}`}`,
    );
  }
  if (ok && cleared) {
    report.line(
      `✔ All clear: 0 orders left open after each kill switch, and the runaway bot stopped until its reset. Outcome ${seconds} s after start.`,
    );
  } else {
    report.line(
      `✘ The demo did not end as it should (outcome ${seconds} s after start); function logs have details.`,
    );
  }
  report.line();
  return ok && cleared;
}

function printTryIt(state: LocalState, reseeded: number) {
  const cancelBody = JSON.stringify(WEBHOOK_ORDER);
  const scopeBody = JSON.stringify(TRY_SCOPE);
  const now = Date.now();
  const until = new Date(now + state.maxSkewSeconds * 1000).toISOString();
  report.line(
    `The stack stays up for you to try it; Ctrl-C stops everything. The emulator holds ${reseeded} new open orders.`,
  );
  report.line();
  report.line(
    `Cancel one order (signed now, for that route: valid once, for ${state.maxSkewSeconds} s, until ${until}; npm run sign -- '<json body>' signs any body):`,
  );
  report.line(
    `  ${curlCommand(`${state.httpUrl}/cancel`, cancelBody, signHeaders(state.webhookSecret, '/cancel', cancelBody, now))}`,
  );
  report.line();
  report.line('Cancel every spot TP/SL order of the hedge account:');
  report.line(
    `  ${curlCommand(`${state.httpUrl}/cancel-all`, scopeBody, signHeaders(state.webhookSecret, '/cancel-all', scopeBody, now))}`,
  );
  report.line();
  report.line('Fire the kill switch (the EventBridge event, delivered to the local cancelAll function):');
  report.line('  npm run kill-switch -- --stage local --reason "trying it"');
  report.line();
  report.line(
    'Run the kill-switch drill (read-only; exits 1 while an account has a problem, as hedge does):',
  );
  report.line('  npm run kill-switch -- --drill --stage local');
  report.line();
  report.line(
    "How the stack stands: the halt, the dead man's switch, the last kill switch and drill (exits 1 while something needs you):",
  );
  report.line('  npm run kill-switch -- --status --stage local');
  report.line();
  report.line(
    'A kill switch halts the accounts it covers; end the halt (it asks you to type the stage name):',
  );
  report.line('  npm run kill-switch -- --reset --stage local');
  report.line();
  report.line(
    'A live fire drill, the emulator playing testnet: real orders far from the market, the kill switch, the check, the reset:',
  );
  report.line('  npm run kill-switch -- --fire-drill --stage local');
  report.line();
  report.line('Run the stale-order sweep (the EventBridge Scheduled Event):');
  report.line(
    `  curl -sS -X POST '${state.lambdaUrl}/2015-03-31/functions/${state.functions.cancel}/invocations' --data @events/schedule.json`,
  );
  report.line();
  const heartbeatBody = JSON.stringify({ ttlSeconds: 300 });
  report.line(
    "Last, arm the dead man's switch: after 300 s of silence (15 s here) it fires the kill switch, and this",
  );
  report.line(
    'terminal says so. Each signed request is served once: npm run sign -- \'{"ttlSeconds":300}\' signs a new',
  );
  report.line('heartbeat to move it, npm run sign -- \'{"disarm":true}\' the disarm:');
  report.line(
    `  ${curlCommand(`${state.httpUrl}/heartbeat`, heartbeatBody, signHeaders(state.webhookSecret, '/heartbeat', heartbeatBody, now))}`,
  );
  report.line();
}

interface Options {
  once: boolean;
  port?: number;
  lambdaPort?: number;
  state: string;
}

function readOptions(): Options {
  let values: { once?: boolean; port?: string; 'lambda-port'?: string; state?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        once: { type: 'boolean' },
        port: { type: 'string' },
        'lambda-port': { type: 'string' },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) {
    report.line(USAGE);
    process.exit(0);
  }
  const ci = ['true', '1'].includes(process.env.CI?.toLowerCase() ?? '');
  return {
    once: values.once === true || ci,
    port: portOption('--port', values.port),
    lambdaPort: portOption('--lambda-port', values['lambda-port']),
    state: values.state ?? DEFAULT_STATE_FILE,
  };
}

function portOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new UsageError(`${name} must be a port number from 1 to 65535, got "${value}"`);
  }
  return port;
}

/**
 * A stack recorded in the state file: refuse to start a second one over it while it runs; if its
 * `npm start` was killed outright, stop the serverless-offline it left behind.
 */
async function clearLeftovers(stateFile: string) {
  const previous = readState(stateFile);
  if (!previous) return;
  if (previous.pid !== process.pid && isAlive(previous.pid)) {
    throw new UsageError(
      `a local stack is already running (pid ${previous.pid}, ${previous.httpUrl}). Stop it with Ctrl-C, or give this one another --state file.`,
    );
  }
  if (groupExists(previous.offlinePid) && isServerless(previous.offlinePid)) {
    report.line(
      `Stopping the serverless-offline a killed npm start left behind (process group ${previous.offlinePid}).`,
    );
    process.kill(-previous.offlinePid, 'SIGKILL');
    // Its ports are free once the whole group is gone.
    for (let i = 0; i < 50 && groupExists(previous.offlinePid); i++) await sleep(100);
  }
  removeState(stateFile, previous.pid);
}

/** Only a process that is serverless is stopped (process ids are reused); without /proc, nothing is. */
function isServerless(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('serverless');
  } catch {
    return false;
  }
}

/** A port for serverless-offline; one the user asked for must be free. */
async function portFor(
  flag: string,
  preferred: number,
  asked: boolean,
  avoid: number[] = [],
): Promise<number> {
  try {
    return await choosePort(preferred, asked, avoid);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

/** A path relative to the working directory when it is inside it. */
function shortPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

main().then(
  (code) => exit(code),
  async (error: unknown) => {
    if (exiting) return exiting;
    if (error instanceof UsageError) process.stderr.write(`npm start: ${error.message}\n\n${USAGE}\n`);
    else process.stderr.write(`npm start failed: ${(error as Error).message ?? error}\n`);
    await exit(error instanceof UsageError ? 2 : 1);
  },
);
