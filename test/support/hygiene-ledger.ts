// The secret-hygiene ledger of one test run: each test file (secret-hygiene.ts, in a child process of the
// vitest process) appends its counts; the vitest process prints the run's total once, at the end
// (`printHygieneTotal`, a global setup), because a quiet run drops the files' own lines.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Totals {
  files: number;
  log: number;
  response: number;
  error: number;
  message: number;
  leaks: number;
}

/** The ledger of the run whose vitest process is `pid` (named with its start time too, as pids are reused). */
export function ledgerFile(pid: number): string {
  let started = '';
  try {
    started = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19] ?? '';
  } catch {
    // Not Linux: the pid alone names the run.
  }
  return join(tmpdir(), `bybit-cancel-secret-hygiene-${pid}-${started}.jsonl`);
}

/** The sum of every file's counts in a ledger. */
export function readTotals(ledger: string): Totals {
  return readFileSync(ledger, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Omit<Totals, 'files'>)
    .reduce<Totals>(
      (sum, f) => ({
        files: sum.files + 1,
        log: sum.log + f.log,
        response: sum.response + f.response,
        error: sum.error + f.error,
        message: sum.message + (f.message ?? 0),
        leaks: sum.leaks + f.leaks,
      }),
      { files: 0, log: 0, response: 0, error: 0, message: 0, leaks: 0 },
    );
}

/** Vitest global setup: at the end of the run, one line with the run's secret-hygiene total. */
export default function printHygieneTotal() {
  const ledger = ledgerFile(process.pid);
  rmSync(ledger, { force: true });
  return () => {
    if (!existsSync(ledger)) return;
    const t = readTotals(ledger);
    rmSync(ledger, { force: true });
    process.stdout.write(
      `secret hygiene: ${t.files} files, ${t.log} log lines, ${t.response} responses, ${t.error} errors and ${t.message} messages checked; ${t.leaks} leaks\n`,
    );
  };
}
