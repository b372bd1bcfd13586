// HTTP answers: JSON always, and one place that maps the error hierarchy to status codes. 4xx messages are
// the caller's to read; 5xx answers say what failed upstream (retCode, retMsg) but never how we are built.

import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  AuthenticationError,
  BybitApiError,
  DeadlineExceededError,
  DrillFailedError,
  ExchangeUnavailableError,
  IncompleteCancelError,
  IpRefusedError,
  OrderNotFoundError,
  OrderNotOpenError,
  PayloadTooLargeError,
  ValidationError,
} from '../errors.ts';
import type { HttpTrigger } from './triggers.ts';

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/**
 * The HTTP answer for a result: 202 when the work was accepted but the exchange did not yet confirm it
 * (`confirmed: false`, a cancel whose order still showed open at the deadline), 200 otherwise.
 */
export function resultResponse(result: unknown): APIGatewayProxyResult {
  const unconfirmed = (result as { confirmed?: unknown } | null)?.confirmed === false;
  return json(unconfirmed ? 202 : 200, result);
}

/** The bytes the sender signed, or a 413 when there are more than `maxBytes`. */
export function decodeBody(trigger: HttpTrigger, maxBytes: number): Buffer {
  // Refuse before decoding anything large: base64 grows a body by 4/3.
  if (trigger.rawBody.length > Math.ceil((maxBytes * 4) / 3) + 4) throw new PayloadTooLargeError(maxBytes);
  const body = Buffer.from(trigger.rawBody, trigger.isBase64Encoded ? 'base64' : 'utf8');
  if (body.length > maxBytes) throw new PayloadTooLargeError(maxBytes);
  return body;
}

/** Parses a request body as JSON, or throws a 400 naming the body. */
export function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new ValidationError('body', 'the body is not valid JSON');
  }
}

/** The HTTP answer for an error; `requestId` lets an operator find the logs of a 5xx. */
export function errorResponse(error: unknown, requestId: string): APIGatewayProxyResult {
  const answer = (status: number, body: Record<string, unknown>) => json(status, { ...body, requestId });
  if (error instanceof ValidationError)
    return answer(400, { error: error.name, field: error.field, message: error.message });
  if (error instanceof AuthenticationError) return answer(401, { error: error.name, message: error.message });
  if (error instanceof PayloadTooLargeError)
    return answer(413, { error: error.name, message: error.message });
  if (error instanceof OrderNotFoundError) {
    return answer(404, {
      error: error.name,
      message: 'the exchange has no record of the order',
      retCode: error.retCode,
      retMsg: error.retMsg,
    });
  }
  if (error instanceof OrderNotOpenError) {
    return answer(404, {
      error: error.name,
      message: 'the order does not exist or is no longer open',
      retCode: error.retCode,
      retMsg: error.retMsg,
    });
  }
  if (error instanceof IncompleteCancelError)
    return answer(502, { error: error.name, message: error.message, ...error.report });
  if (error instanceof DrillFailedError)
    return answer(502, { error: error.name, message: error.message, ...error.report });
  if (error instanceof BybitApiError) {
    // A retryable code that outlasted our retries means the exchange is unavailable, not that it refused.
    const status = error.kind === 'retryable' ? 503 : 502;
    return answer(status, {
      error: error.name,
      message: `the exchange refused ${error.endpoint}`,
      retCode: error.retCode,
      retMsg: error.retMsg,
    });
  }
  // Bybit refuses this IP: the caller can do nothing but wait (or move), and must not retry soon.
  if (error instanceof IpRefusedError) return answer(503, { error: error.name, message: error.message });
  if (error instanceof ExchangeUnavailableError)
    return answer(503, { error: error.name, message: error.message });
  if (error instanceof DeadlineExceededError)
    return answer(504, { error: error.name, message: error.message });
  return answer(500, {
    error: 'InternalError',
    message: 'the request failed inside the function; see its logs',
  });
}
