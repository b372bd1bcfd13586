// Cold start and size: `serverless package` the service, unpack each function's zip, and time fresh Node
// processes (test/support/lambda-runner.ts) that load a bundle and answer one direct invocation against
// the emulator. The same for the bybit-api peer handler and two baselines (an empty handler; one that only
// reads the secret with the AWS SDK), bundled as serverless.yml bundles ours.

import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deflateRawSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';
import { loadEvent } from '../../test/support/events.ts';
import { type RemoteStack, startRemoteStack } from './remote-stack.ts';
import { median } from './stats.ts';
import { extractZip } from './unzip.ts';

const RUNS = 10;
const PROCESS_TIMEOUT_MS = 15_000;
const PACKAGE_TIMEOUT_MS = 120_000;
const root = fileURLToPath(new URL('../../', import.meta.url));
const runner = join(root, 'test', 'support', 'lambda-runner.ts');

export type Variant = 'cancel' | 'cancelAll' | 'peer' | 'sdk' | 'empty';

export interface BundleSize {
  variant: Variant;
  /** The deployed zip (ours); for the peer and the baseline, the raw-deflated bundle. */
  zipBytes: number;
  zipMeasured: 'zip' | 'deflate';
  bundleBytes: number;
}

export interface ColdStart {
  variant: Variant;
  /** Spawn to the answer line on stdout, per process. */
  ms: number[];
  medianMs: number;
  /** The runner's own clock: module import done, answer ready (from its first line of code). */
  loadedMedianMs: number;
  answeredMedianMs: number;
  failures: string[];
}

export interface ColdStartResult {
  runs: number;
  packageMs: number;
  sizes: BundleSize[];
  starts: ColdStart[];
}

/** serverless.yml's custom.esbuild, for the handlers that are not in serverless.yml. */
export const ESBUILD_AS_DEPLOYED: BuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: 'node22',
  platform: 'node',
  format: 'esm',
  external: ['@aws-sdk/*'],
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
};

const ORDER_ID = '1838591702357416704';

export async function measureColdStart(): Promise<ColdStartResult> {
  // Under the repository, so that `@aws-sdk/*` resolves from node_modules as the Lambda runtime provides it.
  mkdirSync(join(root, '.esbuild'), { recursive: true });
  const dir = mkdtempSync(join(root, '.esbuild', 'bench-'));
  let stack: RemoteStack | undefined;
  try {
    const packageStarted = performance.now();
    await promisify(execFile)(
      process.execPath,
      [
        join(root, 'node_modules', 'serverless', 'bin', 'serverless.js'),
        'package',
        '--package',
        join(dir, 'package'),
      ],
      { cwd: root, env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' }, timeout: PACKAGE_TIMEOUT_MS },
    );
    const packageMs = performance.now() - packageStarted;

    const modules: Record<Variant, string> = {
      cancel: join(dir, 'cancel', 'handlers', 'cancel.mjs'),
      cancelAll: join(dir, 'cancelAll', 'handlers', 'cancel-all.mjs'),
      peer: join(dir, 'peer', 'peer-handler.mjs'),
      sdk: join(dir, 'sdk', 'sdk-handler.mjs'),
      empty: join(dir, 'empty', 'empty-handler.mjs'),
    };
    const sizes: BundleSize[] = [];
    for (const fn of ['cancel', 'cancelAll'] as const) {
      const zip = readFileSync(join(dir, 'package', `${fn}.zip`));
      extractZip(zip, join(dir, fn));
      sizes.push({
        variant: fn,
        zipBytes: zip.length,
        zipMeasured: 'zip',
        bundleBytes: statSync(modules[fn]).size,
      });
    }
    for (const [variant, source] of [
      ['peer', 'peer-handler.ts'],
      ['sdk', 'sdk-handler.ts'],
      ['empty', 'empty-handler.ts'],
    ] as const) {
      await build({
        ...ESBUILD_AS_DEPLOYED,
        entryPoints: [fileURLToPath(new URL(source, import.meta.url))],
        outfile: modules[variant],
        logLevel: 'error',
      });
      const bundle = readFileSync(modules[variant]);
      sizes.push({
        variant,
        zipBytes: deflateRawSync(bundle, { level: 9 }).length,
        zipMeasured: 'deflate',
        bundleBytes: bundle.length,
      });
    }

    stack = await startRemoteStack({ accounts: ['main'] });
    const apiKey = stack.accounts[0]?.apiKey as string;
    const events: Record<Variant, string> = {
      cancel: join(dir, 'direct-cancel.json'),
      cancelAll: join(dir, 'direct-cancel-all.json'),
      peer: join(dir, 'direct-cancel.json'),
      sdk: join(dir, 'direct-cancel.json'),
      empty: join(dir, 'direct-cancel.json'),
    };
    writeFileSync(events.cancel, JSON.stringify(loadEvent('direct-cancel.json')));
    writeFileSync(events.cancelAll, JSON.stringify(loadEvent('direct-cancel-all.json')));
    // What the functions would see in Lambda: their settings, no shell environment; production log level.
    const env = { PATH: process.env.PATH ?? '', ...stack.env, LOG_LEVEL: 'info' };
    const live = stack;
    const seed = async (variant: Variant) => {
      await live.reset();
      if (variant === 'cancelAll') {
        await live.addOrders(apiKey, [{ category: 'spot', symbol: 'ETHUSDT', kind: 'tpslOrder' }]);
      } else if (variant === 'cancel' || variant === 'peer') {
        await live.addOrders(apiKey, [{ category: 'spot', symbol: 'ETHUSDT', orderId: ORDER_ID }]);
      }
    };

    const variants: Variant[] = ['cancel', 'cancelAll', 'peer', 'sdk', 'empty'];
    const samples = new Map(
      variants.map((v) => [
        v,
        { ms: [] as number[], loaded: [] as number[], answered: [] as number[], failures: [] as string[] },
      ]),
    );
    // One untimed round first (disk cache), then rounds in a rotating order so no variant always goes first.
    for (let round = -1; round < RUNS; round++) {
      for (let i = 0; i < variants.length; i++) {
        const variant = variants[(i + Math.max(0, round)) % variants.length] as Variant;
        await seed(variant);
        const outcome = await runOnce(modules[variant], events[variant], env);
        if (round < 0) continue;
        const sample = samples.get(variant);
        if (!sample) continue;
        sample.ms.push(outcome.ms);
        sample.loaded.push(outcome.loadedMs);
        sample.answered.push(outcome.answeredMs);
        if (outcome.failure) sample.failures.push(outcome.failure);
      }
    }
    const starts = variants.map((variant): ColdStart => {
      const s = samples.get(variant) as {
        ms: number[];
        loaded: number[];
        answered: number[];
        failures: string[];
      };
      return {
        variant,
        ms: s.ms,
        medianMs: median(s.ms),
        loadedMedianMs: median(s.loaded),
        answeredMedianMs: median(s.answered),
        failures: [...new Set(s.failures)],
      };
    });
    return { runs: RUNS, packageMs, sizes, starts };
  } finally {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RunOutcome {
  ms: number;
  loadedMs: number;
  answeredMs: number;
  failure?: string;
}

/** One fresh process: spawn → the runner's answer line. A process that overstays is killed by its pid. */
function runOnce(module: string, eventFile: string, env: Record<string, string>): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [runner, module, 'handler', eventFile, '30000'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let answered: RunOutcome | undefined;
    let buffered = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), PROCESS_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0 && !answered; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const parsed = parse(line);
        if (parsed && 'answeredMs' in parsed) {
          const ms = performance.now() - started;
          const error = parsed.error as { errorType?: string; errorMessage?: string } | undefined;
          answered = {
            ms,
            loadedMs: Number(parsed.loadedMs),
            answeredMs: Number(parsed.answeredMs),
            ...(error ? { failure: `${error.errorType}: ${error.errorMessage}` } : {}),
          };
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (answered) resolve(answered);
      else reject(new Error(`the runner gave no answer (exit ${code}): ${stderr.slice(0, 500)}`));
    });
  });
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
