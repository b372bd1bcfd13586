// The drill's report as people read it: one row per account, then every problem (✘) and warning (!).
// Shared by `npm run kill-switch -- --drill` and the local demo.

import type { DrillReport } from '../../lib/cancel/drill.ts';

/** The table's lines, without a trailing newline. */
export function drillTable(report: DrillReport): string[] {
  const rows = report.accounts.map((a) => ({
    account: a.account,
    key:
      a.keyExpiresInDays === null
        ? a.problems.some((p) => p.code.startsWith('key') || p.code === 'unknownAccount')
          ? '?'
          : 'no expiry'
        : a.keyExpiresInDays < 0
          ? 'expired'
          : `expires in ${a.keyExpiresInDays} d`,
    open: [
      Object.entries(a.openOrders)
        .map(([category, count]) => `${category} ${count}`)
        .join(', ') || '-',
      ...strategiesOf(a.strategies),
    ].join('; '),
    result: a.ok
      ? `✔ ok${a.warnings.length ? `, ${a.warnings.length} warning(s)` : ''}`
      : `✘ ${a.problems.length} problem(s)${a.warnings.length ? `, ${a.warnings.length} warning(s)` : ''}`,
  }));
  const width = (field: keyof (typeof rows)[number], title: string) =>
    Math.max(title.length, ...rows.map((r) => r[field].length));
  const w = {
    account: width('account', 'account'),
    key: width('key', 'key'),
    open: width('open', 'open orders'),
  };
  const lines = [
    `  ${'account'.padEnd(w.account)}  ${'key'.padEnd(w.key)}  ${'open orders'.padEnd(w.open)}  result`,
    ...rows.map(
      (r) =>
        `  ${r.account.padEnd(w.account)}  ${r.key.padEnd(w.key)}  ${r.open.padEnd(w.open)}  ${r.result}`,
    ),
  ];
  for (const a of report.accounts) {
    for (const p of a.problems) lines.push(`  ✘ ${a.account}: ${p.message} [${p.code}]`);
    for (const warning of a.warnings) lines.push(`  ! ${a.account}: ${warning.message} [${warning.code}]`);
  }
  return lines;
}

/** One line that sums the drill up (the caller adds ✔ or ✘). */
export function drillVerdict(report: DrillReport): string {
  const failing = report.accounts.filter((a) => !a.ok);
  const problems = report.accounts.reduce((n, a) => n + a.problems.length, 0);
  const warnings = report.accounts.reduce((n, a) => n + a.warnings.length, 0);
  const total = report.accounts.length;
  if (failing.length === 0) {
    return `The kill switch would work for all ${total} account(s)${warnings ? ` (${warnings} warning(s))` : ''}; nothing was cancelled. ${report.durationMs} ms.`;
  }
  return `${problems} problem(s) in ${failing.length} of ${total} account(s) (${failing.map((a) => a.account).join(', ')}): the kill switch would fail there. docs/guides/test-your-kill-switch.md says how to fix each.`;
}

/** The strategy orders a kill switch would stop, when there are any (or `?` when the list failed). */
function strategiesOf(counts: Record<string, number> | null | undefined): string[] {
  if (counts === null) return ['strategies ?'];
  const live = Object.entries(counts ?? {}).filter(([, n]) => n > 0);
  return live.length ? [`strategies ${live.map(([status, n]) => `${status} ${n}`).join(', ')}`] : [];
}
