// A wire-level AWS Lambda Invoke endpoint on loopback, so the real @aws-sdk/client-lambda runs end to end in
// tests (point AWS_ENDPOINT_URL_LAMBDA at `url`). It speaks the Invoke API as its reference describes it:
// `POST /2015-03-31/functions/{FunctionName}/invocations`, the payload as the body, `X-Amz-Invocation-Type`
// `Event` (answered 202 at once, the function run afterwards) or `RequestResponse` (answered 200 with the
// function's result; `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage}` when it threw). An
// unknown function is a 404 `ResourceNotFoundException`; `throttle` refuses the next invocations 429
// `TooManyRequestsException`, as Lambda refuses one beyond the function's concurrency.
// `GET /2015-03-31/functions/{FunctionName}/configuration` (GetFunctionConfiguration) answers a function's
// `Environment.Variables`, when it was given some.
//
// Signature V4 is NOT verified: any Authorization header is accepted; a request without one is refused.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsApiError, listen, readBody } from './aws-endpoint.ts';

export interface LambdaInvocation {
  functionName: string;
  invocationType: string;
  payload: unknown;
  /** When the invocation arrived (ms). */
  at: number;
  /** Settles when the function's run does (Event invocations run after the answer). */
  done: Promise<{ result?: unknown; error?: Error }>;
}

export type FunctionBody = (event: unknown) => Promise<unknown>;

export interface LambdaEndpoint {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Every invocation received, in order. */
  readonly invocations: readonly LambdaInvocation[];
  /** The next `times` invocations (of any function) are refused: 429 TooManyRequestsException. */
  throttle(times: number): void;
  /** Invocations refused by `throttle` so far. */
  readonly throttled: number;
  reset(): void;
  close(): Promise<void>;
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const CONFIGURATION = /^\/2015-03-31\/functions\/([^/]+)\/configuration$/;

/**
 * Serves the functions by name; each runs the given body with the invocation's payload. `environments` are
 * the functions' settings, by name, for GetFunctionConfiguration.
 */
export async function startLambdaEndpoint(
  functions: Record<string, FunctionBody>,
  options: { host?: string; port?: number; environments?: Record<string, Record<string, string>> } = {},
): Promise<LambdaEndpoint> {
  const invocations: LambdaInvocation[] = [];
  const limit = { refuse: 0, refused: 0 };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    try {
      if (!request.headers.authorization)
        throw new AwsApiError(403, 'AccessDeniedException', 'unsigned request');
      const configured = decodeURIComponent(CONFIGURATION.exec(request.url?.split('?')[0] ?? '')?.[1] ?? '');
      if (request.method === 'GET' && configured) {
        const variables = options.environments?.[configured];
        if (!variables)
          throw new AwsApiError(404, 'ResourceNotFoundException', `Function not found: ${configured}`);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ FunctionName: configured, Environment: { Variables: variables } }));
        return;
      }
      const name = decodeURIComponent(PATH.exec(request.url?.split('?')[0] ?? '')?.[1] ?? '');
      if (request.method !== 'POST' || !name)
        throw new AwsApiError(404, 'UnknownOperationException', 'no such route');
      const body = functions[name];
      if (!body) throw new AwsApiError(404, 'ResourceNotFoundException', `Function not found: ${name}`);
      if (limit.refuse > 0) {
        limit.refuse--;
        limit.refused++;
        throw new AwsApiError(429, 'TooManyRequestsException', 'Rate Exceeded.');
      }
      const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      const payload = raw === '' ? {} : JSON.parse(raw);
      const run = (): Promise<{ result?: unknown; error?: Error }> =>
        body(payload).then(
          (result) => ({ result }),
          (error: Error) => ({ error }),
        );
      if (invocationType === 'Event') {
        // Answered before the function runs, as Lambda queues an asynchronous invocation.
        let start: () => void = () => undefined;
        const started = new Promise<void>((resolve) => {
          start = resolve;
        });
        invocations.push({
          functionName: name,
          invocationType,
          payload,
          at: Date.now(),
          done: started.then(run),
        });
        response.writeHead(202, { 'content-type': 'application/json' });
        response.end();
        start();
        return;
      }
      const done = run();
      invocations.push({ functionName: name, invocationType, payload, at: Date.now(), done });
      const outcome = await done;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (outcome.error) headers['x-amz-function-error'] = 'Unhandled';
      response.writeHead(200, headers);
      response.end(
        JSON.stringify(
          outcome.error
            ? { errorType: outcome.error.name, errorMessage: outcome.error.message }
            : (outcome.result ?? null),
        ),
      );
    } catch (error) {
      const known =
        error instanceof AwsApiError
          ? error
          : new AwsApiError(400, 'InvalidRequestContentException', String(error));
      response.writeHead(known.status, {
        'content-type': 'application/json',
        'x-amzn-errortype': known.type,
      });
      response.end(JSON.stringify({ Type: 'User', message: known.message }));
    }
  }

  const server = await listen(options.host ?? '127.0.0.1', options.port ?? 0, handle);
  return {
    url: server.url,
    invocations,
    throttle: (times) => {
      limit.refuse = times;
    },
    get throttled() {
      return limit.refused;
    },
    reset: () => {
      invocations.length = 0;
      limit.refuse = 0;
      limit.refused = 0;
    },
    close: () => server.close(),
  };
}
