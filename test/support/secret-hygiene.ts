// Secret hygiene over the whole test suite (a vitest setup file: it runs before every test file). It inspects
//   - every line written to stdout and stderr (the functions log JSON lines to stdout),
//   - every response a handler returns and every error it throws (an observing middleware is added to every
//     middy handler, whichever module creates it and however often a test re-imports it),
//   - every text a person is sent through the Telegram and SNS stand-ins (messages, edits, button answers),
// and fails the file if any of them contains a secret the stack generated (API key, API secret, private key,
// webhook secret, passphrase: test/support/secret-registry.ts) or something shaped like a signature (an
// HMAC-SHA256 hex digest, an RSA signature in base64). Counts are printed per file (in a quiet run, only for a
// file that failed), and the run's total once at the end (hygiene-ledger.ts).
//
// The observer changes nothing: it reads the response or error and passes it on.

import { appendFileSync } from 'node:fs';
import { inspect } from 'node:util';
import type { MiddlewareObj } from '@middy/core';
import { afterAll, expect, vi } from 'vitest';
import { ledgerFile, readTotals, type Totals } from './hygiene-ledger.ts';
import { registeredSecrets, type SecretKind, setTextObserver } from './secret-registry.ts';

vi.mock('@middy/core', async (importOriginal) => {
  const original = await importOriginal<typeof import('@middy/core')>();
  const observed = ((...args: Parameters<typeof original.default>) =>
    original.default(...args).use(observer())) as typeof original.default;
  return { ...original, default: observed };
});

export type Channel = 'log' | 'response' | 'error' | 'message';
export type LeakKind = SecretKind | 'signature';

export interface Leak {
  channel: Channel;
  kind: LeakKind;
  /** Up to 40 characters either side, with the secret itself replaced by its kind. */
  excerpt: string;
}

export interface Tally {
  log: number;
  response: number;
  error: number;
  message: number;
  leaks: Leak[];
}

/** Shapes no output of ours should hold: a hex HMAC-SHA256 (webhook or Bybit signature), a base64 RSA-2048 one. */
const SIGNATURE_SHAPES = [/(?<![0-9a-fA-F])[0-9a-f]{64}(?![0-9a-fA-F])/g, /[A-Za-z0-9+/]{300,}={0,2}/g];
/** A PEM body line leaks the key as surely as the whole PEM. */
const PEM_LINE = /^[A-Za-z0-9+/=]{40,}$/;
const EXCERPT = 40;

interface State {
  file: Tally;
  /** Innermost scoped capture (see `captureScope`): what it sees does not count for the file. */
  scopes: Tally[];
  quiet: boolean;
  hooked: boolean;
}

const STATE = Symbol.for('bybit-cancel.test.secret-hygiene');

function state(): State {
  const global = globalThis as { [STATE]?: State };
  global[STATE] ??= { file: emptyTally(), scopes: [], quiet: false, hooked: false };
  return global[STATE];
}

function emptyTally(): Tally {
  return { log: 0, response: 0, error: 0, message: 0, leaks: [] };
}

let needles: { value: string; kind: SecretKind }[] = [];
let needlesFrom = -1;

/** Each registered secret as it could appear: raw, JSON-escaped, and (PEM) line by line. */
function currentNeedles(): { value: string; kind: SecretKind }[] {
  const secrets = registeredSecrets();
  if (secrets.size === needlesFrom) return needles;
  const found = new Map<string, SecretKind>();
  for (const [value, kind] of secrets) {
    found.set(value, kind);
    found.set(JSON.stringify(value).slice(1, -1), kind);
    if (value.includes('-----BEGIN')) {
      for (const line of value.split('\n')) if (PEM_LINE.test(line.trim())) found.set(line.trim(), kind);
    }
  }
  needles = [...found].map(([value, kind]) => ({ value, kind }));
  needlesFrom = secrets.size;
  return needles;
}

/** The secrets (and signature-shaped strings) in `text`, each with a masked excerpt. */
export function findSecrets(text: string): { kind: LeakKind; excerpt: string }[] {
  const hits: { kind: LeakKind; at: number; length: number }[] = [];
  for (const { value, kind } of currentNeedles()) {
    const at = text.indexOf(value);
    if (at >= 0) hits.push({ kind, at, length: value.length });
  }
  for (const shape of SIGNATURE_SHAPES) {
    for (const match of text.matchAll(shape)) {
      hits.push({ kind: 'signature', at: match.index, length: match[0].length });
    }
  }
  return hits.map(({ kind, at, length }) => ({
    kind,
    excerpt: mask(text.slice(Math.max(0, at - EXCERPT), at + length + EXCERPT)),
  }));
}

function mask(text: string): string {
  let masked = text;
  for (const { value, kind } of currentNeedles()) masked = masked.replaceAll(value, `[${kind}]`);
  for (const shape of SIGNATURE_SHAPES) masked = masked.replace(shape, '[signature]');
  return masked;
}

/** Checks one log line, response or error and counts it for the current scope (or the file). */
export function inspectOutput(channel: Channel, value: unknown): void {
  const s = state();
  const tally = s.scopes.at(-1) ?? s.file;
  tally[channel]++;
  const text = textOf(channel, value);
  for (const hit of findSecrets(text)) tally.leaks.push({ channel, ...hit });
}

function textOf(channel: Channel, value: unknown): string {
  if (typeof value === 'string') return value;
  // An error's message, stack, cause chain and own fields (an IncompleteCancelError's report) all reach a log.
  if (channel === 'error' || value instanceof Error)
    return inspect(value, { depth: 8, breakLength: Infinity });
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return inspect(value, { depth: 8, breakLength: Infinity });
  }
}

/** The middleware added to every middy handler: it reads the final response or error, and changes nothing. */
function observer(): MiddlewareObj {
  return {
    name: 'secret-hygiene',
    after: (request) => {
      inspectOutput('response', request.response);
    },
    onError: (request) => {
      inspectOutput('error', request.error);
    },
  };
}

/**
 * Runs `work` with its own tally: what it writes, returns or throws is checked and counted there, not for the
 * file, and what it writes is not echoed. For tests of this check itself, which leak on purpose.
 */
export async function captureScope(work: () => Promise<void> | void): Promise<Tally> {
  const s = state();
  const tally = emptyTally();
  s.scopes.push(tally);
  try {
    await work();
  } finally {
    flushPending();
    s.scopes.splice(s.scopes.indexOf(tally), 1);
  }
  return tally;
}

/** Keep checking this file's log lines but stop echoing them (a suite that makes thousands of invocations). */
export function quietLogs(quiet = true): void {
  state().quiet = quiet;
}

/** This file's tally so far. */
export function fileTally(): Readonly<Tally> {
  return state().file;
}

const pending = new Map<NodeJS.WriteStream, string>();

function flushPending(): void {
  for (const [stream, rest] of pending) {
    if (rest) inspectOutput('log', rest);
    pending.set(stream, '');
  }
}

function hook(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  pending.set(stream, '');
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text =
      (pending.get(stream) ?? '') + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    const lines = text.split('\n');
    pending.set(stream, lines.pop() ?? '');
    for (const line of lines) if (line !== '') inspectOutput('log', line);
    // Scoped captures hold deliberate leaks: keep them off the terminal too.
    if (state().quiet || state().scopes.length > 0) {
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

const s = state();
if (!s.hooked) {
  s.hooked = true;
  hook(process.stdout);
  hook(process.stderr);
  setTextObserver((text) => inspectOutput('message', text));
}

function addToLedger(file: Omit<Totals, 'files'>): Totals {
  const ledger = ledgerFile(process.ppid);
  appendFileSync(ledger, `${JSON.stringify(file)}\n`);
  return readTotals(ledger);
}

afterAll(() => {
  flushPending();
  const { log, response, error, message, leaks } = state().file;
  const summary = `secret hygiene: ${log} log lines, ${response} responses, ${error} errors, ${message} messages checked; ${leaks.length} leaks`;
  let total: Totals = { files: 1, log, response, error, message, leaks: leaks.length };
  try {
    total = addToLedger({ log, response, error, message, leaks: leaks.length });
  } catch {
    // The total is informative only; the check below is what counts.
  }
  console.log(
    `${summary} (run so far: ${total.files} files, ${total.log} lines, ${total.response} responses, ` +
      `${total.error} errors, ${total.message} messages, ${total.leaks} leaks)`,
  );
  expect(leaks, summary).toEqual([]);
});
