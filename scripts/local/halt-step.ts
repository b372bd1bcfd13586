// The halt in the local demo. Every kill switch halts the accounts it covers; the demo resets after each (the
// reset function, invoked directly, as `npm run kill-switch -- --reset --stage local` does), so that the next
// step starts unhalted. The last step is a runaway bot on the sub-account grid, trading with a key of its own:
// it places an order every 100 ms; the kill switch makes its key read-only, clears the book and verifies;
// its next order is refused (10005) and its heartbeat answered 423; the reset makes its key read-write again,
// with its IPs, and its next order goes through.

import { BybitClient } from '../../lib/bybit/client.ts';
import type { ResetReport } from '../../lib/cancel/halt.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import { BybitApiError } from '../../lib/errors.ts';
import { type DemoContext, newStep, type StepOutcome } from './demo.ts';
import { eventBridgeEvent, invokeFunction } from './invoke.ts';
import type { Reporter } from './progress.ts';
import { type LocalReporting, printMessages } from './reporting.ts';
import { RUNAWAY_BOT_ORDERS } from './seed.ts';
import { postSigned, signHeaders } from './webhook.ts';

const INVOKE_TIMEOUT_MS = 90_000;
const HTTP_TIMEOUT_MS = 30_000;
/** The bot's orders before the kill switch fires (RUNAWAY_BOT_ORDERS), one every BOT_INTERVAL_MS. */
const BOT_INTERVAL_MS = 100;
const BY = 'npm start (the demo)';

export interface HaltContext {
  lambdaUrl: string;
  functions: { reset: string };
  report: Reporter;
  reporting: LocalReporting;
}

/** What the kill switch's halt did, in one line per account. */
export function haltLines(report: Partial<KillSwitchReport>): string[] {
  if (!report.halt) return [];
  if (!report.halt.set) return [`      no halt: ${report.halt.why}`];
  return report.halt.accounts.map((a) =>
    a.mode === 'enforced'
      ? `      halted: ${a.account}, ${a.flipped.length} key(s) made read-only (${a.flipped.join(', ')})`
      : `      halted: ${a.account}, cooperative (a heartbeat for it answers 423)`,
  );
}

/** Resets every halt through the reset function; prints what it restored and the message's subject. */
export async function resetHalts(ctx: HaltContext): Promise<ResetReport | undefined> {
  const mark = ctx.reporting.mark();
  const invocation = await ctx.report.wait(
    `      reset: ${ctx.functions.reset} {"by": "${BY}"} (what npm run kill-switch -- --reset does)`,
    () => invokeFunction(ctx.lambdaUrl, ctx.functions.reset, { by: BY }, INVOKE_TIMEOUT_MS),
  );
  if (!invocation.ok) {
    ctx.report.line(`      → the reset failed: ${invocation.errorMessage}`);
    return undefined;
  }
  const reset = invocation.result as unknown as ResetReport;
  const restored = reset.accounts.flatMap((a) => a.restored);
  ctx.report.line(
    `      → ${reset.accounts.map((a) => a.account).join(', ')} no longer halted; ${restored.length} key(s) made read-write again${restored.length ? ` (${restored.join(', ')})` : ''}`,
  );
  printMessages(ctx.report, ctx.reporting.messagesSince(mark), true);
  return reset;
}

/** The runaway bot: halted by the kill switch, refused by the exchange and by its heartbeat, reset. */
export async function runawayBotStep(ctx: DemoContext, n: string): Promise<StepOutcome> {
  const { report, exchange } = ctx;
  const { outcome, check } = newStep('runaway bot halted');
  const { bot } = exchange;
  const account = exchange.accounts.find((a) => a.name === bot.account);
  const openOnAccount = () => exchange.emulator.openOrders(account?.apiKey).length;
  const client = new BybitClient({
    credentials: { apiKey: bot.apiKey, apiSecret: bot.apiSecret },
    baseUrl: exchange.emulator.url,
    maxAttempts: 1,
  });
  let placedCount = 0;
  /** One order of the bot: its id, or the retCode that refused it. */
  const place = async (): Promise<{ orderId?: string; retCode?: number }> => {
    const orderLinkId = `runaway-${++placedCount}`;
    try {
      const placed = await client.createOrder({
        category: 'linear',
        symbol: 'BTCUSDT',
        side: 'Buy',
        orderType: 'Limit',
        qty: '0.001',
        price: '90000.0',
        orderLinkId,
      });
      return { orderId: placed.orderId };
    } catch (error) {
      return { retCode: error instanceof BybitApiError ? error.retCode : -1 };
    }
  };
  try {
    report.line(
      `${n} Runaway bot: a bot on ${bot.account} (a sub-account) trades with a key of its own, not the kill switch's`,
    );
    const placed = await report.wait(`      it places an order every ${BOT_INTERVAL_MS} ms`, async () => {
      const ids: string[] = [];
      for (let i = 0; i < RUNAWAY_BOT_ORDERS; i++) {
        const answer = await place();
        if (answer.orderId) ids.push(answer.orderId);
        await new Promise((resolve) => setTimeout(resolve, BOT_INTERVAL_MS));
      }
      return ids;
    });
    const before = openOnAccount();
    report.line(`      → ${placed.length} orders placed; ${before} open on ${bot.account}`);
    check(
      placed.length === RUNAWAY_BOT_ORDERS,
      `the bot placed ${placed.length} of ${RUNAWAY_BOT_ORDERS} orders`,
    );

    const mark = ctx.reporting.mark();
    const detail = { accounts: [bot.account], reason: `runaway bot on ${bot.account}` };
    const event = eventBridgeEvent('bybit.killswitch', 'Kill Switch', detail, 'ap-southeast-1');
    const invocation = await report.wait(
      `      the kill switch: ${ctx.functions.cancelAll} gets the kill-switch event ${JSON.stringify(detail)}`,
      () => invokeFunction(ctx.lambdaUrl, ctx.functions.cancelAll, event, INVOKE_TIMEOUT_MS),
    );
    const result = (invocation.ok ? invocation.result : {}) as Partial<KillSwitchReport>;
    if (!invocation.ok) check(false, `the kill switch failed: ${invocation.errorMessage}`);
    report.line(`      → cancelled ${result.cancelled}, remaining ${result.remaining}, ok ${result.ok}`);
    for (const line of haltLines(result)) report.line(line);
    const flipped = result.halt?.accounts.find((a) => a.account === bot.account)?.flipped ?? [];
    check(flipped.length === 1, `the halt made ${flipped.length} key(s) read-only, expected the bot's`);
    const left = openOnAccount();
    report.line(`      emulator: ${left} open orders on ${bot.account}`);
    check(left === 0, `${left} order(s) still open on ${bot.account}`);
    outcome.cancelled = before - left;
    printMessages(report, ctx.reporting.messagesSince(mark), true);

    const refused = await place();
    report.line(
      `      the bot's next order → ${refused.retCode === undefined ? `PLACED (${refused.orderId})` : `refused, retCode ${refused.retCode} (its key is read-only now)`}`,
    );
    check(refused.retCode === 10005, `the bot's order after the halt got ${JSON.stringify(refused)}`);
    const body = JSON.stringify({ ttlSeconds: 300, accounts: [bot.account] });
    const beat = await postSigned(
      `${ctx.httpUrl}/heartbeat`,
      body,
      signHeaders(exchange.webhookSecret, '/heartbeat', body),
      HTTP_TIMEOUT_MS,
    );
    report.line(
      `      its heartbeat POST /heartbeat ${body} → ${beat.status} halted ${beat.body.halted}, since ${beat.body.since}, origin ${beat.body.origin}`,
    );
    report.line(`      reason: ${beat.body.reason}`);
    check(
      beat.status === 423 && beat.body.halted === true,
      `the heartbeat got HTTP ${beat.status}, expected 423`,
    );

    const reset = await resetHalts(ctx);
    check(
      reset?.ok === true && reset.accounts.flatMap((a) => a.restored).length === 1,
      `the reset did not restore the bot's key: ${JSON.stringify(reset)}`,
    );
    const again = await place();
    report.line(
      `      the bot's next order → ${again.orderId ? 'placed: its key is read-write again (the bot cancels it and stops)' : `refused, retCode ${again.retCode}`}`,
    );
    check(again.orderId !== undefined, `the bot's order after the reset got retCode ${again.retCode}`);
    // The bot stops, as its operator would have it: the demo leaves no order of its own behind.
    if (again.orderId)
      await client.cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId: again.orderId });
  } catch (error) {
    check(false, (error as Error).message);
  }
  outcome.openAfter = exchange.emulator.openOrders().length;
  for (const problem of outcome.problems) report.line(`      ✘ ${problem}`);
  return outcome;
}
