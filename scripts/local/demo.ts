// The four things the product does, each through the way it is triggered in production, checked against what
// the exchange emulator holds afterwards (its truth, not the functions' word):
//   1. a signed webhook cancel (HTTP POST /cancel), after a forged one is refused;
//   2. a scoped cancel-all (HTTP POST /cancel-all);
//   3. the stale-order sweep (the cancel function invoked with the EventBridge Scheduled Event);
//   then the kill-switch drill (drill-step.ts), read-only, which finds the demo's expiring key;
//   4. the kill switch (the cancelAll function invoked with the kill-switch event), with a few orders that
//      survive their first cancel, as Bybit's asynchronous cancel can leave them, for the verification to catch;
//      it halts every account (halt-step.ts), and the demo resets them for the steps after it.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmulatedOrder } from '../../test/emulator/index.ts';
import { drillStep } from './drill-step.ts';
import type { LocalExchange } from './exchange.ts';
import { haltLines, resetHalts } from './halt-step.ts';
import { type Invocation, invokeFunction } from './invoke.ts';
import type { Reporter } from './progress.ts';
import { type LocalReporting, printMessages } from './reporting.ts';
import { WEBHOOK_ORDER } from './seed.ts';
import { ROOT } from './state.ts';
import { postSigned, signHeaders } from './webhook.ts';

export interface DemoContext {
  exchange: LocalExchange;
  httpUrl: string;
  lambdaUrl: string;
  functions: { cancel: string; cancelAll: string; drill: string; reset: string };
  sweep: { maxAgeSeconds: number; prefix: string };
  report: Reporter;
  /** Where the reports go; the kill switch step prints the message a person receives. */
  reporting: LocalReporting;
}

export interface StepOutcome {
  title: string;
  cancelled: number;
  /** Open orders in the emulator after the step. */
  openAfter: number;
  ok: boolean;
  problems: string[];
}

const HTTP_TIMEOUT_MS = 30_000;
const INVOKE_TIMEOUT_MS = 90_000;
const SCOPED_CANCEL_ALL = { account: 'main', category: 'linear', symbol: 'ETHUSDT' };
const CANCEL_ALL_PATH = '/v5/order/cancel-all';

/**
 * Runs the steps and returns what each did; never throws for a step that went wrong. `laterSteps` is how
 * many the caller runs after these, so that every step's "[i/n]" counts them all.
 */
export async function runDemo(ctx: DemoContext, laterSteps = 0): Promise<StepOutcome[]> {
  const steps = [webhookCancel, scopedCancelAll, staleSweep, drillStep, killSwitch];
  const outcomes: StepOutcome[] = [];
  for (const [i, step] of steps.entries()) {
    const { outcome, check } = newStep('');
    try {
      await step(ctx, outcome, check, `[${i + 1}/${steps.length + laterSteps}]`);
    } catch (error) {
      check(false, (error as Error).message);
    }
    ctx.exchange.emulator.setSurvivors(null);
    outcome.openAfter = ctx.exchange.emulator.openOrders().length;
    for (const problem of outcome.problems) ctx.report.line(`      ✘ ${problem}`);
    outcomes.push(outcome);
  }
  return outcomes;
}

/** Marks the step failed, with `problem`, unless `condition` holds. */
export type Check = (condition: boolean, problem: string) => void;

/** A step's outcome before it runs (nothing cancelled, ok), and the `check` that records its problems. */
export function newStep(title: string): { outcome: StepOutcome; check: Check } {
  const outcome: StepOutcome = { title, cancelled: 0, openAfter: 0, ok: true, problems: [] };
  const check: Check = (condition, problem) => {
    if (!condition) {
      outcome.ok = false;
      outcome.problems.push(problem);
    }
  };
  return { outcome, check };
}

async function webhookCancel(ctx: DemoContext, outcome: StepOutcome, check: Check, n: string) {
  const { report, exchange } = ctx;
  outcome.title = 'signed webhook cancel';
  const body = JSON.stringify(WEBHOOK_ORDER);
  const url = `${ctx.httpUrl}/cancel`;
  report.line(`${n} Signed webhook cancel: POST /cancel ${body}`);

  const calls = exchange.emulator.requests.length;
  const forged = await report.wait('      a forged signature first', () =>
    postSigned(url, body, signHeaders(randomBytes(24).toString('hex'), '/cancel', body), HTTP_TIMEOUT_MS),
  );
  const reached = exchange.emulator.requests.length - calls;
  report.line(
    `      → ${forged.status} ${forged.body.message ?? ''} (${reached} requests reached the exchange)`,
  );
  check(forged.status === 401, `a forged signature got HTTP ${forged.status}, expected 401`);
  check(reached === 0, `a forged request reached the exchange ${reached} time(s)`);

  const signed = await report.wait('      signed with the webhook key', () =>
    postSigned(url, body, signHeaders(exchange.webhookSecret, '/cancel', body), HTTP_TIMEOUT_MS),
  );
  report.line(`      → ${signed.status} ${answered(signed.body)}, orderId ${signed.body.orderId}`);
  check(signed.status === 200, `the signed cancel got HTTP ${signed.status}, expected 200`);
  const stillOpen = openOf(ctx, WEBHOOK_ORDER.account).some(
    (o) => o.orderLinkId === WEBHOOK_ORDER.orderLinkId,
  );
  report.line(`      emulator: ${WEBHOOK_ORDER.orderLinkId} is ${stillOpen ? 'STILL OPEN' : 'cancelled'}`);
  check(!stillOpen, `${WEBHOOK_ORDER.orderLinkId} is still open in the emulator`);
  outcome.cancelled = signed.status === 200 ? 1 : 0;
}

async function scopedCancelAll(ctx: DemoContext, outcome: StepOutcome, check: Check, n: string) {
  const { report, exchange } = ctx;
  outcome.title = 'scoped cancel-all';
  const body = JSON.stringify(SCOPED_CANCEL_ALL);
  const inScope = () =>
    exchange.emulator.openOrders(apiKeyOf(ctx, SCOPED_CANCEL_ALL.account), {
      category: 'linear',
      symbol: SCOPED_CANCEL_ALL.symbol,
    }).length;
  const before = inScope();
  report.line(`${n} Scoped cancel-all: POST /cancel-all ${body} (${before} open in that scope)`);
  const answer = await report.wait('      signed with the webhook key', () =>
    postSigned(
      `${ctx.httpUrl}/cancel-all`,
      body,
      signHeaders(exchange.webhookSecret, '/cancel-all', body),
      HTTP_TIMEOUT_MS,
    ),
  );
  report.line(
    `      → ${answer.status} cancelled ${answer.body.cancelled}, remaining ${answer.body.remaining} (verified by listing)`,
  );
  check(answer.status === 200, `the cancel-all got HTTP ${answer.status}: ${JSON.stringify(answer.body)}`);
  const after = inScope();
  report.line(`      emulator: ${after} open in that scope`);
  check(after === 0, `${after} order(s) still open in the scope`);
  check(
    answer.body.cancelled === before,
    `the function reported ${answer.body.cancelled} cancelled of ${before}`,
  );
  outcome.cancelled = before - after;
}

async function staleSweep(ctx: DemoContext, outcome: StepOutcome, check: Check, n: string) {
  const { report, exchange, sweep } = ctx;
  outcome.title = 'stale-order sweep';
  const cutoff = Date.now() - sweep.maxAgeSeconds * 1000;
  const before = exchange.emulator.openOrders();
  const selected = new Set(
    before
      .filter((o) => o.createdTime < cutoff && o.orderLinkId.startsWith(sweep.prefix))
      .map((o) => o.orderId),
  );
  const oldManual = before.filter((o) => o.createdTime < cutoff && !selected.has(o.orderId)).length;
  report.line(
    `${n} Stale-order sweep: the cancel function gets the EventBridge Scheduled Event (events/schedule.json)`,
  );
  report.line(
    `      it selects open orders older than ${sweep.maxAgeSeconds} s whose orderLinkId starts with "${sweep.prefix}": ${selected.size} of ${before.length}`,
  );
  const invocation = await report.wait(`      invoking ${ctx.functions.cancel}`, () =>
    invokeFunction(ctx.lambdaUrl, ctx.functions.cancel, freshEvent('schedule.json'), INVOKE_TIMEOUT_MS),
  );
  const result = resultOf(invocation, check);
  report.line(
    `      → stale ${result.stale}, cancelled ${result.cancelled}, remaining ${result.remaining}, ok ${result.ok}`,
  );
  const after = exchange.emulator.openOrders();
  const leftSelected = after.filter((o) => selected.has(o.orderId)).length;
  const untouched = after.length === before.length - selected.size + leftSelected;
  report.line(
    `      emulator: ${leftSelected} stale bot orders open; ${oldManual} old manual orders and every recent order untouched`,
  );
  check(invocation.ok && result.ok === true, 'the sweep did not report success');
  check(result.stale === selected.size, `the sweep selected ${result.stale}, expected ${selected.size}`);
  check(leftSelected === 0, `${leftSelected} stale order(s) still open`);
  check(untouched, 'the sweep cancelled orders it should have left alone');
  outcome.cancelled = before.length - after.length;
}

async function killSwitch(ctx: DemoContext, outcome: StepOutcome, check: Check, n: string) {
  const { report, exchange } = ctx;
  outcome.title = 'kill switch';
  const before = exchange.emulator.openOrders();
  // One order per account is acknowledged by its first cancel-all but stays open.
  const survivors = exchange.accounts
    .map((a) => exchange.emulator.openOrders(a.apiKey, { category: 'spot' })[0]?.orderId)
    .filter((id): id is string => id !== undefined);
  exchange.emulator.setSurvivors({ orderIds: survivors, times: 1 });
  exchange.emulator.resetRequests();
  const mark = ctx.reporting.mark();
  report.line(
    `${n} Kill switch: the cancelAll function gets the kill-switch EventBridge event (events/kill-switch.json)`,
  );
  report.line(
    `      ${before.length} open orders in ${exchange.accounts.length} accounts; ${survivors.length} of them will survive their first cancel`,
  );
  const invocation = await report.wait(`      invoking ${ctx.functions.cancelAll}`, () =>
    invokeFunction(ctx.lambdaUrl, ctx.functions.cancelAll, freshEvent('kill-switch.json'), INVOKE_TIMEOUT_MS),
  );
  const result = resultOf(invocation, check);
  // The report has one entry per widest listing that verified an account (scopes.ts `widestListings`).
  const listings = Array.isArray(result.scopes) ? result.scopes.length : 0;
  const accounts = Array.isArray(result.accounts) ? result.accounts.length : 0;
  const calls = exchange.emulator.requests.filter((r) => r.path === CANCEL_ALL_PATH).length;
  report.line(
    `      → cancelled ${result.cancelled}, remaining ${result.remaining}, ok ${result.ok}: ${accounts} accounts × ${accounts ? listings / accounts : 0} listings verified empty in ${result.durationMs} ms`,
  );
  report.line(
    `      ${calls} cancel-all calls: one per scope of the first wave, and more for the scope holding more`,
  );
  report.line(
    '      than 500 orders (one call cancels 500 at most) and for the survivors the verification listing found',
  );
  const left = exchange.emulator.openOrders().length;
  report.line(`      emulator: ${left} open orders`);
  check(
    invocation.ok && result.ok === true && result.remaining === 0,
    'the kill switch did not report success',
  );
  check(left === 0, `${left} order(s) still open after the kill switch`);
  outcome.cancelled = before.length - left;
  for (const line of haltLines(result)) report.line(line);
  check(
    (result.halt as { accounts?: unknown[] } | undefined)?.accounts?.length === exchange.accounts.length,
    'the kill switch did not halt every account',
  );
  const received = ctx.reporting.messagesSince(mark);
  printMessages(report, received);
  check(received.messages.length === 1, `${received.messages.length} message(s) for one kill switch`);
  const reset = await resetHalts(ctx);
  check(reset?.ok === true, 'the reset after the kill switch failed');
}

/** The result of a successful invocation; a failed one is recorded and shows as an empty result. */
function resultOf(invocation: Invocation, check: Check): Record<string, unknown> {
  if (invocation.ok) return invocation.result;
  check(false, `the function failed: ${invocation.errorMessage}`);
  return {};
}

/** An event from events/ (the files `serverless invoke local -p` uses), with a fresh id and time. */
function freshEvent(name: string): Record<string, unknown> {
  const event = JSON.parse(readFileSync(join(ROOT, 'events', name), 'utf8')) as Record<string, unknown>;
  return { ...event, id: crypto.randomUUID(), time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') };
}

function apiKeyOf(ctx: DemoContext, account: string): string {
  const found = ctx.exchange.accounts.find((a) => a.name === account);
  if (!found) throw new Error(`no demo account ${account}`);
  return found.apiKey;
}

function openOf(ctx: DemoContext, account: string): EmulatedOrder[] {
  return ctx.exchange.emulator.openOrders(apiKeyOf(ctx, account));
}

/** What the exchange showed when the cancelled order was read back, or the whole answer when it is not one. */
function answered(body: { orderStatus?: unknown; confirmed?: unknown }): string {
  if (typeof body.orderStatus !== 'string') return JSON.stringify(body);
  return `${body.orderStatus} (${body.confirmed ? 'confirmed' : 'not confirmed yet'})`;
}
