// What `npm run kill-switch` prints of a kill switch's report and of the stack's status: one row per account
// (cancelled, open, result) with the order ids still open, and the status as a short list.

import type { KillSwitchReport } from '../../lib/cancel/kill-switch.ts';
import { when } from '../../lib/lambda/messages.ts';
import type { StackStatus } from '../../lib/lambda/status.ts';

/** Order ids shown per account; the rest are in the logged report. */
const IDS_SHOWN = 10;

/** One row per account, then what is left open or unverified. Lines without a trailing newline. */
export function accountTable(report: Partial<KillSwitchReport>): string[] {
  const scopes = report.scopes ?? [];
  const accounts = [...new Set([...(report.accounts ?? []), ...scopes.map((s) => s.account)])];
  const rows = accounts.map((account) => {
    const own = scopes.filter((s) => s.account === account);
    const unknown = own.find((s) => s.scope === '*' && s.error);
    const open = own.filter((s) => s.verified).reduce((n, s) => n + s.remaining, 0);
    const unverified = own.filter((s) => !s.verified || s.error).length;
    const stuck = (report.uncancellable ?? []).filter((u) => u.account === account).length;
    const strategies = (report.strategies ?? []).find((s) => s.account === account);
    const problems = [
      open ? `${open} open` : '',
      strategies?.remaining.length ? `${strategies.remaining.length} strategy(ies) trading` : '',
      strategies && !strategies.verified ? 'strategies not verified' : '',
      unverified && !unknown ? `${unverified} listing(s) not verified` : '',
      stuck ? `${stuck} Bybit will not cancel` : '',
    ].filter(Boolean);
    return {
      account,
      cancelled: String(own.reduce((n, s) => n + s.cancelled, 0)),
      open: String(open),
      result: unknown
        ? `✘ ${unknown.error?.errorMessage ?? 'failed'}`
        : problems.length
          ? `✘ ${problems.join(', ')}`
          : '✔ clear',
      ids: own.flatMap((s) => (s.remainingOrders ?? []).map((o) => `${s.scope} ${o.symbol} ${o.orderId}`)),
      trading: (strategies?.remaining ?? []).map(
        (r) => `${r.strategyType} ${r.symbol} ${r.strategyId} (${r.why})`,
      ),
      unverifiedScopes: own
        .filter((s) => (!s.verified || s.error) && s.scope !== '*')
        .map((s) => `${s.scope}${s.error?.errorMessage ? ` (${s.error.errorMessage})` : ''}`),
    };
  });
  const width = Math.max(7, ...rows.map((r) => r.account.length));
  const lines = [`  ${'account'.padEnd(width)}  ${'cancelled'.padStart(9)}  ${'open'.padStart(5)}  result`];
  for (const r of rows) {
    lines.push(
      `  ${r.account.padEnd(width)}  ${r.cancelled.padStart(9)}  ${r.open.padStart(5)}  ${r.result}`,
    );
    for (const id of r.ids.slice(0, IDS_SHOWN)) lines.push(`    open: ${id}`);
    if (r.ids.length > IDS_SHOWN)
      lines.push(`    and ${r.ids.length - IDS_SHOWN} more (in the logged report)`);
    for (const scope of r.unverifiedScopes) lines.push(`    not verified: ${scope}`);
    for (const strategy of r.trading) lines.push(`    still trading: ${strategy}`);
  }
  for (const u of report.uncancellable ?? []) {
    lines.push(`  Bybit will not cancel: ${u.account} ${u.category} ${u.symbol} ${u.orderId} (${u.why})`);
  }
  return lines;
}

/** The status as a person reads it; `now` for "in 4 min". */
export function statusLines(status: StackStatus, now: number): string[] {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(18)} ${text}`);

  const { halt, deadMansSwitch: dms, lastKillSwitch: ks, lastDrill: drill } = status;
  if ('error' in halt) row('halt', `? ${halt.error}`);
  else if (!halt.halted) row('halt', 'none');
  else {
    row('halt', `HALTED: ${halt.accounts.map((a) => a.account).join(', ')}`);
    for (const a of halt.accounts) {
      const keys = a.mode === 'enforced' ? `, ${a.keysReadOnly} key(s) made read-only` : ', cooperative';
      lines.push(`    ✘ ${a.account}: since ${when(a.since)}, by ${a.origin}${keys}`);
      if (a.reason) lines.push(`      reason: ${a.reason}`);
    }
  }

  if ('error' in dms) row("dead man's switch", `? ${dms.error}`);
  else if (dms.armed && dms.firesAt) {
    row(
      "dead man's switch",
      `ARMED: fires at ${when(dms.firesAt)} (${untilText(Date.parse(dms.firesAt) - now)})`,
    );
    if (dms.reason) row('', `its reason: ${dms.reason}`);
  } else row("dead man's switch", `not armed${dms.state ? ` (schedule ${dms.state})` : ''}`);

  if (ks === null) row('last kill switch', 'none recorded');
  else if ('error' in ks && typeof ks.error === 'string') row('last kill switch', `? ${ks.error}`);
  else if ('at' in ks) {
    const outcome = ks.ok
      ? `✔ all clear: ${ks.accounts} account(s), ${ks.cancelled} cancelled`
      : ks.error && ks.accounts === 0
        ? `✘ failed: ${ks.error.type}: ${ks.error.message}`
        : `✘ ${ks.remaining} order(s) still open${ks.failedScopes.length ? `; failed: ${ks.failedScopes.join(', ')}` : ''}`;
    row('last kill switch', `${when(ks.at)}, fired by ${ks.firedBy}: ${outcome} (${ks.durationMs} ms)`);
    if (ks.reason) row('', `reason: ${ks.reason}`);
  }

  if (drill === null) row('last drill', 'none recorded');
  else if ('error' in drill && typeof drill.error === 'string') row('last drill', `? ${drill.error}`);
  else if ('at' in drill) {
    const outcome = drill.ok
      ? `✔ ok, ${drill.accounts} account(s)`
      : drill.problems.length
        ? `✘ ${drill.problems.length} problem(s)`
        : `✘ failed: ${drill.error?.message ?? 'no report'}`;
    const warnings = drill.warnings.length ? `, ${drill.warnings.length} warning(s)` : '';
    row('last drill', `${when(drill.at)}: ${outcome}${warnings}`);
    for (const p of drill.problems) lines.push(`    ✘ ${p.account}: ${p.message} [${p.code}]`);
    for (const w of drill.warnings) lines.push(`    ! ${w.account}: ${w.message} [${w.code}]`);
    if (drill.recent.length) {
      row('earlier drills', drill.recent.map((d) => `${d.ok ? '✔' : '✘'} ${d.at.slice(0, 10)}`).join(', '));
    }
  }
  return lines;
}

function untilText(ms: number): string {
  if (ms < 0) return `${Math.round(-ms / 1000)} s ago: it fires within the minute`;
  const seconds = Math.round(ms / 1000);
  return seconds < 120 ? `in ${seconds} s` : `in ${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}
