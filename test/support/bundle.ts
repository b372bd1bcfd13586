// The deployable artifact: `serverless package` into a directory of its own, each function's zip unpacked,
// and a way to invoke a bundle in a fresh Node process, as Lambda would load it.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const runner = fileURLToPath(new URL('./lambda-runner.ts', import.meta.url));
const cache = join(root, 'node_modules', '.cache', 'bybit-cancel');

export interface PackagedService {
  /** Where `serverless package` wrote the zips and templates. */
  dir: string;
  template: Record<string, unknown>;
  /** Unpacked function directories by function name (`cancel`, `cancelAll`, `drill`, `heartbeat`, `status`, `reset`). */
  functions: Record<string, string>;
}

/** Packages the service (offline, no AWS account) and unpacks every function zip; `args` adds CLI options. */
export async function packageService(args: string[] = []): Promise<PackagedService> {
  // Unpacked under the repository so that `@aws-sdk/*`, left out of the bundle because the Lambda runtime
  // provides it, resolves from node_modules the way it resolves from the runtime's own. Not under .esbuild/:
  // serverless-esbuild empties that folder after every package run.
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'package-'));
  const bin = join(root, 'node_modules', '.bin', 'serverless');
  await oneAtATime(() =>
    run(bin, ['package', '--package', dir, ...args], {
      cwd: root,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
    }),
  );
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
  const functions: Record<string, string> = {};
  for (const name of ['cancel', 'cancelAll', 'drill', 'heartbeat', 'status', 'reset']) {
    const target = join(dir, `${name}-unzipped`);
    mkdirSync(target);
    await run('unzip', ['-q', join(dir, `${name}.zip`), '-d', target]);
    functions[name] = target;
  }
  return { dir, template, functions };
}

const LOCK = join(cache, 'package.lock');
const LOCK_POLL_MS = 200;
const LOCK_WAIT_MS = 10 * 60_000;

/**
 * Runs `work` while no other process of this checkout packages: serverless-esbuild builds in one work folder
 * of the service, so two test files packaging variants at once would build into each other. The lock is a
 * directory (created atomically) holding its owner's pid; a lock whose owner has died is taken over.
 */
async function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const waitUntil = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!ownerAlive()) rmSync(LOCK, { recursive: true, force: true });
      else if (Date.now() > waitUntil)
        throw new Error(`another process has been packaging for ${LOCK_WAIT_MS} ms`);
      else await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function ownerAlive(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
  } catch {
    // Created but not yet written by its owner (it is, right after), unless that was long ago.
    try {
      return Date.now() - statSync(LOCK).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunnerOutcome {
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
  loadedMs: number;
  answeredMs: number;
  /** Everything else the process printed (the function's log lines). */
  logs: string[];
}

/** Invokes `handler` of a bundle once, in a new Node process with `env`. */
export async function invokeBundle(
  moduleFile: string,
  event: unknown,
  env: Record<string, string>,
  remainingMs = 30_000,
): Promise<RunnerOutcome> {
  mkdirSync(cache, { recursive: true });
  const eventFile = join(mkdtempSync(join(cache, 'event-')), 'event.json');
  writeFileSync(eventFile, JSON.stringify(event));
  const { stdout } = await run(
    process.execPath,
    [runner, moduleFile, 'handler', eventFile, String(remainingMs)],
    {
      cwd: root,
      // Lambda gives a function strings only: a template value CloudFormation would resolve (a Ref) is left out.
      env: { PATH: process.env.PATH ?? '', ...stringsOf(env) },
      timeout: remainingMs + 10_000,
    },
  );
  const lines = stdout.trim().split('\n');
  const last = JSON.parse(lines.pop() ?? '{}');
  return { ...last, logs: lines };
}

function stringsOf(env: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}
