// The product's one error hierarchy. Errors carry facts (endpoint, retCode, field), never keys,
// signatures, request headers or secret contents, so any of them can be logged or returned safely.

import type { RetCodeClass } from './bybit/codes.ts';

/** The caller sent something we will not act on (HTTP 400). */
export class ValidationError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'ValidationError';
    this.field = field;
  }
}

/** The webhook request is not signed (or not recent) as required (HTTP 401). */
export class AuthenticationError extends Error {
  constructor(message = 'missing or invalid webhook signature') {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** The signature (or passphrase) was well formed but did not match the webhook key (HTTP 401). */
export class SignatureMismatchError extends AuthenticationError {
  constructor(message = 'x-signature does not match') {
    super(message);
    this.name = 'SignatureMismatchError';
  }
}

/** The request came from a source address outside WEBHOOK_ALLOWED_SOURCE_IPS (HTTP 403). */
export class SourceNotAllowedError extends Error {
  constructor() {
    super('requests from this source address are not allowed');
    this.name = 'SourceNotAllowedError';
  }
}

/** The request body is larger than we accept (HTTP 413). */
export class PayloadTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
    this.name = 'PayloadTooLargeError';
    this.limit = limit;
  }
}

/** A setting is missing or malformed: a deployment mistake, reported at start-up. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** A secret could not be read or does not have the documented shape. Names the secret, never its content. */
export class SecretError extends Error {
  readonly secretId: string;
  constructor(secretId: string, message: string, options?: ErrorOptions) {
    super(`secret ${secretId}: ${message}`, options);
    this.name = 'SecretError';
    this.secretId = secretId;
  }
}

/** Secrets Manager did not answer in time, or kept failing: nothing is wrong with the secret itself (HTTP 503). */
export class SecretUnavailableError extends SecretError {
  constructor(secretId: string, message: string, options?: ErrorOptions) {
    super(secretId, message, options);
    this.name = 'SecretUnavailableError';
  }
}

/** The exchange answered with a non-zero retCode. */
export class BybitApiError extends Error {
  readonly endpoint: string;
  readonly retCode: number;
  readonly retMsg: string;
  readonly kind: RetCodeClass;
  constructor(endpoint: string, retCode: number, retMsg: string, kind: RetCodeClass) {
    super(`${endpoint} failed: retCode ${retCode} (${retMsg})`);
    this.name = 'BybitApiError';
    this.endpoint = endpoint;
    this.retCode = retCode;
    this.retMsg = retMsg;
    this.kind = kind;
  }
}

/** The order is not open (does not exist, already cancelled or filled): a cancel's goal is already met. */
export class OrderNotOpenError extends BybitApiError {
  constructor(endpoint: string, retCode: number, retMsg: string) {
    super(endpoint, retCode, retMsg, 'gone');
    this.name = 'OrderNotOpenError';
  }
}

/**
 * The exchange has no record of the order: its cancel said "not found" and reading the order back by id found
 * nothing (HTTP 404). Bybit keeps only the latest 500 closed orders per category, so an old order can end here.
 */
export class OrderNotFoundError extends Error {
  readonly retCode: number;
  readonly retMsg: string;
  readonly orderId?: string;
  readonly orderLinkId?: string;
  constructor(ref: { orderId?: string; orderLinkId?: string }, cause: OrderNotOpenError) {
    super(`order ${ref.orderId || ref.orderLinkId} not found: retCode ${cause.retCode} (${cause.retMsg})`, {
      cause,
    });
    this.name = 'OrderNotFoundError';
    this.retCode = cause.retCode;
    this.retMsg = cause.retMsg;
    this.orderId = ref.orderId;
    this.orderLinkId = ref.orderLinkId;
  }
}

/** The exchange could not be reached or kept failing (network errors, HTTP 5xx/429/403) after the retries. */
export class ExchangeUnavailableError extends Error {
  readonly endpoint: string;
  readonly attempts: number;
  readonly httpStatus?: number;
  constructor(
    endpoint: string,
    attempts: number,
    detail: string,
    options?: ErrorOptions & { httpStatus?: number },
  ) {
    super(`${endpoint} unavailable after ${attempts} attempt(s): ${detail}`, options);
    this.name = 'ExchangeUnavailableError';
    this.endpoint = endpoint;
    this.attempts = attempts;
    this.httpStatus = options?.httpStatus;
  }
}

/**
 * Bybit answered HTTP 403: the whole IP is refused, for every key. Final for the invocation, and for this
 * container until the ban has passed: nothing more is sent (lib/bybit/ip-budget.ts).
 */
export class IpRefusedError extends Error {
  /** The messages of every kind of refusal, so that a report can lead with the one that stopped it. */
  static readonly messages = new Set<string>();
  readonly httpStatus = 403;
  /** The request that got the 403 (not those failed after it). */
  readonly endpoint: string;
  constructor(endpoint: string, message: string) {
    super(message);
    this.name = 'IpRefusedError';
    this.endpoint = endpoint;
    IpRefusedError.messages.add(message);
  }
}

/** The IP limit (600 requests per 5 s per IP) was passed: Bybit bans the address for 10 minutes or more. */
export class IpRateLimitBanError extends IpRefusedError {
  constructor(endpoint: string) {
    super(endpoint, 'Bybit refused this IP (HTTP 403, rate limit); wait at least 10 minutes before retrying');
    this.name = 'IpRateLimitBanError';
  }
}

/** A 403 that names a blocked location (Bybit refuses US and mainland China addresses): waiting will not help. */
export class IpBlockedRegionError extends IpRefusedError {
  constructor(endpoint: string) {
    super(
      endpoint,
      'Bybit refused this IP (HTTP 403, blocked region): Bybit does not serve this address (US and mainland China are refused); send from an egress IP in another region',
    );
    this.name = 'IpBlockedRegionError';
  }
}

/**
 * A request that never left this machine (Node refused it before sending: a header no HTTP message can carry,
 * such as an API key with a newline). Final: another attempt would be refused the same way.
 */
export class RequestNotSentError extends Error {
  readonly endpoint: string;
  constructor(endpoint: string, detail: string, options?: ErrorOptions) {
    super(`${endpoint}: the request could not be sent (${detail})`, options);
    this.name = 'RequestNotSentError';
    this.endpoint = endpoint;
  }
}

/** An answer longer than any the exchange sends: read no further, and take it as malformed. */
export class AnswerTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`the answer is larger than ${limit} bytes`);
    this.name = 'AnswerTooLargeError';
    this.limit = limit;
  }
}

/** The caller's deadline arrived before the exchange gave a usable answer. */
export class DeadlineExceededError extends Error {
  readonly endpoint: string;
  constructor(endpoint: string, options?: ErrorOptions) {
    super(`${endpoint}: deadline reached before the exchange answered`, options);
    this.name = 'DeadlineExceededError';
    this.endpoint = endpoint;
  }
}

/** A cancel-all or kill switch finished with orders still open or scopes failed. Carries the full report. */
export class IncompleteCancelError extends Error {
  readonly report: { remaining: number; failedScopes?: string[] } & Record<string, unknown>;
  /** What failed, when it was not the cancels (every order gone, the halt incomplete). */
  readonly summary?: string;
  /**
   * `reasons` (why scopes failed, e.g. `ghost: *: no account "ghost" in the secret`) go into the message,
   * because an asynchronous invocation's failure shows only the error type and message. `summary` replaces
   * the opening "not everything was cancelled" when the orders are gone and something else failed.
   */
  constructor(report: IncompleteCancelError['report'], reasons: string[] = [], summary?: string) {
    const failed = report.failedScopes?.length ? `; failed: ${report.failedScopes.join(', ')}` : '';
    const why = reasons.length ? `; reasons: ${reasons.join('; ')}` : '';
    // A refused IP failed every scope at once: say so first, before the list of scopes cuts the message.
    const refusal = [...IpRefusedError.messages].find((m) => reasons.some((r) => r.includes(m)));
    const lead = refusal ? `${refusal}: ` : '';
    // Scopes that could not be listed add nothing to `remaining`: the count is a floor, the scopes are named.
    // "At least 0" would say nothing true: without a verified listing, say what is not known instead.
    const scopes = Array.isArray(report.scopes) ? (report.scopes as { verified?: unknown }[]) : [];
    const unlisted = scopes.filter((s) => s?.verified !== true).length;
    const open =
      unlisted > 0 && unlisted === scopes.length
        ? 'no scope could be verified by a listing, so how many orders are still open is unknown'
        : unlisted > 0 && report.remaining === 0
          ? `the scopes listed show no open order, but ${unlisted} scope(s) could not be verified by a listing`
          : `at least ${report.remaining} order(s) still open`;
    super(`${lead}${summary ?? `not everything was cancelled: ${open}`}${failed}${why}`.slice(0, 2000));
    this.name = 'IncompleteCancelError';
    this.report = report;
    if (summary !== undefined) this.summary = summary;
  }
}

/** EventBridge Scheduler could not create, move or delete the dead man's switch schedule. */
export class SchedulerError extends Error {
  readonly operation: string;
  constructor(operation: string, message: string, options?: ErrorOptions) {
    super(`${operation}: ${message}`, options);
    this.name = 'SchedulerError';
    this.operation = operation;
  }
}

/** The drill function could not be invoked (a webhook drill is handed over to it). */
export class DrillStartError extends Error {
  readonly functionName: string;
  constructor(functionName: string, reason: string, options?: ErrorOptions) {
    super(`the drill function ${functionName} could not be invoked (${reason})`, options);
    this.name = 'DrillStartError';
    this.functionName = functionName;
  }
}

/** EventBridge Scheduler did not answer in time, or kept throttling or failing: retry (HTTP 503). */
export class SchedulerUnavailableError extends SchedulerError {
  constructor(operation: string, message: string, options?: ErrorOptions) {
    super(operation, message, options);
    this.name = 'SchedulerUnavailableError';
  }
}

/**
 * The same signed request (the same `x-signature`) came before, within the skew window: it was not done again
 * (HTTP 409). `firstRequestId` is the request id of the first one, whose answer and logs have the outcome.
 */
export class DuplicateRequestError extends Error {
  readonly firstRequestId: string;
  constructor(firstRequestId: string) {
    super(
      `this signed request was already received (request id ${firstRequestId}) and was not done again; sign it anew (a new x-timestamp) to send it again`,
    );
    this.name = 'DuplicateRequestError';
    this.firstRequestId = firstRequestId;
  }
}

/**
 * A heartbeat or disarm made before the last one applied (by `x-timestamp`, or invocation time without one):
 * it changed nothing (HTTP 409).
 */
export class StaleHeartbeatError extends Error {
  /** When the heartbeat or disarm was made that was applied after this one (ISO). */
  readonly newerAt: string;
  constructor(newerAt: string) {
    super(
      `a heartbeat or disarm made at ${newerAt}, later than this one, was applied first: this one changed nothing`,
    );
    this.name = 'StaleHeartbeatError';
    this.newerAt = newerAt;
  }
}

/** Another heartbeat held the dead man's switch until this one's deadline (HTTP 503): retry. */
export class HeartbeatBusyError extends Error {
  constructor() {
    super("another heartbeat was moving the dead man's switch until the deadline; retry");
    this.name = 'HeartbeatBusyError';
  }
}

/** A kill-switch drill found a problem: some account's kill switch would fail now or soon. Carries the report. */
export class DrillFailedError extends Error {
  readonly report: Record<string, unknown>;
  /** `reasons` name each account and problem, because an asynchronous failure shows only the message. */
  constructor(report: Record<string, unknown>, reasons: string[]) {
    super(`kill-switch drill failed: ${reasons.join('; ')}`.slice(0, 2000));
    this.name = 'DrillFailedError';
    this.report = report;
  }
}

/** A halt reset could not restore every key the halt made read-only: those accounts stay halted. Carries the report. */
export class HaltResetError extends Error {
  readonly report: Record<string, unknown>;
  /** `reasons` name each account and key (masked), because an asynchronous failure shows only the message. */
  constructor(report: Record<string, unknown>, reasons: string[]) {
    super(`halt reset incomplete: ${reasons.join('; ')}`.slice(0, 2000));
    this.name = 'HaltResetError';
    this.report = report;
  }
}

/** A halt that stands on an account: when, by what, and why (lib/cancel/halt.ts). */
export interface StandingHalt {
  account: string;
  since: string;
  origin: string;
  reason?: string;
}

/**
 * Trading is halted on an account the request covers (HTTP 423): a heartbeat changes nothing until a person
 * resets the halt. Carries the halts, which hold no secret.
 */
export class HaltedError extends Error {
  readonly halts: StandingHalt[];
  constructor(halts: StandingHalt[]) {
    const accounts = halts.map((h) => h.account).join(', ');
    super(
      `trading is halted on ${accounts}: nothing was changed; a person must find out why and reset the halt`,
    );
    this.name = 'HaltedError';
    this.halts = halts;
  }
}

/** The state table could not be read or written. Names the operation and the table, never an item. */
export class StateError extends Error {
  readonly operation: string;
  readonly table: string;
  constructor(operation: string, table: string, message: string, options?: ErrorOptions) {
    super(`${operation} on ${table}: ${message}`, options);
    this.name = 'StateError';
    this.operation = operation;
    this.table = table;
  }
}

/**
 * A notification could not be sent. Names the channel and why, never the message, an address or a token (a
 * Telegram bot token is part of the API's URL: no URL is ever put in this error).
 */
export class NotifyError extends Error {
  readonly channel: string;
  constructor(channel: string, message: string) {
    super(`${channel}: ${message}`);
    this.name = 'NotifyError';
    this.channel = channel;
  }
}

/**
 * A Telegram Bot API call failed or got no answer. `why` says so in words that hold no URL: the bot token is
 * part of every URL of the API.
 */
export class TelegramApiError extends Error {
  readonly method: string;
  readonly why: string;
  constructor(method: string, why: string) {
    super(`Telegram ${method} failed: ${why}`);
    this.name = 'TelegramApiError';
    this.method = method;
    this.why = why;
  }
}

/** Another function (or this one, asynchronously) could not be invoked: Lambda refused or did not answer. */
export class FunctionInvokeError extends Error {
  readonly functionName: string;
  constructor(functionName: string, message: string, options?: ErrorOptions) {
    super(`invoking ${functionName}: ${message}`, options);
    this.name = 'FunctionInvokeError';
    this.functionName = functionName;
  }
}

/** EventBridge did not take the kill-switch event: nothing was fired. */
export class KillSwitchEventError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(`the kill-switch event was not put: ${message}`, options);
    this.name = 'KillSwitchEventError';
  }
}
