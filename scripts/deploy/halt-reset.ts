// `npm run kill-switch -- --reset --stage S [--account A]… [--yes]`: ends a halt. Shows what is halted (from
// the state table), asks the person to type the stage name when it runs in a terminal (`--yes` instead, in a
// script), then invokes the stage's reset function `{accounts?, by}` and prints what it restored, what it left
// alone and why, and what failed.

import type { HaltRecord, ResetReport } from '../../lib/cancel/halt.ts';
import { StateHaltStore } from '../../lib/lambda/halts.ts';
import { when } from '../../lib/lambda/messages.ts';
import type { Reporter } from '../local/progress.ts';
import { UsageError } from './args.ts';
import { type Terminal, typedStage } from './confirm.ts';
import { NotDoneError, type StageTarget } from './target.ts';

const RESET_WAIT_MS = 120_000;

export interface ResetOptions {
  target: StageTarget;
  accounts?: string[];
  /** Who asks: in the function's logs and the message. */
  by: string;
  /** --yes: no question (a script). */
  yes: boolean;
  out: Reporter;
  terminal?: Terminal;
}

/** Resets the stage's halts (or the named accounts'); throws NotDoneError unless the reset succeeded. */
export async function resetStage(options: ResetOptions): Promise<ResetReport> {
  const { target, out, accounts } = options;
  let halted: HaltRecord[] | undefined;
  try {
    halted = (await new StateHaltStore(await target.state()).list()).filter(
      (h) => !accounts || accounts.includes(h.account),
    );
  } catch (error) {
    out.line(
      `? Could not read the halts (${(error as Error).message}); the reset function will say what it finds.`,
    );
  }
  if (halted?.length === 0)
    out.line(`Nothing is halted on stage ${target.stage}${accounts ? ` (${accounts.join(', ')})` : ''}.`);
  for (const h of halted ?? []) {
    const keys = h.keys.length ? `, ${h.keys.filter((k) => k.flipped).length} key(s) made read-only` : '';
    out.line(
      `  halted: ${h.account} since ${when(h.since)}, by ${h.origin}${h.reason ? `: ${h.reason}` : ''}${keys}`,
    );
  }
  if (!options.yes && (halted === undefined || halted.length > 0)) {
    const which = accounts ? accounts.join(', ') : 'every halted account';
    const question = `This makes the keys the halt made read-only read-write again (${which}): bots may trade again.`;
    if (!(await typedStage(target.stage, question, options.terminal))) {
      const tty = (options.terminal?.input ?? process.stdin).isTTY === true;
      throw tty
        ? new NotDoneError('the stage name was not typed: nothing was reset')
        : new UsageError(
            `--reset asks you to type the stage name (${target.stage}) in a terminal; in a script, pass --yes`,
          );
    }
  }

  const payload = { ...(accounts ? { accounts } : {}), by: options.by };
  const answer = await out.wait(`  invoking the ${target.stage} reset function${target.where}`, () =>
    target.invoke('reset', payload, RESET_WAIT_MS),
  );
  if (!answer.ok) {
    // A failed reset throws HaltResetError, whose message names every account and key (masked).
    throw new NotDoneError(`the reset failed: ${answer.errorType}: ${answer.errorMessage}`);
  }
  const report = answer.result as unknown as ResetReport;
  for (const line of resetLines(report)) out.line(line);
  if (!report.ok) throw new NotDoneError(report.message);
  out.line(`✔ ${report.message}`);
  return report;
}

/** A reset's report as a person reads it, one line per account and per key it did not restore. */
export function resetLines(report: ResetReport): string[] {
  return report.accounts.flatMap((a) => [
    `  ${a.account}: ${a.cleared ? 'no longer halted' : 'STILL HALTED'}; ${a.restored.length} key(s) made read-write again${a.restored.length ? ` (${a.restored.join(', ')})` : ''}`,
    ...a.leftAlone.map((k) => `    left alone: ${k.key ? `${k.key}: ` : ''}${k.error}`),
    ...a.failed.map((k) => `    ✘ ${k.key ? `${k.key}: ` : ''}${k.error}`),
  ]);
}
