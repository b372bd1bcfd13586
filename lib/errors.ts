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
  /**
   * `reasons` (why scopes failed, e.g. `ghost: *: no account "ghost" in the secret`) go into the message,
   * because an asynchronous invocation's failure shows only the error type and message.
   */
  constructor(report: IncompleteCancelError['report'], reasons: string[] = []) {
    const failed = report.failedScopes?.length ? `; failed: ${report.failedScopes.join(', ')}` : '';
    const why = reasons.length ? `; reasons: ${reasons.join('; ')}` : '';
    // Scopes that could not be listed add nothing to `remaining`: the count is a floor, the scopes are named.
    super(
      `not everything was cancelled: at least ${report.remaining} order(s) still open${failed}${why}`.slice(
        0,
        2000,
      ),
    );
    this.name = 'IncompleteCancelError';
    this.report = report;
  }
}
