// The demo's Telegram step: the demo trader, in the demo bot's chat, sends /status and /kill, and presses Kill
// now; then /reset, and presses Reset now. The Telegram stand-in posts each update to the local POST /telegram
// as Telegram posts to the webhook (with the secret token `npm start` registered); the telegram function
// answers at once, hands its messages to itself (the Lambda invoke endpoint), puts the kill-switch event on
// the local EventBridge endpoint, whose rule hands it to cancelAll, and runs the reset on the reset function.
// Checked: the answer to Kill now comes before the kill switch's report, the report reaches the chat and says
// what it halted, the emulator holds nothing open, and the reset from Telegram ends every halt (so the stack
// stays up unhalted, as after every step).

import type { Button, SentMessage } from '../../test/support/telegram.ts';
import { newStep, type StepOutcome } from './demo.ts';
import type { LocalExchange } from './exchange.ts';
import type { Reporter } from './progress.ts';
import { DEMO_TRADER, type LocalReporting } from './reporting.ts';
import { LOCAL_STAGE } from './state.ts';

/** A message of the bot's, or the kill switch's report, arrives within this (a kill switch takes a second). */
const MESSAGE_TIMEOUT_MS = 30_000;
const REPORT_TIMEOUT_MS = 90_000;

export interface TelegramDemo {
  exchange: LocalExchange;
  reporting: LocalReporting;
  report: Reporter;
}

export async function telegramStep(ctx: TelegramDemo, n: string): Promise<StepOutcome> {
  const { report, exchange, reporting } = ctx;
  const { outcome, check } = newStep('telegram kill switch');
  const { telegram, telegramSecret } = reporting;
  const token = telegramSecret.botToken;
  const chat = DEMO_TRADER.chatId;
  /** The bot's first message in the chat after `from` that `test` accepts. */
  const next = (from: number, test: (m: SentMessage) => boolean, timeoutMs = MESSAGE_TIMEOUT_MS) =>
    telegram.waitFor(() => telegram.sent(chat).slice(from).find(test), timeoutMs);
  try {
    const seeded = exchange.seed();
    report.line(
      `${n} Telegram: ${DEMO_TRADER.firstName} sends /status and /kill in the demo chat, presses Kill now, then /reset and Reset now (POST /telegram, as Telegram calls the webhook)`,
    );
    // Whatever an earlier step left open counts too: the kill switch cancels it all.
    const before = exchange.emulator.openOrders().length;
    report.line(`      ${seeded} new open orders, ${before} open in all`);

    let from = telegram.sent(chat).length;
    const status = await report.wait('      /status', () => telegram.command(token, DEMO_TRADER, '/status'));
    const answer = await next(from, (m) => m.shown.startsWith('local:'));
    report.line(`      → ${status.status} in ${status.ms.toFixed(0)} ms; the bot answers:`);
    printShown(report, answer);
    check(status.status === 200, `/status got HTTP ${status.status}`);

    from = telegram.sent(chat).length;
    const kill = await report.wait('      /kill demo from Telegram', () =>
      telegram.command(token, DEMO_TRADER, '/kill demo from Telegram'),
    );
    const prompt = await next(from, (m) => m.buttons.length > 0);
    report.line(`      → ${kill.status} in ${kill.ms.toFixed(0)} ms; the bot asks:`);
    printShown(report, prompt);
    check(kill.status === 200, `/kill got HTTP ${kill.status}`);
    const labels = prompt.buttons.flat().map((b: Button) => b.text);
    check(labels.join(',') === 'Kill now,Cancel', `the confirmation's buttons are ${labels.join(', ')}`);

    from = telegram.sent(chat).length;
    const mark = reporting.mark();
    const pressed = await report.wait('      pressing Kill now', () =>
      telegram.press(token, DEMO_TRADER, prompt, 'Kill now'),
    );
    const answeredAt = Date.now();
    report.line(
      `      → ${pressed.status} in ${pressed.ms.toFixed(0)} ms, while the kill switch runs on cancelAll`,
    );
    check(pressed.status === 200, `Kill now got HTTP ${pressed.status}`);
    const fired = await telegram.waitFor(
      () => telegram.sent(chat).find((m) => m.messageId === prompt.messageId && m.edits.length > 0),
      MESSAGE_TIMEOUT_MS,
    );
    report.line('      the confirmation now reads:');
    printShown(report, fired);
    const killReport = await report.wait('      waiting for the kill switch’s report in the chat', () =>
      next(
        from,
        (m) => m.shown.startsWith('Kill switch') || m.shown.startsWith('KILL SWITCH'),
        REPORT_TIMEOUT_MS,
      ),
    );
    report.line(`      the report, ${killReport.at - answeredAt} ms after the answer to Kill now:`);
    printShown(report, killReport);
    check(killReport.at >= answeredAt, 'the report came before the answer to Kill now');
    check(killReport.shown.startsWith('Kill switch: all clear'), 'the kill switch did not report all clear');
    check(
      killReport.shown.includes('Fired by: Telegram (/kill, confirmed with Kill now)'),
      'the report does not say Telegram fired it',
    );
    check(
      killReport.shown.includes('Halted (trading stays stopped'),
      'the report does not say what it halted',
    );
    const received = reporting.messagesSince(mark);
    check(received.messages.length === 1, `${received.messages.length} report(s) for one kill switch`);
    const left = exchange.emulator.openOrders().length;
    report.line(`      emulator: ${left} open orders`);
    check(left === 0, `${left} order(s) still open after the kill switch from Telegram`);
    outcome.cancelled = before - left;

    // Trading stays stopped until a person resets it: from the phone too.
    from = telegram.sent(chat).length;
    const reset = await report.wait('      /reset', () => telegram.command(token, DEMO_TRADER, '/reset'));
    const resetPrompt = await next(from, (m) => m.buttons.length > 0);
    report.line(`      → ${reset.status} in ${reset.ms.toFixed(0)} ms; the bot asks:`);
    printShown(report, resetPrompt);
    const resetLabels = resetPrompt.buttons.flat().map((b: Button) => b.text);
    check(resetLabels.join(',') === 'Reset now,Cancel', `the reset's buttons are ${resetLabels.join(', ')}`);
    const confirmed = await report.wait('      pressing Reset now', () =>
      telegram.press(token, DEMO_TRADER, resetPrompt, 'Reset now'),
    );
    report.line(`      → ${confirmed.status} in ${confirmed.ms.toFixed(0)} ms; the reset function runs`);
    const done = await report.wait('      waiting for the reset', () =>
      telegram.waitFor(
        () =>
          telegram
            .sent(chat)
            .find((m) => m.messageId === resetPrompt.messageId && m.shown.startsWith('Reset on')),
        REPORT_TIMEOUT_MS,
      ),
    );
    report.line('      the confirmation now reads:');
    printShown(report, done);
    check(
      done.shown.startsWith(`Reset on ${LOCAL_STAGE}: done`),
      'the reset from Telegram did not end the halt',
    );
    check(!done.shown.includes('STILL HALTED'), 'an account is still halted after the reset from Telegram');
  } catch (error) {
    check(false, (error as Error).message);
  }
  outcome.openAfter = exchange.emulator.openOrders().length;
  for (const problem of outcome.problems) report.line(`      ✘ ${problem}`);
  return outcome;
}

/** A message as the chat shows it, and its buttons. */
function printShown(report: Reporter, message: SentMessage): void {
  for (const line of message.shown.split('\n')) report.line(`      │ ${line}`.trimEnd());
  if (message.buttons.length) {
    report.line(
      `      │ ${message.buttons
        .flat()
        .map((b) => `[${b.text}]`)
        .join(' ')}`,
    );
  }
}
