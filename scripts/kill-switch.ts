// `npm run kill-switch -- --stage <stage>`: fires the kill switch.
// - A deployed stage: puts the kill-switch event on the default EventBridge bus (PutEvents), checks that the
//   stack's rule (serverless.yml names it `<service>-<stage>-kill-switch`) routes it to the cancelAll function,
//   then waits for that event's record in the state table (`<service>-<stage>-state`) and prints it per
//   account; the exit code is 0 only when nothing is left open. `--no-wait` returns once the event is sent.
// - `--stage local`: invokes the running local stack's cancelAll function with the same event and prints what
//   it cancelled; the exit code is 0 only when nothing is left open.
// - `--status`: how the stack stands (lib/lambda/status.ts, what POST /status answers): halt, the dead man's
//   switch from the Scheduler, the last kill switch and the last drill from the state table; exit 0 when all
//   is well.
// - `--drill`: the kill-switch drill instead (read-only, nothing is cancelled), printed as a table; the exit
//   code is 1 when an account has a problem. It invokes the drill function with {"drill": true} (locally
//   through the stack's Lambda endpoint); a failed drill throws there, and its message names every account
//   and problem.
// - `--reset`: ends a halt (scripts/deploy/halt-reset.ts): the stage's reset function, invoked directly,
//   after the person typed the stage name (or passed --yes).
// - `--fire-drill`: a live fire drill on testnet or demo trading (scripts/deploy/fire-drill.ts): real orders
//   far from the market, the real kill switch, the orders verified gone, its halt reset, each phase timed.

import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { scheduleName } from '../lib/cancel/dead-mans-switch.ts';
import type { DrillReport } from '../lib/cancel/drill.ts';
import type { KillSwitchReport } from '../lib/cancel/kill-switch.ts';
import { ValidationError } from '../lib/errors.ts';
import { defaults as configDefaults } from '../lib/lambda/config.ts';
import { firedBy } from '../lib/lambda/messages.ts';
import { type RunRecord, recordKeys } from '../lib/lambda/records.ts';
import { parseCancelAllRequest } from '../lib/lambda/requests.ts';
import { EventBridgeSchedule } from '../lib/lambda/scheduler.ts';
import { StateStore } from '../lib/lambda/state.ts';
import { readStatus } from '../lib/lambda/status.ts';
import { UsageError } from './deploy/args.ts';
import { fireDrill } from './deploy/fire-drill.ts';
import { resetStage } from './deploy/halt-reset.ts';
import {
  deployedTarget,
  localTarget,
  NotDoneError,
  pollRecord,
  putKillSwitchEvent,
  type StageTarget,
} from './deploy/target.ts';
import { drillTable, drillVerdict } from './local/drill-table.ts';
import { eventBridgeEvent, type Invocation, invokeFunction } from './local/invoke.ts';
import { createReporter } from './local/progress.ts';
import { accountTable, statusLines } from './local/report-table.ts';
import { defaultRegion, serviceName } from './local/service.ts';
import { DEFAULT_STATE_FILE, LOCAL_STAGE, type LocalState, runningState } from './local/state.ts';

const USAGE = `usage: npm run kill-switch -- --stage <stage> [--account <name>]… [--reason <text>] [--region <region>] [--no-wait]
       npm run kill-switch -- --drill --stage <stage> [--account <name>]… [--region <region>]
       npm run kill-switch -- --status --stage <stage> [--region <region>] [--json]
       npm run kill-switch -- --reset --stage <stage> [--account <name>]… [--region <region>] [--yes]
       npm run kill-switch -- --fire-drill --stage <stage> [--account <name>]… [--region <region>] [--mainnet]
  --drill        check, without cancelling anything, that the kill switch would work for every account
  --status       how the stack stands: halt, the dead man's switch, the last kill switch and the last drill
  --reset        end the halt (every halted account, or the ones named): the keys it made read-only are made
                 read-write again, with their IPs; asks you to type the stage name
  --yes          --reset: do not ask (a script, not a terminal)
  --fire-drill   a live fire drill on testnet or demo trading: one post-only order far from the market per
                 account, linear and spot; the real kill switch; the orders verified gone; its halt reset
  --mainnet      --fire-drill: allow a stage on mainnet (you must still type the stage name)
  --stage        the stage you deployed (npx serverless deploy --stage …), or "local" for the stack npm start runs
  --account      only this account of the exchange secret (repeat for several; default: every account)
  --reason       recorded in the event, the report and the message (default: who fired it, from where)
  --no-wait      a deployed stage: return once the event is sent, without waiting for its report
  --json         --status: print the status as JSON (what POST /status answers)
  --region       the region you deployed to (default: serverless.yml's, ${defaultRegion()})
  --source       the event source, if you changed KILL_SWITCH_SOURCE (default ${configDefaults.KILL_SWITCH_SOURCE})
  --detail-type  the detail-type, if you changed KILL_SWITCH_DETAIL_TYPE (default "${configDefaults.KILL_SWITCH_DETAIL_TYPE}")
  --state        the local stack's state file (default .local/stack.json; --stage local only)
exit status: 0 done (nothing left open; drill: no problem; status: all is well; --no-wait: the event was
  sent to an enabled rule; reset: every halt named is over; fire drill: every order cancelled and verified),
  1 failed, not everything cancelled, a drill problem, a status that needs attention, a reset or fire drill
  that did not complete, 2 wrong arguments`;

const STAGE = /^[a-zA-Z0-9-]{1,32}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const INVOKE_TIMEOUT_MS = 90_000;
/**
 * How long a deployed kill switch's report is waited for: the function's 60 s, and room for a run queued behind
 * another (cancelAll runs one at a time).
 */
const REPORT_WAIT_MS = 150_000;
/** The `origin` the event says: the report, the logs and the message name it. */
const CLI_ORIGIN = 'cli';

interface Options {
  drill: boolean;
  status: boolean;
  reset: boolean;
  fireDrill: boolean;
  yes: boolean;
  mainnet: boolean;
  wait: boolean;
  json: boolean;
  stage: string;
  detail: { accounts?: string[]; reason: string; origin: string };
  region?: string;
  source: string;
  detailType: string;
  state: string;
}

async function main(): Promise<void> {
  const options = readOptions();
  if (options.reset) {
    await resetStage({
      target: targetOf(options),
      ...(options.detail.accounts ? { accounts: options.detail.accounts } : {}),
      by: whoAmI(),
      yes: options.yes,
      out: createReporter(),
    });
  } else if (options.fireDrill) {
    await fireDrill({
      target: targetOf(options),
      ...(options.detail.accounts ? { accounts: options.detail.accounts } : {}),
      mainnet: options.mainnet,
      by: whoAmI(),
      kind: { source: options.source, detailType: options.detailType },
      out: createReporter(),
    });
  } else if (options.status) await showStatus(options);
  else if (options.drill)
    await (options.stage === LOCAL_STAGE ? drillLocal(options) : drillDeployed(options));
  else if (options.stage === LOCAL_STAGE) await fireLocal(options);
  else await fireDeployed(options);
}

/** The stage the reset or the fire drill speaks to: the local stack, or a deployed one. */
function targetOf(options: Options): StageTarget {
  if (options.stage !== LOCAL_STAGE) return deployedTarget(options.stage, options.region ?? defaultRegion());
  if (options.region)
    throw new UsageError('--region is for a deployed stage; the local stack runs on this machine');
  const state = runningState(options.state);
  if (state instanceof Error) throw new NotDoneError(state.message);
  return localTarget(state);
}

async function fireLocal(options: Options): Promise<void> {
  if (options.region)
    throw new UsageError('--region is for a deployed stage; the local stack runs on this machine');
  const state = runningState(options.state);
  if (state instanceof Error) throw new NotDoneError(state.message);
  const fn = state.functions.cancelAll;
  process.stdout.write(`Kill switch on the local stack: invoking ${fn} with the kill-switch event\n`);
  process.stdout.write(`  detail ${JSON.stringify(options.detail)}\n`);
  const event = eventBridgeEvent(options.source, options.detailType, options.detail, defaultRegion());
  const invocation = await invokeFunction(state.lambdaUrl, fn, event, INVOKE_TIMEOUT_MS);
  if (!invocation.ok) {
    // The function throws when anything is left open or a scope failed: its message names them.
    throw new NotDoneError(`the kill switch did not clear everything: ${invocation.errorMessage}`);
  }
  const result = invocation.result as unknown as KillSwitchResult;
  printScopes(result.scopes ?? []);
  printStrategies(result);
  const accounts = result.accounts?.length ?? 0;
  if (result.ok !== true || result.remaining !== 0) {
    throw new NotDoneError(
      `${result.remaining} order(s) still open; failed: ${result.failedScopes?.join(', ')}`,
    );
  }
  process.stdout.write(
    `✔ Cancelled ${result.cancelled} order(s) in ${accounts} account(s); nothing is left open (checked by listing). ${result.durationMs} ms.\n`,
  );
}

function drillEvent(options: Options): { drill: true; accounts?: string[] } {
  const { accounts } = options.detail;
  return { drill: true, ...(accounts ? { accounts } : {}) };
}

function printDrill(report: DrillReport): void {
  for (const line of drillTable(report)) process.stdout.write(`${line}\n`);
  const verdict = drillVerdict(report);
  if (!report.ok) throw new NotDoneError(verdict);
  process.stdout.write(`✔ ${verdict}\n`);
}

/**
 * What the drill function answered. A failed drill throws there, and Lambda passes on only the error's type
 * and message: the message lists every account with its problems.
 */
function printDrillOutcome(fn: string, outcome: Invocation): void {
  if (outcome.ok) {
    printDrill(outcome.result as unknown as DrillReport);
    return;
  }
  const { errorMessage: message } = outcome;
  if (message.startsWith(DRILL_FAILED)) {
    for (const reason of message.slice(DRILL_FAILED.length).split('; ')) {
      process.stdout.write(`  ✘ ${reason}\n`);
    }
    throw new NotDoneError(
      'the drill found problems: the kill switch would fail for these accounts. docs/guides/test-your-kill-switch.md says how to fix each.',
    );
  }
  throw new NotDoneError(`the drill could not run on ${fn}: ${outcome.errorType}: ${message}`);
}

/** How DrillFailedError's message starts (lib/errors.ts). */
const DRILL_FAILED = 'kill-switch drill failed: ';

async function drillDeployed(options: Options): Promise<void> {
  const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');
  const region = options.region ?? defaultRegion();
  const fn = `${serviceName()}-${options.stage}-drill`;
  const body = JSON.stringify(drillEvent(options));
  process.stdout.write(
    `Kill-switch drill for stage ${options.stage} in ${region}: invoking ${fn} with ${body} (read-only: nothing is cancelled)\n`,
  );
  // One attempt: a drill that timed out is reported, not run again behind the user's back.
  const client = new LambdaClient({
    region,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3000, requestTimeout: INVOKE_TIMEOUT_MS },
  });
  let out: { FunctionError?: string; Payload?: Uint8Array; $metadata?: { requestId?: string } };
  try {
    out = await createReporter().wait(`  waiting for ${fn} (up to ${INVOKE_TIMEOUT_MS / 1000} s)`, () =>
      client.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'RequestResponse', Payload: body })),
    );
  } catch (error) {
    throw new NotDoneError(`could not invoke ${fn}: ${describe(error)}`);
  }
  const text = new TextDecoder().decode(out.Payload ?? new Uint8Array());
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(text || '{}') as Record<string, unknown>;
  } catch {
    throw new NotDoneError(`${fn} answered something that is not JSON: ${text.slice(0, 300)}`);
  }
  if (out.FunctionError && payload.errorType === 'DrillFailedError') {
    // The whole report is in the state table, under this invocation's request id: print it as a table.
    const recorded = await recordedDrill(options, region, out.$metadata?.requestId);
    if (recorded) return printDrill(recorded);
  }
  printDrillOutcome(
    fn,
    out.FunctionError
      ? {
          ok: false,
          errorType: String(payload.errorType ?? 'Error'),
          errorMessage: String(payload.errorMessage ?? text.slice(0, 500)),
        }
      : { ok: true, result: payload },
  );
}

/** The report of the drill with this request id, from the state table's last drill; undefined if not there. */
async function recordedDrill(
  options: Options,
  region: string,
  requestId: string | undefined,
): Promise<DrillReport | undefined> {
  if (!requestId) return undefined;
  try {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const store = new StateStore({
      tableName: `${serviceName()}-${options.stage}-state`,
      client: new DynamoDBClient({ region, maxAttempts: 2 }),
    });
    const record = (await store.get<RunRecord>(recordKeys.last('drill')))?.value;
    const report = record?.requestId === requestId ? (record.report as DrillReport | undefined) : undefined;
    return Array.isArray(report?.accounts) ? report : undefined;
  } catch {
    // Without the table the error message still names every problem.
    return undefined;
  }
}

async function drillLocal(options: Options): Promise<void> {
  if (options.region)
    throw new UsageError('--region is for a deployed stage; the local stack runs on this machine');
  const state = runningState(options.state);
  if (state instanceof Error) throw new NotDoneError(state.message);
  const fn = state.functions.drill;
  const event = drillEvent(options);
  process.stdout.write(
    `Kill-switch drill on the local stack: invoking ${fn} with ${JSON.stringify(event)} (read-only: nothing is cancelled)\n`,
  );
  printDrillOutcome(fn, await invokeFunction(state.lambdaUrl, fn, event, INVOKE_TIMEOUT_MS));
}

interface KillSwitchResult {
  ok?: boolean;
  cancelled?: number;
  remaining?: number;
  accounts?: string[];
  failedScopes?: string[];
  durationMs?: number;
  scopes?: {
    account: string;
    scope: string;
    cancelled: number;
    remaining: number;
    error?: { errorMessage?: string };
  }[];
  strategies?: { account: string; stopped: StrategyLine[] }[];
  warnings?: string[];
}

interface StrategyLine {
  strategyId: string;
  strategyType: string;
  symbol: string;
  statusName: string;
}

/** The strategy orders the run stopped, and what a person must still do (bots). */
function printStrategies(result: KillSwitchResult) {
  for (const { account, stopped } of result.strategies ?? []) {
    for (const s of stopped) {
      process.stdout.write(
        `  ${account}: stopped ${s.strategyType} ${s.symbol} (${s.statusName}) ${s.strategyId}\n`,
      );
    }
  }
  for (const warning of result.warnings ?? []) process.stdout.write(`  ! ${warning}\n`);
}

function printScopes(scopes: NonNullable<KillSwitchResult['scopes']>) {
  const shown = scopes.filter((s) => s.cancelled > 0 || s.remaining > 0 || s.error);
  const width = Math.max(7, ...shown.map((s) => s.account.length));
  const scopeWidth = Math.max(5, ...shown.map((s) => s.scope.length));
  process.stdout.write(
    `  ${'account'.padEnd(width)}  ${'scope'.padEnd(scopeWidth)}${'cancelled'.padStart(11)}${'remaining'.padStart(11)}\n`,
  );
  for (const s of shown) {
    const error = s.error?.errorMessage ? `  ${s.error.errorMessage}` : '';
    process.stdout.write(
      `  ${s.account.padEnd(width)}  ${s.scope.padEnd(scopeWidth)}${String(s.cancelled).padStart(11)}${String(s.remaining).padStart(11)}${error}\n`,
    );
  }
  if (shown.length < scopes.length) {
    process.stdout.write(`  (${scopes.length - shown.length} more scope(s) had no open orders)\n`);
  }
}

async function fireDeployed(options: Options): Promise<void> {
  const { EventBridgeClient, ListRulesCommand } = await import('@aws-sdk/client-eventbridge');
  const region = options.region ?? defaultRegion();
  const fn = `${serviceName()}-${options.stage}-cancelAll`;
  const client = new EventBridgeClient({
    region,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 3000, requestTimeout: 10_000 },
  });
  process.stdout.write(
    `Kill switch for stage ${options.stage} in ${region}${options.region ? '' : " (serverless.yml's default; pass --region if you deployed elsewhere)"}\n`,
  );
  process.stdout.write(
    `  putting the event on the default bus: source ${options.source}, detail-type "${options.detailType}", detail ${JSON.stringify(options.detail)}\n`,
  );
  let eventId: string;
  try {
    eventId = await putKillSwitchEvent(
      region,
      { source: options.source, detailType: options.detailType },
      options.detail,
    );
  } catch (error) {
    const message = (error as Error).message;
    throw new NotDoneError(
      message.startsWith('EventBridge refused')
        ? message
        : `EventBridge did not take the event: ${describe(error)}`,
    );
  }
  process.stdout.write(`✔ EventBridge accepted the event: entry id ${eventId}\n`);

  // An accepted event reaches nothing when no rule matches it (wrong region or stage, changed source).
  const ruleName = `${serviceName()}-${options.stage}-kill-switch`;
  let rules: { Name?: string; State?: string; EventPattern?: string }[];
  try {
    rules =
      (await client.send(new ListRulesCommand({ NamePrefix: ruleName, EventBusName: 'default' }))).Rules ??
      [];
  } catch (error) {
    process.stdout.write(
      `? Could not check the rule ${ruleName} (${describe(error)}); the event was sent.\n`,
    );
    return options.wait ? waitDeployed(options, region, eventId) : printNextSteps(options.stage, region);
  }
  const rule = rules.find(
    (r) => r.Name === ruleName && matches(r.EventPattern, options.source, options.detailType),
  );
  if (rule?.State !== 'ENABLED') {
    printNextSteps(options.stage, region);
    throw new NotDoneError(
      rule
        ? `rule ${rule.Name} matches but is ${rule.State}: nothing will run`
        : `no rule ${ruleName} in ${region} matches this event: nothing will run. Check --stage and --region (and --source/--detail-type if you changed them).`,
    );
  }
  process.stdout.write(`✔ Rule ${rule.Name} (ENABLED) sends it to ${fn}\n`);
  if (!options.wait) return printNextSteps(options.stage, region);
  await waitDeployed(options, region, eventId);
}

/** Waits for the record the function writes under the event id, then prints it; throws unless all clear. */
async function waitDeployed(options: Options, region: string, eventId: string): Promise<void> {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const tableName = `${serviceName()}-${options.stage}-state`;
  const store = new StateStore({ tableName, client: new DynamoDBClient({ region, maxAttempts: 3 }) });
  const record = await createReporter().wait(
    `  waiting for its report in ${tableName} (up to ${REPORT_WAIT_MS / 1000} s)`,
    () =>
      pollRecord(store, eventId, REPORT_WAIT_MS).catch((error: unknown) => {
        throw new NotDoneError(
          `the event was sent, but its report cannot be read: ${(error as Error).message}`,
        );
      }),
  );
  if (!record) {
    throw new NotDoneError(
      `no report for event ${eventId} after ${REPORT_WAIT_MS / 1000} s: the function may still be running, or queued behind another kill switch. Check again with npm run kill-switch -- --status --stage ${options.stage}, or read the logs: npx serverless logs -f cancelAll --stage ${options.stage} --region ${region} --startTime 10m`,
    );
  }
  printRecord(record);
}

/** A kill switch's record: who fired it, the per-account table, the verdict. */
function printRecord(record: RunRecord): void {
  const report = record.report as Partial<KillSwitchReport> | undefined;
  process.stdout.write(
    `Kill switch ${record.eventId ?? record.requestId}, fired by ${firedBy(record)}${record.reason ? `: ${record.reason}` : ''}\n`,
  );
  if (!report) {
    throw new NotDoneError(
      `the kill switch failed before it could report: ${record.error?.type}: ${record.error?.message} (log group ${record.logGroup}, request id ${record.requestId})`,
    );
  }
  for (const line of accountTable(report)) process.stdout.write(`${line}\n`);
  printStrategies(report as KillSwitchResult);
  const accounts = report.accounts?.length ?? 0;
  if (!record.ok || report.remaining !== 0) {
    throw new NotDoneError(
      `${report.remaining ?? '?'} order(s) still open${report.failedScopes?.length ? `; failed: ${report.failedScopes.join(', ')}` : ''}. Act on the ids above in Bybit; the whole report is in ${record.logGroup} (request id ${record.requestId}).`,
    );
  }
  process.stdout.write(
    `✔ Cancelled ${report.cancelled} order(s) in ${accounts} account(s); nothing is left open (checked by listing). ${report.durationMs} ms.\n`,
  );
}

function printNextSteps(stage: string, region: string) {
  process.stdout.write(
    [
      'The function runs asynchronously, once: Lambda does not retry it (a retry could walk into an IP ban). A run that',
      `failed (orders left open, a scope that failed) sends a message to the reports topic, raises an alarm and ends in the SQS queue ${serviceName()}-${stage}-failures.`,
      `See how it ended: npm run kill-switch -- --status --stage ${stage} --region ${region}`,
      `  or its logs:     npx serverless logs -f cancelAll --stage ${stage} --region ${region} --startTime 10m`,
      '',
    ].join('\n'),
  );
}

/** The status of a deployed or the local stack; throws (exit 1) unless all is well. */
async function showStatus(options: Options): Promise<void> {
  const sources =
    options.stage === LOCAL_STAGE ? await localSources(options) : await deployedSources(options);
  const status = await readStatus({ ...sources, stage: options.stage });
  if (options.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  else {
    process.stdout.write(
      `Stack ${serviceName()}-${options.stage}${sources.where}, checked ${status.checkedAt}\n`,
    );
    for (const line of statusLines(status, Date.now())) process.stdout.write(`${line}\n`);
  }
  if (!status.ok) throw new NotDoneError(`Needs attention: ${status.attention.join('; ')}`);
  if (!options.json) process.stdout.write('✔ All is well.\n');
}

async function deployedSources(options: Options) {
  const [{ DynamoDBClient }, { SchedulerClient }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-scheduler'),
  ]);
  const region = options.region ?? defaultRegion();
  return {
    where: ` in ${region}`,
    state: new StateStore({
      tableName: `${serviceName()}-${options.stage}-state`,
      client: new DynamoDBClient({ region, maxAttempts: 3 }),
    }),
    schedule: scheduleOf(options.stage, new SchedulerClient({ region, maxAttempts: 3 })),
  };
}

async function localSources(options: Options) {
  if (options.region)
    throw new UsageError('--region is for a deployed stage; the local stack runs on this machine');
  const state = runningState(options.state);
  if (state instanceof Error) throw new NotDoneError(state.message);
  const [{ DynamoDBClient }, { SchedulerClient }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-scheduler'),
  ]);
  const local = localClientOptions(state);
  return {
    where: ' (local)',
    state: new StateStore({
      tableName: state.stateTable,
      client: new DynamoDBClient({ ...local, endpoint: state.stateUrl }),
    }),
    schedule: scheduleOf(options.stage, new SchedulerClient({ ...local, endpoint: state.schedulerUrl })),
  };
}

/** The local endpoints check no signature, but the SDK signs every request: any credentials do. */
function localClientOptions(state: LocalState) {
  return { region: state.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local-demo' } };
}

/** The dead man's switch schedule of a stage, read only (the target fields are never used here). */
function scheduleOf(stage: string, client: ConstructorParameters<typeof EventBridgeSchedule>[0]['client']) {
  return new EventBridgeSchedule({
    client,
    name: scheduleName(stage),
    groupName: 'default',
    busArn: '',
    roleArn: '',
    source: configDefaults.KILL_SWITCH_SOURCE,
    detailType: configDefaults.KILL_SWITCH_DETAIL_TYPE,
  });
}

function matches(pattern: string | undefined, source: string, detailType: string): boolean {
  try {
    const parsed = JSON.parse(pattern ?? '{}') as { source?: unknown; 'detail-type'?: unknown };
    const has = (list: unknown, value: string) => Array.isArray(list) && list.includes(value);
    return has(parsed.source, source) && has(parsed['detail-type'], detailType);
  } catch {
    return false;
  }
}

/** An AWS error as a person can act on it, never more than its name and message. */
function describe(error: unknown): string {
  const { name, message } = error as Error;
  if (name === 'CredentialsProviderError') {
    return 'no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login)';
  }
  return `${name}: ${message}`;
}

function readOptions(): Options {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        stage: { type: 'string' },
        drill: { type: 'boolean' },
        account: { type: 'string', multiple: true },
        reason: { type: 'string' },
        region: { type: 'string' },
        source: { type: 'string' },
        'detail-type': { type: 'string' },
        state: { type: 'string' },
        status: { type: 'boolean' },
        reset: { type: 'boolean' },
        yes: { type: 'boolean' },
        'fire-drill': { type: 'boolean' },
        mainnet: { type: 'boolean' },
        'no-wait': { type: 'boolean' },
        json: { type: 'boolean' },
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
  const stage = values.stage as string | undefined;
  if (stage === undefined) throw new UsageError('--stage is required (the stage you deployed, or local)');
  if (!STAGE.test(stage)) throw new UsageError(`--stage "${stage}" is not a stage name (letters, digits, -)`);
  const region = values.region as string | undefined;
  if (region !== undefined && !REGION.test(region)) {
    throw new UsageError(`--region "${region}" is not an AWS region, e.g. ap-southeast-1`);
  }
  const accounts = (values.account as string[] | undefined)
    ?.flatMap((a) => a.split(','))
    .map((a) => a.trim());
  const detail = {
    ...(accounts ? { accounts } : {}),
    reason: (values.reason as string | undefined) ?? whoAmI(),
  };
  try {
    // The function's strict validation (the one HTTP callers get): an event is read leniently, but a
    // person at a prompt is better told about a mistake than covered for it.
    parseCancelAllRequest(detail);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const flag = error.field.startsWith('account') ? '--account' : `--${error.field}`;
    throw new UsageError(`${flag}: ${error.message}`);
  }
  for (const name of ['source', 'detail-type'] as const) {
    const value = values[name];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '' || value.length > 256)) {
      throw new UsageError(`--${name} must be a non-empty text of at most 256 characters`);
    }
  }
  const modes = ['drill', 'status', 'reset', 'fire-drill'].filter((name) => values[name] === true);
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} cannot be given together`);
  if (values.drill && values.reason !== undefined)
    throw new UsageError('--reason is for the kill switch, not --drill');
  if (values.reset || values['fire-drill']) {
    const mode = values.reset ? 'reset' : 'fire-drill';
    const extra = ['reason', 'no-wait', 'json', ...(values.reset ? ['source', 'detail-type'] : [])].find(
      (name) => values[name] !== undefined,
    );
    if (extra) throw new UsageError(`--${extra} is not for --${mode}`);
  }
  if (values.yes && !values.reset) throw new UsageError('--yes is for --reset');
  if (values.mainnet && !values['fire-drill']) throw new UsageError('--mainnet is for --fire-drill');
  if (values.status) {
    const firing = ['drill', 'account', 'reason', 'no-wait', 'source', 'detail-type'].find(
      (name) => values[name] !== undefined,
    );
    if (firing) throw new UsageError(`--${firing} is for firing the kill switch or the drill, not --status`);
  }
  if (values.json && !values.status) throw new UsageError('--json is for --status');
  if (values['no-wait'] && (values.drill || stage === LOCAL_STAGE)) {
    throw new UsageError('--no-wait is for the kill switch on a deployed stage');
  }
  return {
    drill: values.drill === true,
    status: values.status === true,
    reset: values.reset === true,
    fireDrill: values['fire-drill'] === true,
    yes: values.yes === true,
    mainnet: values.mainnet === true,
    wait: values['no-wait'] !== true,
    json: values.json === true,
    stage,
    detail: { ...detail, origin: CLI_ORIGIN },
    region,
    source: (values.source as string | undefined) ?? configDefaults.KILL_SWITCH_SOURCE,
    detailType: (values['detail-type'] as string | undefined) ?? configDefaults.KILL_SWITCH_DETAIL_TYPE,
    state: (values.state as string | undefined) ?? DEFAULT_STATE_FILE,
  };
}

function whoAmI(): string {
  let user = 'someone';
  try {
    user = userInfo().username;
  } catch {
    // No user entry (some containers): the host still says where it came from.
  }
  return `npm run kill-switch by ${user}@${hostname()}`;
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`npm run kill-switch: ${error.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else if (error instanceof NotDoneError) {
    process.stderr.write(`✘ ${error.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`npm run kill-switch failed: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  }
});
