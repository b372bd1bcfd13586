// The demo's kill-switch drill step: a signed POST /cancel-all {"drill": true}, the way a user (or the daily
// schedule) checks that the kill switch would work. The hedge account's key was set to expire in 10 days,
// inside the 14-day period: the drill must fail on it (HTTP 502), pass the other accounts, and send the
// exchange nothing but GETs.

import type { DrillReport } from '../../lib/cancel/drill.ts';
import { defaults as configDefaults } from '../../lib/lambda/config.ts';
import type { DemoContext, StepOutcome } from './demo.ts';
import { drillTable } from './drill-table.ts';
import { printMessages } from './reporting.ts';
import { DEMO_ACCOUNTS, DRILL_DEMO_EXPIRY_DAYS } from './seed.ts';
import { postSigned, signHeaders } from './webhook.ts';

const HTTP_TIMEOUT_MS = 30_000;

type Check = (condition: boolean, problem: string) => void;

export async function drillStep(ctx: DemoContext, outcome: StepOutcome, check: Check, n: string) {
  const { report, exchange } = ctx;
  outcome.title = 'kill-switch drill';
  const expiring = DEMO_ACCOUNTS.filter((a) => a.key?.expiresInDays !== undefined).map((a) => a.name);
  const body = JSON.stringify({ drill: true });
  report.line(
    `${n} Kill-switch drill: POST /cancel-all ${body}; read-only checks of every key and listing (the daily schedule runs the same)`,
  );
  report.line(
    `      ${expiring.join(', ')}'s key is bound to no IP and expires in ${DRILL_DEMO_EXPIRY_DAYS} days: within KILL_SWITCH_DRILL_EXPIRY_DAYS (${configDefaults.KILL_SWITCH_DRILL_EXPIRY_DAYS}), a problem`,
  );
  const sent = exchange.emulator.requests.length;
  const mark = ctx.reporting.mark();
  const answer = await report.wait('      signed with the webhook key', () =>
    postSigned(
      `${ctx.httpUrl}/cancel-all`,
      body,
      signHeaders(exchange.webhookSecret, '/cancel-all', body),
      HTTP_TIMEOUT_MS,
    ),
  );
  const requests = exchange.emulator.requests.slice(sent);
  const drill = answer.body as unknown as DrillReport;
  check(answer.status === 502, `the drill answered HTTP ${answer.status}, expected 502 for the expiring key`);
  if (!Array.isArray(drill.accounts)) {
    check(false, `the drill's answer has no report: ${JSON.stringify(answer.body).slice(0, 300)}`);
    return;
  }
  report.line(`      → ${answer.status}, ok ${drill.ok}, ${requests.length} GET requests to the exchange:`);
  for (const line of drillTable(drill)) report.line(`    ${line}`);
  const posts = requests.filter((r) => r.method !== 'GET').length;
  report.line(`      emulator: ${posts} POST requests during the drill; every order still open`);
  check(posts === 0, `the drill sent ${posts} POST request(s) to the exchange`);
  for (const account of drill.accounts) {
    const planted = expiring.includes(account.account);
    const expected = planted
      ? account.problems.some((p) => p.code === 'keyExpiresSoon')
      : account.ok && account.problems.length === 0;
    check(expected, `${account.account}: the drill reported ${JSON.stringify(account.problems)}`);
  }
  check(
    drill.accounts.length === DEMO_ACCOUNTS.length,
    `the drill covered ${drill.accounts.length} accounts`,
  );
  const received = ctx.reporting.messagesSince(mark);
  printMessages(report, received, true);
  check(received.messages.length === 1, `${received.messages.length} message(s) for one failed drill`);
}
