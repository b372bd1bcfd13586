// Judging one run against the emulator's truth: a run that returns must leave nothing open in its scope; a run
// that throws must be an IncompleteCancelError whose report names every account and scope still holding an order.

import type { EmulatedOrder } from '../emulator/index.ts';

/** How a handler invocation ended. */
export type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

export interface Verdict {
  /** The outcome matches the truth (see the file comment). */
  truthful: boolean;
  /** Nothing in scope is left open. */
  cleared: boolean;
  /** Failed although nothing was left: truthful, but a needless alarm. */
  falseAlarm: boolean;
  /** Why the run is not truthful, for the failure message. */
  problem?: string;
}

/** Where an open order belongs in a report: `<account>: <scope label>`. */
export type ScopeOf = (order: EmulatedOrder) => string;

/**
 * `remaining`: the orders in scope the emulator still holds open after the run. A failure names a scope either
 * by itself or with `<account>: *` (the whole account failed).
 */
export function judge(outcome: Outcome, remaining: EmulatedOrder[], scopeOf: ScopeOf): Verdict {
  const cleared = remaining.length === 0;
  if (outcome.ok) {
    return cleared
      ? { truthful: true, cleared, falseAlarm: false }
      : {
          truthful: false,
          cleared,
          falseAlarm: false,
          problem: `reported success with ${remaining.length} order(s) open in ${unique(remaining.map(scopeOf)).join(', ')}`,
        };
  }
  const error = outcome.error as { name?: string; report?: { failedScopes?: unknown } };
  if (error?.name !== 'IncompleteCancelError' || !Array.isArray(error.report?.failedScopes)) {
    return {
      truthful: false,
      cleared,
      falseAlarm: false,
      problem: `failed with ${describe(outcome.error)} instead of a report of what remains`,
    };
  }
  const named = new Set(error.report.failedScopes as string[]);
  const unnamed = unique(remaining.map(scopeOf)).filter(
    (scope) => !named.has(scope) && !named.has(`${scope.split(': ')[0]}: *`),
  );
  if (unnamed.length > 0) {
    return {
      truthful: false,
      cleared,
      falseAlarm: false,
      problem: `failure names ${[...named].join(', ') || 'nothing'} but not ${unnamed.join(', ')}`,
    };
  }
  return { truthful: true, cleared, falseAlarm: cleared };
}

function unique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

interface ScopeEntry {
  remaining?: number;
  error?: { errorType?: string; retCode?: number; errorMessage?: string };
  failed?: { code: number }[];
}

/** Why a failed run did not clear, one short reason per kind of failure in its report. */
export function reasonsOf(outcome: Outcome): string[] {
  if (outcome.ok) return [];
  const report = (outcome.error as { report?: { scopes?: ScopeEntry[] } })?.report;
  if (!Array.isArray(report?.scopes))
    return [`${(outcome.error as Error)?.name ?? 'error'} without a report`];
  const reasons = new Set<string>();
  for (const scope of report.scopes) {
    if (scope.error) {
      const code = scope.error.retCode === undefined ? '' : ` ${scope.error.retCode}`;
      reasons.add(`${scope.error.errorType ?? 'error'}${code}`);
    } else if (scope.failed?.length) {
      for (const { code } of scope.failed) reasons.add(`cancel refused (${code})`);
    } else if ((scope.remaining ?? 0) > 0) {
      reasons.add('still listed after an acknowledged cancel');
    }
  }
  return [...reasons];
}
