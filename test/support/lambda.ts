// A wire-level AWS Lambda Invoke endpoint on loopback, so that the real @aws-sdk/client-lambda runs end to end
// (point AWS_ENDPOINT_URL_LAMBDA at `url`). It answers the Invoke API as its reference describes it:
// `POST /2015-03-31/functions/{FunctionName}/invocations` with the payload as the body, and
// `X-Amz-Invocation-Type` `Event` (202 at once, the function run afterwards) or `RequestResponse` (200 with
// what the function returned; `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage, trace}` when it
// threw). Every answer carries `x-amzn-RequestId`. An unknown function is a 404 ResourceNotFoundException;
// `throttle` refuses the next invocations 429 `TooManyRequestsException`, as Lambda refuses one beyond the
// function's concurrency. `GET /2015-03-31/functions/{FunctionName}/configuration` (GetFunctionConfiguration)
// answers a function's `Environment.Variables`, when it was given some.
// Each function is a body that gets the payload and a Lambda context, the way the runtime calls a handler.
//
// Signature V4 is NOT verified: any Authorization header is accepted; a request without one is refused.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import { AwsApiError, listen, readBody } from './aws-endpoint.ts';
import { lambdaContext } from './events.ts';

export interface LambdaInvocation {
  functionName: string;
  invocationType: string;
  payload: unknown;
  requestId: string;
  /** When it arrived (Date.now()). */
  at: number;
  /** Settles when the function's run has ended (an Event invocation runs after its answer). */
  done: Promise<{ result?: unknown; error?: Error }>;
}

export type FunctionBody = (event: unknown, context: Context) => Promise<unknown>;

export interface LambdaEndpoint {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Every invocation received, in order. */
  readonly invocations: readonly LambdaInvocation[];
  /** Adds or replaces a function. */
  define(name: string, body: FunctionBody): void;
  /** Resolves once every invocation so far has finished running. */
  settled(): Promise<void>;
  /** The next `times` invocations (of any function) are refused: 429 TooManyRequestsException. */
  throttle(times: number): void;
  /** Invocations refused by `throttle` so far. */
  readonly throttled: number;
  reset(): void;
  close(): Promise<void>;
}

const PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const CONFIGURATION = /^\/2015-03-31\/functions\/([^/]+)\/configuration$/;
/** What a function is given as its time, as Lambda gives the configured timeout. */
const REMAINING_MS = 60_000;

/**
 * Serves `functions` by name; resolves once it listens. `environments` are the functions' settings, by name,
 * for GetFunctionConfiguration.
 */
export async function startLambdaEndpoint(
  functions: Record<string, FunctionBody> = {},
  options: { host?: string; port?: number; environments?: Record<string, Record<string, string>> } = {},
): Promise<LambdaEndpoint> {
  const bodies = new Map(Object.entries(functions));
  const invocations: LambdaInvocation[] = [];
  const limit = { refuse: 0, refused: 0 };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const requestId = randomUUID();
    try {
      if (!request.headers.authorization)
        throw new AwsApiError(403, 'AccessDeniedException', 'Missing Authentication Token');
      const configured = decodeURIComponent(CONFIGURATION.exec(request.url?.split('?')[0] ?? '')?.[1] ?? '');
      if (request.method === 'GET' && configured) {
        const variables = options.environments?.[configured];
        if (!variables)
          throw new AwsApiError(404, 'ResourceNotFoundException', `Function not found: ${configured}`);
        response.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
        response.end(JSON.stringify({ FunctionName: configured, Environment: { Variables: variables } }));
        return;
      }
      const name = decodeURIComponent(PATH.exec(request.url?.split('?')[0] ?? '')?.[1] ?? '');
      if (request.method !== 'POST' || !name)
        throw new AwsApiError(404, 'UnknownOperationException', 'no such route');
      const body = bodies.get(name);
      if (!body) throw new AwsApiError(404, 'ResourceNotFoundException', `Function not found: ${name}`);
      if (limit.refuse > 0) {
        limit.refuse--;
        limit.refused++;
        throw new AwsApiError(429, 'TooManyRequestsException', 'Rate Exceeded.');
      }
      const invocationType = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      let payload: unknown;
      try {
        payload = raw === '' ? {} : JSON.parse(raw);
      } catch {
        throw new AwsApiError(
          400,
          'InvalidRequestContentException',
          'Could not parse request body into json',
        );
      }
      const context = { ...lambdaContext(REMAINING_MS, name), awsRequestId: requestId };
      const run = (): Promise<{ result?: unknown; error?: Error }> =>
        body(payload, context).then(
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
          requestId,
          at: Date.now(),
          done: started.then(run),
        });
        response.writeHead(202, { 'x-amzn-requestid': requestId });
        response.end();
        start();
        return;
      }
      if (invocationType !== 'RequestResponse')
        throw new AwsApiError(
          400,
          'InvalidParameterValueException',
          `unsupported invocation type ${invocationType}`,
        );
      const done = run();
      invocations.push({ functionName: name, invocationType, payload, requestId, at: Date.now(), done });
      const outcome = await done;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-amzn-requestid': requestId,
      };
      if (outcome.error) headers['x-amz-function-error'] = 'Unhandled';
      response.writeHead(200, headers);
      response.end(
        JSON.stringify(
          outcome.error
            ? {
                errorType: outcome.error.name,
                errorMessage: outcome.error.message,
                trace: String(outcome.error.stack).split('\n'),
              }
            : (outcome.result ?? null),
        ),
      );
    } catch (error) {
      const known =
        error instanceof AwsApiError ? error : new AwsApiError(500, 'ServiceException', String(error));
      response.writeHead(known.status, {
        'content-type': 'application/json',
        'x-amzn-errortype': known.type,
        'x-amzn-requestid': requestId,
      });
      response.end(JSON.stringify({ Type: 'User', message: known.message }));
    }
  }

  const server = await listen(options.host ?? '127.0.0.1', options.port ?? 0, handle);
  return {
    url: server.url,
    invocations,
    define: (name, body) => {
      bodies.set(name, body);
    },
    async settled() {
      for (let seen = -1; seen !== invocations.length; ) {
        seen = invocations.length;
        await Promise.all(invocations.map((i) => i.done));
      }
    },
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
