// Invoking the stack's other functions (and this one, asynchronously) through the Lambda Invoke API: `start`
// queues an invocation and returns (InvocationType Event), `run` waits for the function's answer
// (RequestResponse), where an error the function threw is an answer (its type and message), not a throw. Only
// a refused or unanswered invocation throws FunctionInvokeError. The SDK is loaded on first use: the functions
// that never invoke another must not pay for it at cold start.

import type { LambdaClient } from '@aws-sdk/client-lambda';
import { FunctionInvokeError } from '../errors.ts';

/** The one method of the SDK client this adapter uses (tests pass their own). */
export type LambdaSender = Pick<LambdaClient, 'send'>;

/** What a function answered: its result, or the error it threw (Lambda passes on the type and message only). */
export interface Answered {
  result?: unknown;
  error?: { type: string; message: string };
  /** The invocation's request id (its log lines and its records carry the same). */
  requestId?: string;
}

export interface LambdaFunctionsOptions {
  /** Defaults to SDK clients that follow the standard AWS_* endpoint and region settings. */
  client?: LambdaSender;
  now?: () => number;
}

const defaults = {
  connectionTimeoutMs: 1000,
  /** Queuing an invocation is quick; a retried start at worst runs the work twice, which it allows. */
  startAttempts: 3,
  startTimeoutMs: 3000,
  /**
   * A function that ran and then failed to answer must not be run again behind the caller's back (a reset,
   * a drill): one attempt, waited on until the caller's deadline.
   */
  runAttempts: 1,
  runTimeoutMs: 900_000,
};

type Sdk = typeof import('@aws-sdk/client-lambda');

export class LambdaFunctions {
  private readonly given: LambdaSender | undefined;
  private starter: LambdaSender | undefined;
  private runner: LambdaSender | undefined;
  private sdk: Promise<Sdk> | undefined;
  private readonly now: () => number;

  constructor(options: LambdaFunctionsOptions = {}) {
    this.given = options.client;
    this.now = options.now ?? Date.now;
  }

  /** Queues an invocation of `name` with `payload`; resolves once Lambda has taken it. */
  async start(name: string, payload: unknown, until?: number): Promise<void> {
    const sdk = await this.load();
    this.starter ??= this.given ?? this.client(sdk, defaults.startAttempts, defaults.startTimeoutMs);
    await this.invoke(this.starter, sdk, name, 'Event', payload, until);
  }

  /** Runs `name` with `payload` and answers what it returned or threw, by `until` (epoch ms). */
  async run(name: string, payload: unknown, until: number): Promise<Answered> {
    const sdk = await this.load();
    this.runner ??= this.given ?? this.client(sdk, defaults.runAttempts, defaults.runTimeoutMs);
    const out = await this.invoke(this.runner, sdk, name, 'RequestResponse', payload, until);
    const text = new TextDecoder().decode(out.Payload ?? new Uint8Array());
    let value: unknown = null;
    try {
      value = text === '' ? null : JSON.parse(text);
    } catch {
      throw new FunctionInvokeError(name, 'it answered something that is not JSON');
    }
    const requestId = out.$metadata?.requestId;
    if (!out.FunctionError) return { result: value, ...(requestId ? { requestId } : {}) };
    // Lambda's error answer also carries a stack trace: only the type and the message are kept.
    const { errorType, errorMessage } = (value ?? {}) as { errorType?: unknown; errorMessage?: unknown };
    return {
      error: {
        type: typeof errorType === 'string' ? errorType : out.FunctionError,
        message: typeof errorMessage === 'string' ? errorMessage.slice(0, 2000) : 'no message',
      },
      ...(requestId ? { requestId } : {}),
    };
  }

  private async invoke(
    client: LambdaSender,
    sdk: Sdk,
    name: string,
    type: 'Event' | 'RequestResponse',
    payload: unknown,
    until: number | undefined,
  ) {
    if (!name) throw new FunctionInvokeError('(unset)', 'no function name is configured');
    const limit = until === undefined ? undefined : AbortSignal.timeout(Math.max(1, until - this.now()));
    try {
      return await client.send(
        new sdk.InvokeCommand({
          FunctionName: name,
          InvocationType: type,
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
        limit ? { abortSignal: limit } : {},
      );
    } catch (cause) {
      const { name: error, message } = cause as Error;
      const why = /Timeout|Abort/.test(error)
        ? 'no answer in time'
        : `${error}: ${String(message).slice(0, 300)}`;
      throw new FunctionInvokeError(name, why, { cause });
    }
  }

  private client(sdk: Sdk, maxAttempts: number, requestTimeout: number): LambdaSender {
    return new sdk.LambdaClient({
      maxAttempts,
      requestHandler: {
        connectionTimeout: defaults.connectionTimeoutMs,
        requestTimeout,
        throwOnRequestTimeout: true,
      },
    });
  }

  private load(): Promise<Sdk> {
    this.sdk ??= import('@aws-sdk/client-lambda');
    return this.sdk;
  }
}
