// Kill-switch runs, reports and halted accounts as the message tests build them: every field a real one holds,
// with plausible values, each overridable.

import type { AccountHaltReport } from '../../lib/cancel/halt.ts';
import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import type { RunRecord } from '../../lib/lambda/records.ts';

/** The record of a kill switch fired by an EventBridge event, without its report. */
export function killSwitchRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    operation: 'killSwitch',
    ok: true,
    at: '2026-12-05T03:02:11.000Z',
    durationMs: 1432,
    requestId: 'req-1',
    eventId: 'evt-1',
    trigger: 'eventBridge',
    functionName: 'bybit-cancel-prod-cancelAll',
    logGroup: '/aws/lambda/bybit-cancel-prod-cancelAll',
    ...overrides,
  };
}

/** A kill switch that cleared 142 orders on three accounts, one verified listing each. */
export function killSwitchReport(overrides: Partial<KillSwitchReport> = {}): KillSwitchReport {
  const scope = (account: string, scope: string, cancelled: number) => ({
    account,
    scope,
    cancelled,
    remaining: 0,
    verified: true,
  });
  return {
    operation: 'killSwitch',
    ok: true,
    accounts: ['main', 'hedge', 'grid'],
    cancelled: 142,
    remaining: 0,
    failedScopes: [],
    durationMs: 1400,
    coverage: {
      categories: ['linear'],
      linearSettleCoins: ['USDT'],
      discovered: [],
      preMarketSymbols: [],
      confirmed: true,
    },
    uncancellable: [],
    strategies: [],
    warnings: [],
    scopes: [
      scope('main', 'linear settleCoin=USDT', 100),
      scope('hedge', 'spot', 40),
      scope('grid', 'option', 2),
    ],
    ...overrides,
  };
}

/** An account the halt made enforced, with no key flipped or failed yet. */
export function halted(overrides: Partial<AccountHaltReport> = {}): AccountHaltReport {
  return {
    account: 'main',
    mode: 'enforced',
    flipped: [],
    alreadyReadOnly: [],
    own: [],
    failed: [],
    ...overrides,
  };
}
