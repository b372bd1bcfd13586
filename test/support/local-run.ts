// The local run's commands (`npm start`, `npm run sign`, `npm run kill-switch`) as child processes, the way a
// person runs them, with hard time limits: a test that goes wrong kills what it started instead of hanging.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { anyFreePort } from '../../scripts/local/ports.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  /** Resolves with the first match of `pattern` in stdout; rejects when the process exits or time runs out. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<Finished>;
  finished: Promise<Finished>;
}

/** Environment of the children: CI=true would turn `npm start` into a one-shot run. */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('CI' in extra)) delete env.CI;
  for (const [name, value] of Object.entries(extra)) if (value === undefined) delete env[name];
  return env;
}

/** Starts `node scripts/<script>.ts args…` from the repository root. */
export function startScript(script: string, args: string[], env = childEnv(), stdin?: string): Running {
  const child = spawn(process.execPath, [`scripts/${script}.ts`, ...args], {
    cwd: ROOT,
    env,
    stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (stdin !== undefined) child.stdin?.end(stdin);
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const listener of listeners) listener();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const finished = new Promise<Finished>((resolve) => {
    child.once('close', (code, signal) => {
      resolve({ code, signal, stdout: out, stderr: err });
      for (const listener of listeners) listener();
    });
  });
  let exited = false;
  void finished.then(() => {
    exited = true;
  });

  return {
    child,
    stdout: () => out,
    finished,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} after ${timeoutMs} ms; stderr: ${err.slice(-2000)}`));
        }, timeoutMs);
        const check = () => {
          const match = pattern.exec(out);
          if (match || exited) {
            clearTimeout(timer);
            listeners.delete(check);
            if (match) resolve(match);
            else reject(new Error(`exited before ${pattern}; stderr: ${err.slice(-2000)}`));
          }
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal, timeoutMs) {
      if (!exited) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await finished;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Runs a script to its end; killed (SIGKILL) after `timeoutMs`. */
export async function runScript(
  script: string,
  args: string[],
  timeoutMs: number,
  env = childEnv(),
  stdin?: string,
): Promise<Finished> {
  const running = startScript(script, args, env, stdin);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
  const result = await running.finished;
  clearTimeout(timer);
  return result;
}

/** `--port` and `--lambda-port` for `npm start`: two distinct free ports. */
export async function freePortArgs(): Promise<{ http: number; lambda: number; args: string[] }> {
  const http = await anyFreePort();
  let lambda = await anyFreePort();
  for (let i = 0; i < 10 && lambda === http; i++) lambda = await anyFreePort();
  return { http, lambda, args: ['--port', String(http), '--lambda-port', String(lambda)] };
}

/** True while any process of the group led by `pgid` exists. */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Last resort after a failed test: the serverless-offline group recorded in a state file, killed. (A stopped
 * `npm start` kills it itself; one killed outright cannot.)
 */
export function killRecordedOffline(stateFile: string): void {
  try {
    const { offlinePid } = JSON.parse(readFileSync(stateFile, 'utf8')) as { offlinePid?: number };
    if (offlinePid && groupExists(offlinePid)) process.kill(-offlinePid, 'SIGKILL');
  } catch {
    // No state file: nothing was recorded.
  }
}
