// Synchronous invocation through serverless-offline's Lambda endpoint (the Lambda Invoke API on loopback):
// how the local run delivers the events AWS would deliver (the schedule, the kill-switch rule), since
// serverless-offline does not emulate EventBridge.

import { randomUUID } from 'node:crypto';

export type Invocation =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; errorType: string; errorMessage: string };

/** Invokes `functionName` with `event` and waits for its result; a function error is a result, not a throw. */
export async function invokeFunction(
  lambdaUrl: string,
  functionName: string,
  event: unknown,
  timeoutMs: number,
): Promise<Invocation> {
  const url = `${lambdaUrl}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new Error(`could not invoke ${functionName} at ${lambdaUrl}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`invoking ${functionName} answered HTTP ${response.status}: ${text.slice(0, 300)}`);
  }
  const payload = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
  // Like Lambda, a function that threw answers 200 with this header and {errorType, errorMessage}.
  if (response.headers.get('x-amz-function-error')) {
    return {
      ok: false,
      errorType: String(payload.errorType ?? 'Error'),
      errorMessage: String(payload.errorMessage ?? text.slice(0, 300)),
    };
  }
  return { ok: true, result: payload };
}

/** An EventBridge event as the rule delivers it to the function. */
export function eventBridgeEvent(source: string, detailType: string, detail: unknown, region: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source,
    account: '000000000000',
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [],
    detail,
  };
}
