// The functions behind serverless-offline: its HTTP API (the httpApi routes) and its Lambda invoke endpoint,
// run as a child process in a process group of its own, so that stopping it also stops what it started
// (esbuild's service process).
//
// It runs in a service folder of its own under .local/ (a copy of serverless.yml, links to the code):
// serverless-esbuild bundles into `<service folder>/.esbuild`, and `serverless package` deletes the
// `.esbuild` of the folder it runs in, which would pull the bundle from under a running local stack.

import { type ChildProcess, spawn } from 'node:child_process';
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { HOST, isListening } from './ports.ts';
import { isAlive, LOCAL_DIR, ROOT } from './state.ts';

export interface OfflineOptions {
  stage: string;
  httpPort: number;
  lambdaPort: number;
  /** Stage parameters (`--param="NAME=value"`): every setting that must point at the local stack. */
  params: Record<string, string>;
  /** Environment of the functions. serverless-offline passes on AWS_* variables only. */
  env: Record<string, string>;
  /** The functions' log lines (JSON objects, one a line, as CloudWatch Logs holds them) go here. */
  logFile: string;
  /** Everything else serverless-offline prints (its route table, a line per invocation) goes here. */
  offlineLogFile: string;
  readyTimeoutMs?: number;
  /** Called as soon as the process exists, with what stops it: a signal during start-up must stop it too. */
  onSpawn?: (pid: number, stop: () => Promise<void>) => void;
}

export interface Offline {
  pid: number;
  httpUrl: string;
  lambdaUrl: string;
  /** Resolves when the process has exited, with its code or signal. */
  exited: Promise<string>;
  hasExited(): boolean;
  /** The last lines it printed (for error messages). */
  tail(lines?: number): string;
  /** Stops the whole process group and removes the service folder; safe to call twice. */
  stop(): Promise<void>;
}

const defaults = { readyTimeoutMs: 60_000 };
const STOP_GRACE_MS = 5000;
const KILL_WAIT_MS = 3000;
const POLL_MS = 100;
const TAIL_LINES = 40;
/** What serverless-offline needs (scripts/ holds a local Serverless plugin): directories linked, files copied. */
const SERVICE_DIRS = ['handlers', 'lib', 'node_modules', 'scripts'];
const SERVICE_FILES = ['serverless.yml', 'package.json', 'tsconfig.json'];
const RUN_DIR_PREFIX = 'offline-';

/** Starts serverless-offline and resolves once both its ports accept connections. */
export async function startOffline(opts: OfflineOptions): Promise<Offline> {
  const options = { ...defaults, ...opts };
  removeAbandonedServiceDirs();
  const serviceDir = prepareServiceDir();
  const log = logWriter(options.logFile, options.offlineLogFile);
  const recent: string[] = [];
  const args = [
    serverlessBin(),
    'offline',
    'start',
    '--stage',
    options.stage,
    '--host',
    HOST,
    '--httpPort',
    String(options.httpPort),
    '--lambdaPort',
    String(options.lambdaPort),
    '--noSponsor',
    ...Object.entries(options.params).map(([name, value]) => `--param=${name}=${value}`),
  ];
  const child = spawn(process.execPath, args, {
    cwd: serviceDir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...withoutAws(process.env), ...options.env, SLS_TELEMETRY_DISABLED: '1' },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start serverless-offline');
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) log.write(line);
      recent.push(...lines.filter(Boolean));
      recent.splice(0, Math.max(0, recent.length - TAIL_LINES));
    });
    stream?.on('end', () => {
      if (partial) log.write(partial);
    });
  }
  let exitedWith: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedWith = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve(exitedWith);
    });
    child.once('error', (error) => {
      exitedWith = `error ${error.message}`;
      resolve(exitedWith);
    });
  });

  let stopping: Promise<void> | undefined;
  const offline: Offline = {
    pid,
    httpUrl: `http://${HOST}:${options.httpPort}`,
    lambdaUrl: `http://${HOST}:${options.lambdaPort}`,
    exited,
    hasExited: () => exitedWith !== undefined,
    tail: (lines = 15) => recent.slice(-lines).join('\n'),
    stop: () => {
      stopping ??= stopGroup(child, exited, () => exitedWith !== undefined).finally(() => {
        log.end();
        rmSync(serviceDir, { recursive: true, force: true });
      });
      return stopping;
    },
  };

  options.onSpawn?.(pid, offline.stop);
  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    if (stopping) throw new Error('serverless-offline was stopped while it started');
    if (exitedWith !== undefined) {
      await offline.stop();
      throw new Error(`serverless-offline stopped (${exitedWith}) before it was ready:\n${offline.tail()}`);
    }
    if ((await isListening(options.lambdaPort)) && (await isListening(options.httpPort))) return offline;
    if (Date.now() > deadline) {
      await offline.stop();
      throw new Error(
        `serverless-offline was not ready after ${options.readyTimeoutMs / 1000} s:\n${offline.tail()}`,
      );
    }
    await sleep(POLL_MS);
  }
}

/**
 * Writes each line where it belongs: a JSON object (a function's log or EMF line) to `jsonFile`, so that
 * `tail -f … | jq` reads it; anything else serverless-offline prints to `textFile`.
 */
export function logWriter(jsonFile: string, textFile: string): { write(line: string): void; end(): void } {
  const open = (file: string) => {
    mkdirSync(dirname(file), { recursive: true });
    const stream = createWriteStream(file, { flags: 'w', mode: 0o600 });
    stream.on('error', (error) => process.stderr.write(`cannot write ${file}: ${error.message}\n`));
    return stream;
  };
  const json = open(jsonFile);
  const text = open(textFile);
  let ended = false;
  return {
    write(line) {
      // A last line may arrive after the process group was stopped: it has nowhere to go then.
      if (!ended) (isJsonObject(line) ? json : text).write(`${line}\n`);
    },
    end() {
      ended = true;
      json.end();
      text.end();
    },
  };
}

function isJsonObject(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

async function stopGroup(child: ChildProcess, exited: Promise<string>, hasExited: () => boolean) {
  const pid = child.pid as number;
  if (!hasExited()) {
    signalGroup(pid, 'SIGTERM');
    await Promise.race([exited, sleep(STOP_GRACE_MS)]);
    if (!hasExited()) signalGroup(pid, 'SIGKILL');
    await Promise.race([exited, sleep(KILL_WAIT_MS)]);
  }
  // The group outlives its leader while a grandchild (esbuild's service) is still shutting down.
  const until = Date.now() + KILL_WAIT_MS;
  while (groupExists(pid) && Date.now() < until) {
    signalGroup(pid, 'SIGKILL');
    await sleep(POLL_MS);
  }
  if (groupExists(pid)) throw new Error(`processes of group ${pid} (serverless-offline) did not stop`);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export function groupExists(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A fresh service folder for this process: serverless.yml and friends copied, the code linked. */
function prepareServiceDir(): string {
  const dir = join(LOCAL_DIR, `${RUN_DIR_PREFIX}${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const name of SERVICE_FILES) {
    if (existsSync(join(ROOT, name))) copyFileSync(join(ROOT, name), join(dir, name));
  }
  // 'junction' lets Windows link directories without privileges; elsewhere it is an ordinary symlink.
  for (const name of SERVICE_DIRS) symlinkSync(join(ROOT, name), join(dir, name), 'junction');
  return dir;
}

/** Service folders of local runs that were killed before they could clean up. */
function removeAbandonedServiceDirs(): void {
  if (!existsSync(LOCAL_DIR)) return;
  for (const name of readdirSync(LOCAL_DIR)) {
    const pid = Number(name.slice(RUN_DIR_PREFIX.length));
    if (name.startsWith(RUN_DIR_PREFIX) && Number.isInteger(pid) && pid > 0 && !isAlive(pid)) {
      rmSync(join(LOCAL_DIR, name), { recursive: true, force: true });
    }
  }
}

function serverlessBin(): string {
  const dir = join(ROOT, 'node_modules', 'serverless');
  if (!existsSync(join(dir, 'package.json')))
    throw new Error('serverless (osls) is not installed: run npm ci first');
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  return join(dir, manifest.bin.serverless as string);
}

/** The user's own AWS settings must not reach the functions: the local stack never talks to AWS. */
function withoutAws(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => !entry[0].startsWith('AWS_') && entry[1] !== undefined,
    ),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
