// The demo's kill-switch drill step: the drill function invoked with {"drill": true}, as `npm run kill-switch
// -- --drill` does (the daily schedule, and a signed POST /cancel-all {"drill": true}, hand it the same work).
// The hedge account's key was set to expire in 10 days, inside the 14-day period: the drill must fail on it
// alone, naming it, and send the exchange nothing but GETs.

import { defaults as configDefaults } from '../../lib/lambda/config.ts';
import type { DemoContext, StepOutcome } from './demo.ts';
import { invokeFunction } from './invoke.ts';
import { printMessages } from './reporting.ts';
import { DEMO_ACCOUNTS, DRILL_DEMO_EXPIRY_DAYS } from './seed.ts';

const INVOKE_TIMEOUT_MS = 60_000;
/** How DrillFailedError's message starts (lib/errors.ts). */
const DRILL_FAILED = 'kill-switch drill failed: ';

type Check = (condition: boolean, problem: string) => void;

export async function drillStep(ctx: DemoContext, outcome: StepOutcome, check: Check, n: string) {
  const { report, exchange } = ctx;
  outcome.title = 'kill-switch drill';
  const expiring = DEMO_ACCOUNTS.filter((a) => a.key?.expiresInDays !== undefined).map((a) => a.name);
  const event = { drill: true };
  report.line(
    `${n} Kill-switch drill: the drill function, invoked with ${JSON.stringify(event)}; read-only checks of every key and listing (the daily schedule runs the same)`,
  );
  report.line(
    `      ${expiring.join(', ')}'s key is bound to no IP and expires in ${DRILL_DEMO_EXPIRY_DAYS} days: within KILL_SWITCH_DRILL_EXPIRY_DAYS (${configDefaults.KILL_SWITCH_DRILL_EXPIRY_DAYS}), a problem`,
  );
  const sent = exchange.emulator.requests.length;
  const mark = ctx.reporting.mark();
  const answer = await report.wait(`      ${ctx.functions.drill}`, () =>
    invokeFunction(ctx.lambdaUrl, ctx.functions.drill, event, INVOKE_TIMEOUT_MS),
  );
  const requests = exchange.emulator.requests.slice(sent);
  if (answer.ok || !answer.errorMessage.startsWith(DRILL_FAILED)) {
    check(false, `the drill should fail on the expiring key: ${JSON.stringify(answer).slice(0, 300)}`);
    return;
  }
  // A failed drill fails the invocation (so the alarms hear of it); its message names each account and problem.
  const reasons = answer.errorMessage.slice(DRILL_FAILED.length).split('; ');
  report.line(`      → failed, as it must: ${requests.length} GET requests to the exchange; the problems:`);
  for (const reason of reasons) report.line(`      ✘ ${reason}`);
  const posts = requests.filter((r) => r.method !== 'GET').length;
  report.line(`      emulator: ${posts} POST requests during the drill; every order still open`);
  check(posts === 0, `the drill sent ${posts} POST request(s) to the exchange`);
  check(requests.length > 0, 'the drill sent no request to the exchange');
  for (const reason of reasons) {
    check(
      expiring.some((name) => reason.startsWith(`${name}: the key expires in`)),
      `the drill reported a problem it should not have: ${reason}`,
    );
  }
  check(reasons.length === expiring.length, `the drill reported ${reasons.length} problem(s)`);
  const received = ctx.reporting.messagesSince(mark);
  printMessages(report, received, true);
  check(received.messages.length === 1, `${received.messages.length} message(s) for one failed drill`);
}
