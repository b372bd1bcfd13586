// Secrets Manager failures through the real handlers and the real AWS SDK client, against the wire-level endpoint:
// throttling (retried by the SDK), not found, access denied, decryption failure, malformed JSON and every wrong
// shape. Each must give a SecretError that names the secret and the problem and carries none of the secret's
// content: thrown on a direct invocation, a bare 500 over HTTP. A failed read is never cached.

import { inspect } from 'node:util';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AnyEvent, lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { registerSecret } from '../support/secret-registry.ts';
import type { SecretsFault } from '../support/secrets-manager.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

let stack: LocalStack;
let cancel: Handler;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main'] });
  Object.assign(process.env, stack.env);
});
afterAll(() => stack.close());

/** A new container for every test: the cache of the previous one must not hide a read. */
beforeEach(async () => {
  stack.emulator.reset();
  stack.secrets.reset();
  stack.writeExchangeSecret();
  stack.secrets.put(stack.webhookSecretId, {
    webhookSecret: stack.webhookSecret,
    passphrase: stack.passphrase,
  });
  vi.resetModules();
  cancel = (await import('../../handlers/cancel.ts')).handler as Handler;
});

/** Content that must never be repeated: registered, so the suite-wide secret-hygiene check watches for it too. */
const SENTINEL = `sentinel-${crypto.randomUUID()}`;
registerSecret('apiSecret', SENTINEL);

const direct = () => cancel(loadEvent('direct-cancel.json'), lambdaContext());
const http = async () =>
  (await cancel(
    signedHttpEvent(
      'http-v2-cancel.json',
      { category: 'linear', symbol: 'BTCUSDT', orderId: '9000000000000000002' },
      stack.webhookSecret,
    ),
    lambdaContext(),
  )) as APIGatewayProxyResult;

async function thrown(promise: Promise<unknown>): Promise<Error & { secretId?: string }> {
  const outcome = await promise.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.result)}`);
  return outcome.error as Error & { secretId?: string };
}

/** Everything an error carries (message, cause chain, own fields), as a log or Lambda would print it. */
const everything = (error: unknown) => inspect(error, { depth: 8 });

describe('Secrets Manager refuses or fails the read', () => {
  const faults: [SecretsFault, string][] = [
    ['notFound', 'not found'],
    ['accessDenied', 'access denied'],
    ['decryptionFailure', 'cannot be decrypted'],
  ];

  it.each(faults)(
    'a direct invocation throws a SecretError naming the secret and "%s"',
    async (fault, problem) => {
      stack.secrets.failNext(fault, 1, stack.exchangeSecretId);
      const error = await thrown(direct());
      expect(error.name).toBe('SecretError');
      expect(error.secretId).toBe(stack.exchangeSecretId);
      expect(error.message).toContain(stack.exchangeSecretId);
      expect(error.message).toContain(problem);
      expect(stack.emulator.requests).toHaveLength(0);
    },
  );

  it.each(faults)('an HTTP request gets a bare 500 when the webhook secret is %s', async (fault) => {
    stack.secrets.failNext(fault, 1, stack.webhookSecretId);
    const response = await http();
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'InternalError' });
    expect(response.body).not.toContain(stack.webhookSecretId);
    expect(stack.secrets.reads(stack.exchangeSecretId)).toBe(0);
  });

  it('an HTTP request gets a bare 500 when the exchange secret cannot be read after authenticating', async () => {
    stack.secrets.failNext('accessDenied', 1, stack.exchangeSecretId);
    const response = await http();
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toMatchObject({ error: 'InternalError' });
    expect(stack.emulator.requests).toHaveLength(0);
  });

  it('does not cache a failed read: the next invocation reads again and succeeds', async () => {
    stack.secrets.failNext('notFound', 1, stack.exchangeSecretId);
    await thrown(direct());
    // The order does not exist: the exchange answers, so the key was read and used this time.
    const error = await thrown(direct());
    expect(error.name).toBe('OrderNotFoundError');
    expect(stack.secrets.reads(stack.exchangeSecretId)).toBe(2);
    // And a good read is cached.
    await thrown(direct());
    expect(stack.secrets.reads(stack.exchangeSecretId)).toBe(2);
  });

  it('does not cache a failed webhook-secret read either', async () => {
    stack.secrets.failNext('accessDenied', 1, stack.webhookSecretId);
    expect((await http()).statusCode).toBe(500);
    expect((await http()).statusCode).toBe(404);
    expect(stack.secrets.reads(stack.webhookSecretId)).toBe(2);
  });
});

describe('Secrets Manager throttles', () => {
  it('is retried by the SDK and then succeeds', async () => {
    stack.secrets.failNext('throttling', 2, stack.exchangeSecretId);
    const error = await thrown(direct());
    expect(error.name).toBe('OrderNotFoundError');
    expect(stack.secrets.reads(stack.exchangeSecretId)).toBe(3);
  });

  it('gives a SecretError saying so once the retries are spent, and the next invocation reads again', async () => {
    stack.secrets.failNext('throttling', 4, stack.exchangeSecretId);
    const error = await thrown(direct());
    // Nothing is wrong with the secret: Secrets Manager is unavailable (HTTP answers say 503).
    expect(error.name).toBe('SecretUnavailableError');
    expect(error.message).toContain(stack.exchangeSecretId);
    expect(error.message).toContain('throttling');
    expect(stack.secrets.reads(stack.exchangeSecretId)).toBe(4);
    expect((await thrown(direct())).name).toBe('OrderNotFoundError');
    expect(stack.secrets.reads(stack.exchangeSecretId)).toBe(5);
  });
});

describe('the secret has the wrong content', () => {
  const pem = `-----BEGIN PUBLIC KEY-----\n${SENTINEL}\n-----END PUBLIC KEY-----`;
  const shapes: [string, string, string][] = [
    ['malformed JSON', `{"apiKey": "key", "apiSecret": "${SENTINEL}"`, 'is not valid JSON'],
    ['a JSON array', JSON.stringify([SENTINEL]), 'must be a JSON object'],
    ['a JSON string', JSON.stringify(SENTINEL), 'must be a JSON object'],
    ['no apiKey', JSON.stringify({ apiSecret: SENTINEL }), '"apiKey" is missing'],
    ['an empty apiKey', JSON.stringify({ apiKey: '', apiSecret: SENTINEL }), '"apiKey" is missing'],
    ['a numeric apiKey', JSON.stringify({ apiKey: 12345, apiSecret: SENTINEL }), '"apiKey" is missing'],
    [
      'neither apiSecret nor privateKey',
      JSON.stringify({ apiKey: SENTINEL }),
      'needs "apiSecret" (HMAC) or "privateKey" (RSA)',
    ],
    [
      'a numeric apiSecret',
      JSON.stringify({ apiKey: SENTINEL, apiSecret: 42 }),
      'needs "apiSecret" (HMAC) or "privateKey" (RSA)',
    ],
    [
      'a privateKey that is not a private key',
      JSON.stringify({ apiKey: 'key', privateKey: pem }),
      '"privateKey" is not a PEM private key',
    ],
    [
      'an unparseable private key',
      JSON.stringify({
        apiKey: 'key',
        privateKey: `-----BEGIN PRIVATE KEY-----\n${SENTINEL}\n-----END PRIVATE KEY-----`,
      }),
      'cannot be parsed',
    ],
    ['empty accounts', JSON.stringify({ accounts: {} }), '"accounts" must be an object with at least one'],
    ['accounts as a list', JSON.stringify({ accounts: [SENTINEL] }), '"accounts" must be an object'],
    [
      'an account that is a string',
      JSON.stringify({ accounts: { main: SENTINEL } }),
      'accounts.main must be an object with apiKey and apiSecret or privateKey',
    ],
    [
      'an account without apiKey',
      JSON.stringify({ accounts: { main: { apiSecret: SENTINEL } } }),
      'accounts.main: "apiKey" is missing',
    ],
  ];

  it.each(shapes)(
    '%s: a SecretError names the secret and the problem, without the content',
    async (_, content, problem) => {
      stack.secrets.put(stack.exchangeSecretId, content);
      const error = await thrown(direct());
      expect(error.name).toBe('SecretError');
      expect(error.secretId).toBe(stack.exchangeSecretId);
      expect(error.message).toContain(stack.exchangeSecretId);
      expect(error.message).toContain(problem);
      expect(everything(error)).not.toContain(SENTINEL);
      expect(stack.emulator.requests).toHaveLength(0);
    },
  );

  it('answers a bare 500 over HTTP, without the content or the problem', async () => {
    stack.secrets.put(stack.exchangeSecretId, JSON.stringify({ apiKey: SENTINEL }));
    const response = await http();
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain(SENTINEL);
    expect(response.body).not.toContain('apiSecret');
  });

  const webhookShapes: [string, unknown, string][] = [
    [
      'a short webhookSecret',
      { webhookSecret: SENTINEL.slice(0, 8) },
      '"webhookSecret" must be a string of at least',
    ],
    ['no webhookSecret', { passphrase: SENTINEL }, '"webhookSecret" must be a string of at least'],
    ['a short passphrase', { webhookSecret: SENTINEL, passphrase: 'short' }, '"passphrase" must be a string'],
  ];

  it.each(webhookShapes)(
    'webhook secret with %s: a bare 500 over HTTP, and the log names the secret and the problem',
    async (_, value, problem) => {
      stack.secrets.put(stack.webhookSecretId, value as object);
      const lines: string[] = [];
      const write = process.stdout.write;
      process.stdout.write = ((chunk: string, ...rest: unknown[]) => {
        lines.push(String(chunk));
        return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
      }) as typeof process.stdout.write;
      let response: APIGatewayProxyResult;
      try {
        response = await http();
      } finally {
        process.stdout.write = write;
      }
      expect(response.statusCode).toBe(500);
      expect(response.body).not.toContain(SENTINEL);
      const refused = lines.find((l) => l.includes('"request refused"')) as string;
      expect(JSON.parse(refused)).toMatchObject({
        errorType: 'SecretError',
        secretId: stack.webhookSecretId,
      });
      expect(refused).toContain(problem.replaceAll('"', '\\"'));
      expect(lines.join('')).not.toContain(SENTINEL);
      expect(stack.secrets.reads(stack.exchangeSecretId)).toBe(0);
    },
  );
});

/** A kill switch whose keys cannot be read fails at once, naming the secret: nothing was attempted. */
describe('the kill switch without its keys', () => {
  it('throws the SecretError from the EventBridge event', async () => {
    const cancelAll = (await import('../../handlers/cancel-all.ts')).handler as Handler;
    stack.secrets.failNext('accessDenied', 1, stack.exchangeSecretId);
    const error = await thrown(cancelAll(loadEvent('kill-switch.json') as AnyEvent, lambdaContext()));
    expect(error.name).toBe('SecretError');
    expect(error.message).toContain(stack.exchangeSecretId);
    expect(stack.emulator.requests).toHaveLength(0);
  });
});
