// Reading a secret (lib/lambda/secrets.ts) on a fake Secrets Manager client: what each SDK failure becomes,
// the deadline every read keeps, what a malformed value is called (never quoted), and the two secret formats.

import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretError, SecretUnavailableError } from '../../lib/errors.ts';
import {
  DEFAULT_ACCOUNT,
  exchangeCredentials,
  parseExchangeSecret,
  type SecretReader,
  SecretStore,
} from '../../lib/lambda/secrets.ts';

const NOW = 1_700_000_000_000;
const named = (name: string) => Object.assign(new Error(`${name} from the SDK`), { name });

/** A client answering each read with the next of `answers` (an Error is thrown), recording what it was sent. */
function reader(answers: (Error | { SecretString?: string })[]) {
  const sent: { secretId: unknown; signal?: AbortSignal }[] = [];
  const client: SecretReader = {
    async send(command: GetSecretValueCommand, options?: { abortSignal?: AbortSignal }) {
      sent.push({ secretId: command.input.SecretId, signal: options?.abortSignal });
      const answer = answers.shift() ?? { SecretString: '{}' };
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { client, sent };
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );

describe('SecretStore reads', () => {
  it('asks for the secret by id and parses its JSON', async () => {
    const { client, sent } = reader([{ SecretString: '{"webhookSecret":"k"}' }]);
    const store = new SecretStore({ client, ttlMs: 1000, now: () => NOW });
    expect(await store.getJson('prod/webhook')).toEqual({ webhookSecret: 'k' });
    expect(sent.map((s) => s.secretId)).toEqual(['prod/webhook']);
    expect(sent[0]?.signal).toBeInstanceOf(AbortSignal);
  });

  it('refuses an unset secret id before any read', async () => {
    const { client, sent } = reader([]);
    const error = await failureOf(new SecretStore({ client, ttlMs: 1000 }).getJson(''));
    expect(error).toBeInstanceOf(SecretError);
    expect(error?.message).toBe('secret (unset): no secret id configured');
    expect(sent).toEqual([]);
  });

  it.each([
    ['ResourceNotFoundException', 'not found (check the secret id and the region)'],
    [
      'AccessDeniedException',
      "access denied (check the function's IAM policy and the secret's resource policy)",
    ],
    ['DecryptionFailure', 'cannot be decrypted (check the KMS key policy)'],
    ['InvalidRequestException', 'cannot be read in its current state (is it scheduled for deletion?)'],
    ['InvalidParameterException', 'the secret id is not valid'],
    ['SomethingNew', 'could not be read (SomethingNew)'],
  ])('calls %s a SecretError that says what to check', async (name, why) => {
    const { client } = reader([named(name)]);
    const error = await failureOf(new SecretStore({ client, ttlMs: 1000 }).getJson('prod/bybit'));
    expect(error).toBeInstanceOf(SecretError);
    expect(error).not.toBeInstanceOf(SecretUnavailableError);
    expect(error?.message).toBe(`secret prod/bybit: ${why}`);
    expect((error as Error & { cause?: unknown }).cause).toMatchObject({ name });
  });

  it.each([
    ['ThrottlingException', 'Secrets Manager is throttling reads; retries were exhausted'],
    ['InternalServiceError', 'Secrets Manager failed; retries were exhausted'],
    ['TimeoutError', 'no answer from Secrets Manager within 10000 ms'],
    ['AbortError', 'no answer from Secrets Manager within 10000 ms'],
    ['RequestTimeout', 'no answer from Secrets Manager within 10000 ms'],
  ])('calls %s unavailable, not wrong: the caller may retry', async (name, why) => {
    const { client } = reader([named(name)]);
    const error = await failureOf(
      new SecretStore({ client, ttlMs: 1000, now: () => NOW }).getJson('prod/bybit'),
    );
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect(error?.message).toContain(why);
  });

  it('calls any failure unavailable once the time to read has run out, to the millisecond', async () => {
    let now = NOW;
    const reset = named('ECONNRESET');
    const client: SecretReader = {
      async send() {
        now += 1_500;
        throw reset;
      },
    };
    const store = new SecretStore({ client, ttlMs: 1000, now: () => now });
    store.deadline = NOW + 1_500;
    const error = await failureOf(store.getJson('prod/bybit'));
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect(error?.message).toBe('secret prod/bybit: no answer from Secrets Manager within 1500 ms');
    expect((error as { cause?: unknown }).cause).toBe(reset);
    store.deadline = now + 1_501;
    expect(await failureOf(store.getJson('prod/bybit'))).not.toBeInstanceOf(SecretUnavailableError);
  });

  it('names a failure that carries no name "Error"', async () => {
    const client: SecretReader = { send: () => Promise.reject(undefined) };
    const error = await failureOf(new SecretStore({ client, ttlMs: 1000 }).getJson('prod/bybit'));
    expect(error?.message).toBe('secret prod/bybit: could not be read (Error)');
  });

  it('gives every read until the invocation deadline, and never more than 10 s', async () => {
    const timeouts: number[] = [];
    const original = AbortSignal.timeout;
    AbortSignal.timeout = (ms: number) => {
      timeouts.push(ms);
      return original.call(AbortSignal, ms);
    };
    try {
      const { client } = reader([{ SecretString: '{}' }, { SecretString: '{}' }, { SecretString: '{}' }]);
      const store = new SecretStore({ client, ttlMs: 0, now: () => NOW });
      await store.getJson('a');
      store.deadline = NOW + 2_500;
      await store.getJson('b');
      store.deadline = NOW - 100;
      await store.getJson('c');
    } finally {
      AbortSignal.timeout = original;
    }
    expect(timeouts).toEqual([10_000, 2_500, 1]);
  });

  it('refuses a binary secret and a value that is not JSON, never quoting the value', async () => {
    const { client } = reader([{}, { SecretString: 'apiSecret=hunter2-do-not-echo' }]);
    const store = new SecretStore({ client, ttlMs: 1000 });
    const binary = await failureOf(store.getJson('one'));
    expect(binary).toBeInstanceOf(SecretError);
    expect(binary?.message).toBe('secret one: holds no SecretString (binary secrets are not supported)');
    const text = await failureOf(store.getJson('two'));
    expect(text?.message).toBe('secret two: is not valid JSON');
    expect(
      JSON.stringify({ message: text?.message, cause: String((text as { cause?: unknown }).cause) }),
    ).not.toContain('hunter2');
  });

  it('keeps no failed read: the next call reads again', async () => {
    const { client, sent } = reader([named('InternalServiceError'), { SecretString: '{"ok":true}' }]);
    const store = new SecretStore({ client, ttlMs: 60_000, now: () => NOW });
    await failureOf(store.getJson('prod/bybit'));
    expect(await store.getJson('prod/bybit')).toEqual({ ok: true });
    expect(sent).toHaveLength(2);
  });
});

describe('parseExchangeSecret', () => {
  const hmac = { apiKey: 'KEY', apiSecret: 'SECRET' };

  it('names a single pair "default"', () => {
    expect(DEFAULT_ACCOUNT).toBe('default');
    expect([...parseExchangeSecret('id', hmac)]).toEqual([['default', hmac]]);
  });

  it('takes an RSA pair by its PEM key, and a named pair per account', () => {
    const rsa = {
      apiKey: 'RSAKEY',
      privateKey: '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----',
    };
    expect([...parseExchangeSecret('id', { accounts: { main: hmac, bot: rsa } })]).toEqual([
      ['main', hmac],
      ['bot', rsa],
    ]);
  });

  it.each([
    ['a JSON array', [hmac], 'secret id: must be a JSON object'],
    ['null', null, 'secret id: must be a JSON object'],
    [
      'accounts that are a list',
      { accounts: [hmac] },
      'secret id: "accounts" must be an object with at least one named key pair',
    ],
    [
      'no accounts',
      { accounts: {} },
      'secret id: "accounts" must be an object with at least one named key pair',
    ],
    ['no apiKey', { apiSecret: 'SECRET' }, 'secret id: the secret: "apiKey" is missing'],
    ['an empty apiKey', { apiKey: '', apiSecret: 'SECRET' }, 'secret id: the secret: "apiKey" is missing'],
    ['a numeric apiKey', { apiKey: 42, apiSecret: 'SECRET' }, 'secret id: the secret: "apiKey" is missing'],
    [
      'no secret at all',
      { apiKey: 'KEY' },
      'secret id: the secret: needs "apiSecret" (HMAC) or "privateKey" (RSA)',
    ],
    [
      'an empty apiSecret',
      { apiKey: 'KEY', apiSecret: '' },
      'secret id: the secret: needs "apiSecret" (HMAC) or "privateKey" (RSA)',
    ],
    [
      'a blank apiSecret',
      { apiKey: 'KEY', apiSecret: '   ' },
      'secret id: the secret: needs "apiSecret" (HMAC) or "privateKey" (RSA)',
    ],
    [
      'a privateKey that is not PEM',
      { apiKey: 'KEY', privateKey: 'abc' },
      'secret id: the secret: "privateKey" is not a PEM private key',
    ],
    [
      'a privateKey beside an apiSecret, not PEM',
      { apiKey: 'KEY', apiSecret: 'S', privateKey: 1 },
      'secret id: the secret: "privateKey" is not a PEM private key',
    ],
    ['a pair that is a string', 'KEY:SECRET', 'secret id: must be a JSON object'],
  ])('refuses %s, naming what is wrong', (_, value, message) => {
    expect(() => parseExchangeSecret('id', value)).toThrow(
      new SecretError('id', message.slice('secret id: '.length)),
    );
  });

  it('fails one malformed named account alone, saying where', () => {
    const accounts = parseExchangeSecret('id', {
      accounts: { main: hmac, broken: 'x', empty: { apiKey: 'K' } },
    });
    expect(accounts.get('main')).toEqual(hmac);
    expect((accounts.get('broken') as Error).message).toBe(
      'secret id: accounts.broken must be an object with apiKey and apiSecret or privateKey',
    );
    expect((accounts.get('empty') as Error).message).toBe(
      'secret id: accounts.empty: needs "apiSecret" (HMAC) or "privateKey" (RSA)',
    );
  });
});

describe('exchangeCredentials', () => {
  it('parses a cached value once, reads again on refresh, and names its secret', async () => {
    const { client, sent } = reader([
      { SecretString: JSON.stringify({ apiKey: 'OLD', apiSecret: 'S' }) },
      { SecretString: JSON.stringify({ apiKey: 'NEW', apiSecret: 'S' }) },
    ]);
    const source = exchangeCredentials(
      new SecretStore({ client, ttlMs: 60_000, now: () => NOW }),
      'prod/bybit',
    );
    expect(source.id).toBe('prod/bybit');
    const first = await source.accounts();
    expect(await source.accounts()).toBe(first);
    expect(sent).toHaveLength(1);
    const refreshed = await source.accounts({ refresh: true });
    expect(refreshed.get('default')).toEqual({ apiKey: 'NEW', apiSecret: 'S' });
    expect(sent).toHaveLength(2);
  });

  it('names the accounts of each new value to its listener, never a key', async () => {
    const { client } = reader([
      {
        SecretString: JSON.stringify({
          accounts: { main: { apiKey: 'K1', apiSecret: 'S1' }, bot: { apiKey: 'K2', apiSecret: 'S2' } },
        }),
      },
      { SecretString: JSON.stringify({ apiKey: 'K3', apiSecret: 'S3' }) },
    ]);
    const heard: string[][] = [];
    const source = exchangeCredentials(
      new SecretStore({ client, ttlMs: 60_000, now: () => NOW }),
      'prod/bybit',
      (names) => heard.push(names),
    );
    await source.accounts();
    await source.accounts();
    await source.accounts({ refresh: true });
    expect(heard).toEqual([['main', 'bot'], ['default']]);
  });

  it('refuses a secret whose JSON is not an object', async () => {
    const { client } = reader([{ SecretString: '"just a string"' }]);
    const source = exchangeCredentials(new SecretStore({ client, ttlMs: 60_000 }), 'prod/bybit');
    await expect(source.accounts()).rejects.toThrow('secret prod/bybit: must be a JSON object');
  });
});
