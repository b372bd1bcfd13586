import { LambdaClient } from '@aws-sdk/client-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FunctionInvokeError } from '../../lib/errors.ts';
import { LambdaFunctions, type LambdaSender } from '../../lib/lambda/functions.ts';
import { handlerConfig, named, recordingSender } from '../support/sdk-fakes.ts';

const NOW = 1_800_000_000_000;

afterEach(() => {
  vi.restoreAllMocks();
});
const fakeLambda = (answer: () => unknown) => recordingSender<LambdaSender>(answer);

const bytes = (text: string) => new TextEncoder().encode(text);
const payloadOf = (input: Record<string, unknown>) =>
  JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array));

describe('LambdaFunctions.start', () => {
  it('queues an Event invocation of the named function with the payload as JSON, with no deadline signal', async () => {
    const { client, sent } = fakeLambda(() => ({ StatusCode: 202 }));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    await functions.start('bybit-cancel-drill', { action: 'drill', accounts: ['main'] });

    expect(sent).toHaveLength(1);
    expect(sent[0]?.name).toBe('InvokeCommand');
    expect(sent[0]?.input.FunctionName).toBe('bybit-cancel-drill');
    expect(sent[0]?.input.InvocationType).toBe('Event');
    expect(payloadOf(sent[0]?.input ?? {})).toEqual({ action: 'drill', accounts: ['main'] });
    expect(sent[0]?.options).toEqual({});
  });

  it('passes an abort signal when a deadline is given', async () => {
    const { client, sent } = fakeLambda(() => ({}));
    const functions = new LambdaFunctions({ client, now: () => NOW });
    const timeout = vi.spyOn(AbortSignal, 'timeout');

    try {
      await functions.start('f', {}, NOW + 5000);
      expect(timeout.mock.calls).toEqual([[5000]]);
    } finally {
      timeout.mockRestore();
    }

    const signal = sent[0]?.options.abortSignal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal?.aborted).toBe(false);
  });

  it('refuses an empty function name without sending anything', async () => {
    const { client, sent } = fakeLambda(() => ({}));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    const error = await functions.start('', {}).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FunctionInvokeError);
    expect((error as Error).message).toBe('invoking (unset): no function name is configured');
    expect((error as FunctionInvokeError).functionName).toBe('(unset)');
    expect(sent).toHaveLength(0);
  });

  it('wraps a refusal with its name and message, keeping the cause', async () => {
    const refusal = named('ResourceNotFoundException', 'Function not found: f');
    const { client } = fakeLambda(() => refusal);
    const functions = new LambdaFunctions({ client, now: () => NOW });

    const error = (await functions.start('f', {}).catch((e: unknown) => e)) as FunctionInvokeError;

    expect(error).toBeInstanceOf(FunctionInvokeError);
    expect(error.message).toBe('invoking f: ResourceNotFoundException: Function not found: f');
    expect(error.functionName).toBe('f');
    expect(error.cause).toBe(refusal);
  });

  it('cuts a long refusal message to 300 characters', async () => {
    const { client } = fakeLambda(() => named('ServiceException', 'x'.repeat(400)));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    const error = (await functions.start('f', {}).catch((e: unknown) => e)) as Error;

    expect(error.message).toBe(`invoking f: ServiceException: ${'x'.repeat(300)}`);
  });

  it.each(['TimeoutError', 'AbortError', 'RequestTimeout'])(
    'says a %s is no answer in time',
    async (name) => {
      const { client } = fakeLambda(() => named(name, 'the operation was aborted'));
      const functions = new LambdaFunctions({ client, now: () => NOW });

      const error = (await functions.start('f', {}, NOW + 10).catch((e: unknown) => e)) as Error;

      expect(error).toBeInstanceOf(FunctionInvokeError);
      expect(error.message).toBe('invoking f: no answer in time');
    },
  );
});

describe('LambdaFunctions.run', () => {
  it('runs RequestResponse and answers the parsed result with the request id', async () => {
    const { client, sent } = fakeLambda(() => ({
      Payload: bytes('{"configured":true,"accounts":[]}'),
      $metadata: { requestId: 'req-1' },
    }));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    const answered = await functions.run('bybit-cancel-reset', { check: 'master' }, NOW + 1000);

    expect(answered).toEqual({ result: { configured: true, accounts: [] }, requestId: 'req-1' });
    expect(sent[0]?.input.InvocationType).toBe('RequestResponse');
    expect(sent[0]?.input.FunctionName).toBe('bybit-cancel-reset');
    expect(payloadOf(sent[0]?.input ?? {})).toEqual({ check: 'master' });
    expect(sent[0]?.options.abortSignal).toBeInstanceOf(AbortSignal);
  });

  it('answers null for an empty payload, and leaves the request id out when Lambda gives none', async () => {
    const { client } = fakeLambda(() => ({ $metadata: {} }));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    expect(await functions.run('f', {}, NOW + 1000)).toStrictEqual({ result: null });
  });

  it('answers null for a zero-length payload', async () => {
    const { client } = fakeLambda(() => ({ Payload: bytes('') }));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    expect(await functions.run('f', {}, NOW + 1000)).toStrictEqual({ result: null });
  });

  it('refuses a payload that is not JSON', async () => {
    const { client } = fakeLambda(() => ({ Payload: bytes('not json') }));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    const error = (await functions.run('f', {}, NOW + 1000).catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(FunctionInvokeError);
    expect(error.message).toBe('invoking f: it answered something that is not JSON');
  });

  it("answers a function's error as its type and message, without the stack trace", async () => {
    const { client } = fakeLambda(() => ({
      FunctionError: 'Unhandled',
      Payload: bytes(
        JSON.stringify({ errorType: 'ConfigError', errorMessage: 'X is not set', stackTrace: ['at y'] }),
      ),
      $metadata: { requestId: 'req-2' },
    }));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    expect(await functions.run('f', {}, NOW + 1000)).toStrictEqual({
      error: { type: 'ConfigError', message: 'X is not set' },
      requestId: 'req-2',
    });
  });

  it("falls back on Lambda's FunctionError and 'no message' when the error payload lacks them", async () => {
    const { client } = fakeLambda(() => ({ FunctionError: 'Unhandled', Payload: bytes('{"errorType":7}') }));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    expect(await functions.run('f', {}, NOW + 1000)).toStrictEqual({
      error: { type: 'Unhandled', message: 'no message' },
    });
  });

  it('falls back the same way on an empty error payload', async () => {
    const { client } = fakeLambda(() => ({ FunctionError: 'Handled' }));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    expect(await functions.run('f', {}, NOW + 1000)).toStrictEqual({
      error: { type: 'Handled', message: 'no message' },
    });
  });

  it("cuts a function's error message to 2000 characters", async () => {
    const { client } = fakeLambda(() => ({
      FunctionError: 'Unhandled',
      Payload: bytes(JSON.stringify({ errorType: 'Error', errorMessage: 'm'.repeat(2500) })),
    }));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    const answered = await functions.run('f', {}, NOW + 1000);

    expect(answered.error?.message).toBe('m'.repeat(2000));
  });

  it('throws when the invocation itself fails', async () => {
    const { client } = fakeLambda(() => named('TooManyRequestsException', 'Rate exceeded'));
    const functions = new LambdaFunctions({ client, now: () => NOW });

    const error = (await functions.run('f', {}, NOW + 1000).catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(FunctionInvokeError);
    expect(error.message).toBe('invoking f: TooManyRequestsException: Rate exceeded');
  });

  it('aborts at once when the deadline has passed (the signal waits at least 1 ms)', async () => {
    let signal: AbortSignal | undefined;
    const client = {
      send: (_command: unknown, options: { abortSignal: AbortSignal }) => {
        signal = options.abortSignal;
        return new Promise((_resolve, reject) => {
          options.abortSignal.addEventListener('abort', () => reject(named('AbortError')));
        });
      },
    } as unknown as LambdaSender;
    const functions = new LambdaFunctions({ client, now: () => NOW });
    const timeout = vi.spyOn(AbortSignal, 'timeout');

    const error = (await functions.run('f', {}, NOW - 60_000).catch((e: unknown) => e)) as Error;

    expect(timeout.mock.calls).toEqual([[1]]);
    timeout.mockRestore();
    expect(signal?.aborted).toBe(true);
    expect(error.message).toBe('invoking f: no answer in time');
  });
});

describe('LambdaFunctions without a client', () => {
  it('refuses an empty function name before any request', async () => {
    const functions = new LambdaFunctions();

    await expect(functions.start('', {})).rejects.toThrow('invoking (unset): no function name is configured');
    await expect(functions.run('', {}, Date.now() + 1000)).rejects.toThrow(
      'invoking (unset): no function name is configured',
    );
  });

  it('builds one SDK client to start with (three attempts) and another to run with (one attempt)', async () => {
    const seen: {
      client: unknown;
      attempts: number;
      handler: Record<string, unknown>;
      type: unknown;
      aborted?: boolean;
    }[] = [];
    const send = vi.spyOn(LambdaClient.prototype, 'send').mockImplementation(async function (
      this: LambdaClient,
      command: unknown,
      options?: unknown,
    ) {
      const attempts = await (this.config.maxAttempts as () => Promise<number>)();
      const handler = await handlerConfig(this.config.requestHandler);
      const type = (command as { input: { InvocationType: unknown } }).input.InvocationType;
      const aborted = (options as { abortSignal?: AbortSignal }).abortSignal?.aborted;
      seen.push({ client: this, attempts, handler, type, aborted });
      return { Payload: bytes('1') };
    });
    try {
      const functions = new LambdaFunctions();

      await functions.start('f', {});
      await functions.start('f', {});
      expect(await functions.run('f', {}, Date.now() + 60_000)).toEqual({ result: 1 });
      await functions.run('f', {}, Date.now() + 60_000);

      const starting = { connectionTimeout: 1000, requestTimeout: 3000, throwOnRequestTimeout: true };
      const running = { connectionTimeout: 1000, requestTimeout: 900_000, throwOnRequestTimeout: true };
      expect(seen.map(({ client: _, ...rest }) => rest)).toEqual([
        { attempts: 3, handler: starting, type: 'Event', aborted: undefined },
        { attempts: 3, handler: starting, type: 'Event', aborted: undefined },
        { attempts: 1, handler: running, type: 'RequestResponse', aborted: false },
        { attempts: 1, handler: running, type: 'RequestResponse', aborted: false },
      ]);
      expect(seen[0]?.client).toBeInstanceOf(LambdaClient);
      expect(seen[1]?.client).toBe(seen[0]?.client);
      expect(seen[2]?.client).not.toBe(seen[0]?.client);
      expect(seen[3]?.client).toBe(seen[2]?.client);
    } finally {
      send.mockRestore();
    }
  });
});
