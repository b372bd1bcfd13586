// The hot kill switch: the same kill switch (the kill-switch bench's book: 3 accounts, 50 ms per request)
// from the deployed cancelAll bundle, in three kinds of container, each a process of its own
// (scripts/bench/hot-runner.ts):
//   - fresh: an on-demand cold start, import and invocation back to back (what a rare kill switch pays today);
//   - pre-initialised: initialised as provisioned concurrency (the warm-up at init reads the keys and lists
//     the instruments), then the event;
//   - warm: the same container's next kill switch, its connections from the last one still open;
//   - warm after idle: the one after that, once its idle connections have closed (IDLE_MS), as they have
//     before any kill switch that comes more than a few seconds after the last.
// Goal: pre-initialised within 1.1× of warm.

import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { loadEvent } from '../../test/support/events.ts';
import { ESBUILD_AS_DEPLOYED } from './cold-start.ts';
import { KILL_SWITCH_ACCOUNTS, LATENCY_MS, seedsFor, WINDOW_GAP_MS } from './kill-switch.ts';
import { type RemoteStack, startRemoteStack } from './remote-stack.ts';
import { median } from './stats.ts';

const RUNS = 7;
/** Longer than the transport keeps an idle connection (4 s, lib/bybit/transport.ts). */
const IDLE_MS = 5000;
const ANSWER_TIMEOUT_MS = 30_000;
const root = fileURLToPath(new URL('../../', import.meta.url));
const runner = fileURLToPath(new URL('./hot-runner.ts', import.meta.url));

export interface HotKillSwitchResult {
  runs: number;
  latencyMs: number;
  accounts: number;
  ordersPerRun: number;
  /** Import + invocation of an on-demand container, per run. */
  fresh: { ms: number[]; medianMs: number; importMedianMs: number };
  /** The invocation of a container initialised as provisioned concurrency (its init not counted). */
  preInitialised: { ms: number[]; medianMs: number; initMedianMs: number };
  /** The next invocation of that container. */
  warm: { ms: number[]; medianMs: number };
  /** The one after, its idle connections closed. */
  warmAfterIdle: { ms: number[]; medianMs: number };
  failures: string[];
}

interface Container {
  process: ChildProcess;
  loadedMs: number;
  invoke(event: unknown): Promise<{ ms: number; error?: string }>;
  stop(): Promise<void>;
}

export async function measureHotKillSwitch(): Promise<HotKillSwitchResult> {
  mkdirSync(join(root, '.esbuild'), { recursive: true });
  const dir = mkdtempSync(join(root, '.esbuild', 'bench-hot-'));
  let stack: RemoteStack | undefined;
  try {
    // Under the repository, so that `@aws-sdk/*` resolves from node_modules as the Lambda runtime provides it.
    const bundle = join(dir, 'cancel-all.mjs');
    await build({
      ...ESBUILD_AS_DEPLOYED,
      entryPoints: [join(root, 'handlers', 'cancel-all.ts')],
      outfile: bundle,
      logLevel: 'error',
    });
    stack = await startRemoteStack({
      accounts: KILL_SWITCH_ACCOUNTS,
      emulator: { latencyMs: LATENCY_MS },
    });
    const live = stack;
    const env = { PATH: process.env.PATH ?? '', ...live.env, LOG_LEVEL: 'info' };
    let ordersPerRun = 0;
    // A fresh book, and the option cancel-all window (1/s) free, as before a real kill switch.
    const seed = async () => {
      await live.reset();
      ordersPerRun = 0;
      for (const [i, account] of live.accounts.entries()) {
        ordersPerRun += (await live.addOrders(account.apiKey, seedsFor(i))).length;
      }
      await sleep(WINDOW_GAP_MS);
    };
    const event = () => loadEvent('kill-switch.json');
    const result: HotKillSwitchResult = {
      runs: RUNS,
      latencyMs: LATENCY_MS,
      accounts: KILL_SWITCH_ACCOUNTS.length,
      ordersPerRun: 0,
      fresh: { ms: [], medianMs: 0, importMedianMs: 0 },
      preInitialised: { ms: [], medianMs: 0, initMedianMs: 0 },
      warm: { ms: [], medianMs: 0 },
      warmAfterIdle: { ms: [], medianMs: 0 },
      failures: [],
    };
    const imports: number[] = [];
    const inits: number[] = [];
    const record = (into: number[], outcome: { ms: number; error?: string }) => {
      into.push(outcome.ms);
      if (outcome.error) result.failures.push(outcome.error);
    };
    // One untimed round first (disk cache), then the timed ones.
    for (let run = -1; run < RUNS; run++) {
      await seed();
      const fresh = await start(bundle, { ...env, AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' });
      const freshOutcome = await fresh.invoke(event());
      await fresh.stop();
      if (run >= 0) {
        imports.push(fresh.loadedMs);
        record(result.fresh.ms, { ...freshOutcome, ms: fresh.loadedMs + freshOutcome.ms });
      }

      const hot = await start(bundle, { ...env, AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' });
      await seed();
      const first = await hot.invoke(event());
      await seed();
      const next = await hot.invoke(event());
      await seed();
      await sleep(IDLE_MS);
      const idle = await hot.invoke(event());
      await hot.stop();
      if (run >= 0) {
        inits.push(hot.loadedMs);
        record(result.preInitialised.ms, first);
        record(result.warm.ms, next);
        record(result.warmAfterIdle.ms, idle);
      }
    }
    result.ordersPerRun = ordersPerRun;
    result.fresh.medianMs = median(result.fresh.ms);
    result.fresh.importMedianMs = median(imports);
    result.preInitialised.medianMs = median(result.preInitialised.ms);
    result.preInitialised.initMedianMs = median(inits);
    result.warm.medianMs = median(result.warm.ms);
    result.warmAfterIdle.medianMs = median(result.warmAfterIdle.ms);
    return result;
  } finally {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A container process with the bundle imported (its init done). */
function start(bundle: string, env: Record<string, string>): Promise<Container> {
  return new Promise((resolve, reject) => {
    const child = fork(runner, [bundle], { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the container did not finish its init in time'));
    }, ANSWER_TIMEOUT_MS);
    child.once('error', reject);
    child.once('message', (message: { loaded: number }) => {
      clearTimeout(timer);
      resolve({
        process: child,
        loadedMs: message.loaded,
        invoke: (event) =>
          new Promise((answered, failed) => {
            const wait = setTimeout(
              () => failed(new Error('no answer from the container')),
              ANSWER_TIMEOUT_MS,
            );
            child.once('message', (answer: { ms: number; error?: string }) => {
              clearTimeout(wait);
              answered(answer);
            });
            child.send({ invoke: event });
          }),
        stop: () =>
          new Promise((stopped) => {
            if (child.exitCode !== null) return stopped();
            const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => {
              clearTimeout(kill);
              stopped();
            });
            child.disconnect();
          }),
      });
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
