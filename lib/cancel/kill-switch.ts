// The kill switch: every account, every scope, all at once. Steps:
//   1. resolve the accounts (all in the secret, or the ones the event names; unknown ones are reported);
//   2. clear every (account, scope) pair concurrently; the client's pacer keeps each account within its
//      per-endpoint limits (option cancel-all is 1/s), different accounts do not wait for each other;
//   3. report per account and scope what was cancelled and what remains; anything left or failed makes
//      the whole run fail, so a partial success is never reported as success.

import type { Category } from '../bybit/types.ts';
import { type Clock, systemClock } from '../clock.ts';
import { IncompleteCancelError } from '../errors.ts';
import { describeError, type Fields } from '../log.ts';
import { clearScope, type ScopeOutcome } from './clear-scope.ts';
import type { Exchange } from './exchange.ts';
import { type Coverage, everythingScopes, type Scope, scopeLabel } from './scopes.ts';

export interface KillSwitchRequest {
  accounts?: string[];
  categories?: Category[];
  reason?: string;
  /** Who fired it, when it says (`deadMansSwitch`). */
  origin?: string;
}

export interface ScopeReport {
  account: string;
  scope: string;
  cancelled: number;
  remaining: number;
  /** False when the last listing failed: then `remaining` may be out of date. */
  verified: boolean;
  /** Up to 20 of the orders still open, to act on by hand. */
  remainingOrders?: { symbol: string; orderId: string; orderLinkId: string }[];
  error?: Fields;
}

export interface KillSwitchReport {
  operation: 'killSwitch';
  ok: boolean;
  reason?: string;
  origin?: string;
  accounts: string[];
  cancelled: number;
  remaining: number;
  failedScopes: string[];
  durationMs: number;
  scopes: ScopeReport[];
}

/** Cancels everything in scope and verifies it; throws IncompleteCancelError (with the report) unless all clear. */
export async function killSwitch(
  exchange: Exchange,
  coverage: Coverage,
  request: KillSwitchRequest,
  deadline: number,
  clock: Clock = systemClock,
): Promise<KillSwitchReport> {
  const started = clock.now();
  const known = await exchange.accountNames();
  const accounts = request.accounts ?? known;
  const scopes = everythingScopes(coverage, request.categories);

  const reports = await Promise.all(
    accounts.map(async (account): Promise<ScopeReport[]> => {
      if (!known.includes(account)) {
        return [
          {
            account,
            scope: '*',
            cancelled: 0,
            remaining: 0,
            verified: false,
            error: { errorType: 'UnknownAccount', errorMessage: `no account "${account}" in the secret` },
          },
        ];
      }
      try {
        return await exchange.withAccount(account, async (client) => {
          const outcomes = await Promise.all(
            scopes.map((scope) => clearScope(client, scope, deadline, clock, 'first-wave')),
          );
          // A refused key fails every scope alike: let the exchange re-read a rotated secret and retry.
          const refused = outcomes.find(
            (o) => o.error && 'kind' in o.error && o.error.kind === 'credentials',
          );
          if (refused?.error) throw refused.error;
          return outcomes.map((outcome, i) => report(account, scopes[i] as Scope, outcome));
        });
      } catch (error) {
        return [
          { account, scope: '*', cancelled: 0, remaining: 0, verified: false, error: describeError(error) },
        ];
      }
    }),
  );

  const scopeReports = reports.flat();
  const failed = scopeReports.filter((r) => r.error || r.remaining > 0);
  const result: KillSwitchReport = {
    operation: 'killSwitch',
    ok: failed.length === 0,
    reason: request.reason,
    ...(request.origin ? { origin: request.origin } : {}),
    accounts,
    cancelled: sum(scopeReports.map((r) => r.cancelled)),
    // A floor: a scope whose last listing failed is named in failedScopes, not counted here.
    remaining: sum(scopeReports.filter((r) => r.verified).map((r) => r.remaining)),
    failedScopes: failed.map((r) => `${r.account}: ${r.scope}`),
    durationMs: clock.now() - started,
    scopes: scopeReports,
  };
  if (!result.ok) {
    const reasons = failed
      .filter((r) => r.error)
      .map((r) => `${r.account}: ${r.scope}: ${r.error?.errorMessage}`);
    throw new IncompleteCancelError({ ...result }, reasons);
  }
  return result;
}

function report(account: string, scope: Scope, outcome: ScopeOutcome): ScopeReport {
  const entry: ScopeReport = {
    account,
    scope: scopeLabel(scope),
    cancelled: outcome.cancelled,
    remaining: outcome.remaining.length,
    verified: outcome.verified,
  };
  if (outcome.remaining.length > 0) {
    entry.remainingOrders = outcome.remaining
      .slice(0, 20)
      .map(({ symbol, orderId, orderLinkId }) => ({ symbol, orderId, orderLinkId }));
  }
  if (!outcome.clear && outcome.error) entry.error = describeError(outcome.error);
  return entry;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
