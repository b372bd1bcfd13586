// A guard no behavioural test can be: the webhook secret and passphrase are compared in constant time.
// Replacing timingSafeEqual with `===` keeps every answer the same and only leaks timing, so mutation
// testing cannot see it (docs/development/testing.md). This test reads the source instead.

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Names that hold a secret or something derived from one (a signature, a digest). */
const SECRET_NAME = /(?:signature|secret|passphrase|expected|digest)/i;
/** A comparison of two operands with an equality operator. */
const COMPARISON = /([\w.?[\]'"]+)\s*(?:===|!==|==|!=)\s*([\w.?[\]'"]+)/g;
/** Operands that make a comparison a presence or type check, not a comparison of secret values. */
const HARMLESS = /^(?:undefined|null|true|false|\d+|'[^']*'|"[^"]*")$/;

/** The comparisons in a line of code that put a secret-named value against another value. */
function secretComparisons(line: string): string[] {
  return [...line.matchAll(COMPARISON)]
    .filter(([, left = '', right = '']) => !HARMLESS.test(left) && !HARMLESS.test(right))
    .filter(([, left = '', right = '']) => SECRET_NAME.test(left) || SECRET_NAME.test(right))
    .map(([comparison]) => comparison);
}

describe('secret comparisons', () => {
  it('compares a webhook secret only through timingSafeEqual on fixed-length digests of both sides', () => {
    const text = read('lib/lambda/webhook-auth.ts');
    expect(text).toMatch(/import \{[^}]*\btimingSafeEqual\b[^}]*\} from 'node:crypto'/);
    const sameSecret = text.slice(text.indexOf('function sameSecret'));
    expect(sameSecret).toMatch(/createHash\('sha256'\)/);
    expect(sameSecret).toMatch(/return timingSafeEqual\(digest\(given\), digest\(expected\)\);/);
    // The signature (route-bound and legacy, against the current and the previous key alike) and the
    // passphrase go through it.
    expect(text).toMatch(/keys\.map\(\(key\) => sameSecret\(signature, sign\(key\)\)\)/);
    expect(text).toMatch(/signedWith\(\(key\) => routeSignature\(key, timestamp, options\.route, body\)\)/);
    expect(text).toMatch(/signedWith\(\(key\) => webhookSignature\(key, timestamp, body\)\)/);
    expect(text).toMatch(/\[secret\.webhookSecret, secret\.previousWebhookSecret\]/);
    // Every key is compared: stopping at the first match would tell by timing which key signed.
    expect(text).toMatch(/sameSecret\(passphraseOf\(body\), secret\.passphrase\)/);
  });

  it('never compares a secret, signature or digest with an equality operator anywhere in lib/', () => {
    const offending = sources('lib').flatMap((file) =>
      read(file)
        .split('\n')
        .map((line, i) => ({ where: `${file}:${i + 1}`, line: line.trim() }))
        .filter(({ line }) => !line.startsWith('//') && !line.startsWith('*'))
        .filter(({ line }) => secretComparisons(line).length > 0),
    );
    expect(offending).toEqual([]);
  });

  it('would notice the comparison replaced by ===', () => {
    expect(secretComparisons("  if (signature !== expected) throw new AuthenticationError('x');")).toEqual([
      'signature !== expected',
    ]);
    expect(secretComparisons('return given === secret.passphrase;')).toEqual(['given === secret.passphrase']);
    expect(secretComparisons('if (given === undefined) return false;')).toEqual([]);
    expect(secretComparisons("if (typeof apiSecret === 'string' && apiSecret !== '') return;")).toEqual([]);
  });
});
