// `npm run bench`: our functions against a naive peer built on `bybit-api`, both against the exchange
// emulator on loopback, in one run. Each measurement runs in a process of its own (scripts/bench/child.ts);
// the table goes to stdout and, as a markdown section, into docs/development/benchmarks.md.

import { fork } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PLAN } from './bench/plan.ts';
import { ms, type Results, renderReport, withReport } from './bench/report.ts';

const RESULTS_FILE = fileURLToPath(new URL('../docs/development/benchmarks.md', import.meta.url));
const child = fileURLToPath(new URL('./bench/child.ts', import.meta.url));

/** Runs one measurement's process; a process that overstays its time is killed by its pid. */
function runMeasurement(name: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve) => {
    // The functions' log lines go nowhere (as they would go to CloudWatch); errors still reach stderr.
    const proc = fork(child, [name], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let outcome: unknown = { error: 'the measurement ended without a result' };
    const timer = setTimeout(() => {
      outcome = { error: `stopped after ${ms(timeoutMs)}` };
      proc.kill('SIGKILL');
    }, timeoutMs);
    proc.on('message', (message: { result?: unknown; error?: string }) => {
      outcome = message.error !== undefined ? { error: message.error } : message.result;
    });
    proc.on('exit', () => {
      clearTimeout(timer);
      resolve(outcome);
    });
  });
}

// `npm run bench -- fleet-40 fleet-100` runs only those rows (and leaves the docs page alone).
const only = process.argv.slice(2);
const started = performance.now();
const results: Results = {};
for (const { name, title, timeoutMs } of PLAN.filter((p) => only.length === 0 || only.includes(p.name))) {
  const partStarted = performance.now();
  process.stderr.write(`bench: ${title}…\n`);
  const result = (await runMeasurement(name, timeoutMs)) as Results[typeof name];
  (results as Record<string, unknown>)[name] = result;
  const failure = result && 'error' in result ? ` (failed: ${result.error})` : '';
  process.stderr.write(`bench: ${name} done in ${ms(performance.now() - partStarted)}${failure}\n`);
}

const report = renderReport(results, {
  totalMs: performance.now() - started,
  node: process.versions.node,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
  date: new Date().toISOString().slice(0, 10),
});
process.stdout.write(`\n${report}\n`);
if (only.length === 0) {
  writeFileSync(RESULTS_FILE, withReport(readFileSync(RESULTS_FILE, 'utf8'), report));
  process.stderr.write('bench: written to docs/development/benchmarks.md\n');
}
const failures = Object.values(results).filter((r) => r && typeof r === 'object' && 'error' in r);
process.exitCode = failures.length > 0 ? 1 : 0;
