// The events in events/ (the same files `serverless invoke local -p` uses), cloned per use, and signed the
// way a webhook sender signs: the route-bound signature for the event's own route, unless told otherwise.

import { readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { routeSignature, webhookSignature } from '../../lib/lambda/webhook-auth.ts';

const eventsDir = new URL('../../events/', import.meta.url);

// biome-ignore lint/suspicious/noExplicitAny: events are plain JSON that tests reshape freely
export type AnyEvent = any;

export function loadEvent(name: string): AnyEvent {
  return structuredClone(JSON.parse(readFileSync(new URL(name, eventsDir), 'utf8')));
}

export interface SignOptions {
  now?: number;
  base64?: boolean;
  /** Replaces the signature after signing (a forged or mangled one). */
  signature?: string;
  /** Signs for this route (`POST /cancel-all`) instead of the event's own. */
  route?: string;
  /** The legacy signature of `<timestamp>.<body>`, which covers no route. */
  legacy?: boolean;
}

/** The route an API Gateway event from events/ came on, `<METHOD> <path>`, as the API declares it. */
export function routeOfEvent(event: AnyEvent): string {
  return 'httpMethod' in event ? `${event.httpMethod} ${event.resource}` : String(event.routeKey);
}

/** An API Gateway event from events/ carrying `body`, signed with the webhook key like a real sender would. */
export function signedHttpEvent(
  name: string,
  body: unknown,
  webhookSecret: string,
  options: SignOptions = {},
): AnyEvent {
  const event = loadEvent(name);
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const timestamp = String(options.now ?? Date.now());
  const signature =
    options.signature ??
    (options.legacy
      ? webhookSignature(webhookSecret, timestamp, raw)
      : routeSignature(webhookSecret, timestamp, options.route ?? routeOfEvent(event), raw));
  const v1 = 'httpMethod' in event;
  const headers = event.headers as Record<string, string>;
  headers[v1 ? 'X-Timestamp' : 'x-timestamp'] = timestamp;
  headers[v1 ? 'X-Signature' : 'x-signature'] = signature;
  if (v1) {
    event.multiValueHeaders['X-Timestamp'] = [timestamp];
    event.multiValueHeaders['X-Signature'] = [signature];
  }
  event.body = options.base64 ? Buffer.from(raw).toString('base64') : raw;
  event.isBase64Encoded = options.base64 === true;
  return event;
}

/** A Lambda context with the given time left. */
export function lambdaContext(remainingMs = 30_000, functionName = 'bybit-cancel-test'): Context {
  const end = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:ap-southeast-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/11/21/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
