// HTTP answers: JSON always, and one place that maps the error hierarchy to status codes. 4xx messages are
// the caller's to read; 5xx answers carry only what a caller can act on (the operation, the request id, the
// exchange's retCode and retMsg, the per-scope report) and never how we are built: the details go to the log.

import type { APIGatewayProxyResult } from 'aws-lambda';
import {
  AuthenticationError,
  BybitApiError,
  DeadlineExceededError,
  DrillFailedError,
  DrillStartError,
  DuplicateRequestError,
  ExchangeUnavailableError,
  HaltedError,
  HaltResetError,
  HeartbeatBusyError,
  IncompleteCancelError,
  IpRefusedError,
  OrderNotFoundError,
  OrderNotOpenError,
  PayloadTooLargeError,
  RequestNotSentError,
  SchedulerUnavailableError,
  SecretUnavailableError,
  SourceNotAllowedError,
  StaleHeartbeatError,
  StateError,
  ValidationError,
} from '../errors.ts';
import type { Fields } from '../log.ts';
import type { Operation } from './metrics.ts';
import type { HttpTrigger } from './triggers.ts';

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

/**
 * The HTTP answer for a result: 202 when the work was accepted but is not done or not confirmed yet
 * (`confirmed: false`, a cancel whose order still showed open at the deadline; `started: true`, a drill handed
 * to the drill function), 200 otherwise.
 */
export function resultResponse(result: unknown): APIGatewayProxyResult {
  const answer = result as { confirmed?: unknown; started?: unknown } | null;
  const accepted = answer?.confirmed === false || answer?.started === true;
  return json(accepted ? 202 : 200, publicReport(result));
}

/** What a caller may read of a per-scope error: its type, a fixed message, and the exchange's own codes. */
const SCOPE_ERRORS: Record<string, string> = {
  UnknownAccount: 'no account of this name in the exchange secret',
  ValidationError: 'the request names no usable account',
  SecretError: "the account's entry in the exchange secret is unusable",
  SecretUnavailableError: 'Secrets Manager did not answer in time',
  BybitApiError: 'the exchange refused the request',
  OrderNotOpenError: 'the order does not exist or is no longer open',
  ExchangeUnavailableError: 'the exchange could not be reached',
  DeadlineExceededError: 'the deadline passed before the exchange answered',
  RequestNotSentError: 'the request could not be sent: a header holds a character HTTP cannot carry',
};

/** A per-scope error as an answer shows it; the whole of it is in the log under the request id. */
export function publicError(error: Fields): Fields {
  const type = String(error.errorType);
  // A refused IP's message is a fixed text that tells the caller what to do (wait, or move).
  const refusal = IP_REFUSALS.has(type) && IpRefusedError.messages.has(String(error.errorMessage));
  const known = refusal || Object.hasOwn(SCOPE_ERRORS, type);
  return {
    errorType: known ? type : 'InternalError',
    errorMessage: refusal
      ? error.errorMessage
      : (SCOPE_ERRORS[type] ?? 'the work failed inside the function; see its logs'),
    ...(typeof error.retCode === 'number' ? { retCode: error.retCode } : {}),
    ...(typeof error.retMsg === 'string' ? { retMsg: error.retMsg } : {}),
  };
}

const IP_REFUSALS = new Set(['IpRefusedError', 'IpRateLimitBanError', 'IpBlockedRegionError']);

/** A report with every per-scope error (and the coverage's) reduced to publicError; anything else as it is. */
function publicReport<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const report = value as Record<string, unknown>;
  const copy: Record<string, unknown> = { ...report };
  if (Array.isArray(report.scopes)) {
    copy.scopes = report.scopes.map((scope: Record<string, unknown>) =>
      isFields(scope?.error) ? { ...scope, error: publicError(scope.error) } : scope,
    );
  }
  const coverage = report.coverage as Record<string, unknown> | undefined;
  if (isFields(coverage?.error)) copy.coverage = { ...coverage, error: publicError(coverage.error) };
  return copy as T;
}

/** The per-scope errors of a report in full, for the log line of the answer that shows them reduced. */
export function scopeErrors(value: unknown): Fields[] {
  const report = (value as { report?: unknown } | null)?.report ?? value;
  const scopes = (report as { scopes?: unknown } | null)?.scopes;
  if (!Array.isArray(scopes)) return [];
  return scopes
    .filter((scope) => isFields(scope?.error))
    .map(({ account, scope, error }) => ({ account, scope, ...error }));
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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

/**
 * The HTTP answer for an error; `requestId` lets an operator find the logs of a 5xx, and `operation` (what was
 * asked for) is what a 5xx counts under in the `Failures` metric.
 */
export function errorResponse(
  error: unknown,
  requestId: string,
  operation: Operation = 'unknown',
): APIGatewayProxyResult {
  // A refusal names the operation asked for (what its Refusals metric counts under), when it is known.
  const asked = operation === 'unknown' ? {} : { operation };
  const answer = (status: number, body: Record<string, unknown>) =>
    json(status, { ...body, ...asked, requestId });
  // A fixed message per kind: error messages can hold a secret's name or a foreign error's cause.
  const failure = (status: number, name: string, message: string, fields: Record<string, unknown> = {}) =>
    json(status, { error: name, message, ...fields, operation, requestId });
  if (error instanceof SourceNotAllowedError)
    return answer(403, { error: error.name, message: error.message });
  if (error instanceof ValidationError)
    return answer(400, { error: error.name, field: error.field, message: error.message });
  if (error instanceof AuthenticationError) return answer(401, { error: error.name, message: error.message });
  if (error instanceof PayloadTooLargeError)
    return answer(413, { error: error.name, message: error.message });
  // 409: nothing was done, and doing it again would not help: the first request has the outcome, or a newer
  // heartbeat already moved the switch. Not a 5xx or a 429, which a retrying sender would send again.
  if (error instanceof DuplicateRequestError) {
    return answer(409, { error: error.name, message: error.message, firstRequestId: error.firstRequestId });
  }
  if (error instanceof StaleHeartbeatError)
    return answer(409, { error: error.name, message: error.message, newerAt: error.newerAt });
  if (error instanceof HaltedError) return haltedResponse(error, requestId);
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
  if (error instanceof IncompleteCancelError) {
    // A refused IP is what the caller must act on first (wait, do not retry): it leads, as in the error.
    const refusal = [...IpRefusedError.messages].find((m) => error.message.startsWith(m));
    const message = error.summary ?? 'not everything was cancelled; the report names what is left';
    return failure(502, error.name, refusal ? `${refusal}: ${message}` : message, publicReport(error.report));
  }
  if (error instanceof DrillFailedError) {
    return failure(502, error.name, 'the drill found a problem; the report names each account and why', {
      ...error.report,
    });
  }
  if (error instanceof RequestNotSentError) {
    return failure(502, error.name, SCOPE_ERRORS.RequestNotSentError as string);
  }
  if (error instanceof DrillStartError) {
    return failure(
      503,
      error.name,
      'the drill function could not be started; retry, or run npm run kill-switch -- --drill',
    );
  }
  if (error instanceof HaltResetError) {
    return failure(502, error.name, 'the reset is incomplete; the report names what is still halted', {
      ...error.report,
    });
  }
  if (error instanceof BybitApiError) {
    // A retryable code that outlasted our retries means the exchange is unavailable, not that it refused.
    const status = error.kind === 'retryable' ? 503 : 502;
    return failure(status, error.name, 'the exchange refused the request', {
      retCode: error.retCode,
      retMsg: error.retMsg,
    });
  }
  // Bybit refuses this IP: the caller can do nothing but wait (or move), and must not retry soon.
  if (error instanceof IpRefusedError) return failure(503, error.name, error.message);
  if (error instanceof ExchangeUnavailableError)
    return failure(503, error.name, 'the exchange could not be reached; retry or use the kill-switch event');
  if (error instanceof SecretUnavailableError)
    return failure(503, error.name, 'Secrets Manager did not answer in time; retry');
  if (error instanceof SchedulerUnavailableError)
    return failure(503, error.name, 'EventBridge Scheduler did not answer in time; retry');
  if (error instanceof HeartbeatBusyError) return failure(503, error.name, error.message);
  if (error instanceof DeadlineExceededError)
    return failure(504, error.name, 'the deadline passed before the exchange answered');
  if (error instanceof StateError)
    return failure(
      503,
      error.name,
      'the state table could not be read or written; nothing was changed; retry',
    );
  return failure(500, 'InternalError', 'the request failed inside the function; see its logs');
}

/**
 * 423 Locked: trading is halted on an account the request covers. `since`, `origin` and `reason` are the
 * earliest standing halt's; `halts` has each account's, for a bot that trades several.
 */
function haltedResponse(error: HaltedError, requestId: string): APIGatewayProxyResult {
  const [first] = [...error.halts].sort((a, b) => a.since.localeCompare(b.since));
  return json(423, {
    halted: true,
    since: first?.since,
    origin: first?.origin,
    reason: first?.reason ?? null,
    accounts: error.halts.map((h) => h.account),
    halts: error.halts,
    error: error.name,
    message:
      'trading is halted: stop trading and tell your operator; nothing was changed (the dead man’s switch stays as it was) until a person resets the halt',
    requestId,
  });
}
