// HTTP answers (lib/lambda/http.ts): one status and one body per kind of error, the caller's mistakes as 4xx
// with what to fix, 5xx with only what a caller can act on; the body size limit; JSON always.

import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  BybitApiError,
  DeadlineExceededError,
  DrillFailedError,
  DuplicateRequestError,
  ExchangeUnavailableError,
  HeartbeatBusyError,
  IncompleteCancelError,
  IpBlockedRegionError,
  IpRateLimitBanError,
  OrderNotFoundError,
  OrderNotOpenError,
  PayloadTooLargeError,
  SchedulerError,
  SchedulerUnavailableError,
  SecretError,
  SecretUnavailableError,
  SignatureMismatchError,
  SourceNotAllowedError,
  StaleHeartbeatError,
  ValidationError,
} from '../../lib/errors.ts';
import { decodeBody, errorResponse, json, parseJsonBody, resultResponse } from '../../lib/lambda/http.ts';
import type { HttpTrigger } from '../../lib/lambda/triggers.ts';

const ID = 'req-1';
const answer = (error: unknown, operation?: Parameters<typeof errorResponse>[2]) => {
  const response = errorResponse(error, ID, operation);
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
};
const notOpen = new OrderNotOpenError('cancel', 110001, 'order not exists or too late to cancel');

describe('json', () => {
  it('answers JSON that no cache keeps', () => {
    expect(json(201, { a: 1 })).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"a":1}',
    });
  });
});

describe('resultResponse', () => {
  it('answers 202 only for a result that says it is not confirmed', () => {
    expect(resultResponse({ confirmed: false }).statusCode).toBe(202);
    expect(resultResponse({ confirmed: true }).statusCode).toBe(200);
    expect(resultResponse({ ok: true }).statusCode).toBe(200);
    expect(resultResponse({ confirmed: 'false' }).statusCode).toBe(200);
    expect(resultResponse(null).statusCode).toBe(200);
    expect(JSON.parse(resultResponse({ confirmed: false, orderId: 'o1' }).body)).toEqual({
      confirmed: false,
      orderId: 'o1',
    });
  });
});

describe('errorResponse: the caller’s mistakes', () => {
  it.each([
    [
      new SourceNotAllowedError(),
      403,
      { error: 'SourceNotAllowedError', message: 'requests from this source address are not allowed' },
    ],
    [
      new ValidationError('symbol', 'symbol must be uppercase'),
      400,
      { error: 'ValidationError', field: 'symbol', message: 'symbol must be uppercase' },
    ],
    [
      new AuthenticationError('x-timestamp and x-signature headers are required'),
      401,
      { error: 'AuthenticationError', message: 'x-timestamp and x-signature headers are required' },
    ],
    [
      new SignatureMismatchError(),
      401,
      { error: 'SignatureMismatchError', message: 'x-signature does not match' },
    ],
    [
      new PayloadTooLargeError(16_384),
      413,
      { error: 'PayloadTooLargeError', message: 'request body exceeds 16384 bytes' },
    ],
    [
      new OrderNotFoundError({ orderId: 'o1' }, notOpen),
      404,
      {
        error: 'OrderNotFoundError',
        message: 'the exchange has no record of the order',
        retCode: 110001,
        retMsg: 'order not exists or too late to cancel',
      },
    ],
    [
      notOpen,
      404,
      {
        error: 'OrderNotOpenError',
        message: 'the order does not exist or is no longer open',
        retCode: 110001,
        retMsg: 'order not exists or too late to cancel',
      },
    ],
  ])('answers %s with %i and what to fix, naming the operation asked for', (error, status, body) => {
    expect(answer(error, 'cancel')).toEqual({
      status,
      body: { ...body, operation: 'cancel', requestId: ID },
    });
    // Refused before the operation was known (a body that is not JSON): no operation is named.
    expect(answer(error, 'unknown')).toEqual({ status, body: { ...body, requestId: ID } });
  });

  it.each([
    [new DuplicateRequestError('first-1'), { error: 'DuplicateRequestError', firstRequestId: 'first-1' }],
    [
      new StaleHeartbeatError('2026-12-05T12:00:00.000Z'),
      { error: 'StaleHeartbeatError', newerAt: '2026-12-05T12:00:00.000Z' },
    ],
  ])('answers %s with 409: nothing was done, and sending it again would not help', (error, fields) => {
    expect(answer(error, 'heartbeat')).toEqual({
      status: 409,
      body: { ...fields, message: error.message, operation: 'heartbeat', requestId: ID },
    });
  });
});

describe('errorResponse: failures a caller can only wait out or report', () => {
  it('answers an incomplete cancel 502 with its report, leading with a refused IP when that stopped it', () => {
    const report = { remaining: 2, failedScopes: ['main: spot'] };
    expect(answer(new IncompleteCancelError(report), 'killSwitch')).toEqual({
      status: 502,
      body: {
        error: 'IncompleteCancelError',
        message: 'not everything was cancelled; the report names what is left',
        remaining: 2,
        failedScopes: ['main: spot'],
        operation: 'killSwitch',
        requestId: ID,
      },
    });
    const ban = new IpRateLimitBanError('cancel-all');
    const banned = new IncompleteCancelError(report, [
      `main: spot: ${ban.message}`,
      'hedge: option: timeout',
    ]);
    expect(answer(banned).body.message).toBe(
      `${ban.message}: not everything was cancelled; the report names what is left`,
    );
  });

  it('answers a failed drill 502 with its report', () => {
    const error = new DrillFailedError({ ok: false, accounts: [] }, ['hedge: the key is read-only']);
    expect(answer(error, 'drill')).toEqual({
      status: 502,
      body: {
        error: 'DrillFailedError',
        message: 'the drill found a problem; the report names each account and why',
        ok: false,
        accounts: [],
        operation: 'drill',
        requestId: ID,
      },
    });
  });

  it('answers a refusal by the exchange 502, and a retryable code that outlasted the retries 503', () => {
    const refused = new BybitApiError('cancel', 10003, 'API key is invalid.', 'credentials');
    expect(answer(refused, 'cancel')).toEqual({
      status: 502,
      body: {
        error: 'BybitApiError',
        message: 'the exchange refused the request',
        retCode: 10003,
        retMsg: 'API key is invalid.',
        operation: 'cancel',
        requestId: ID,
      },
    });
    const busy = new BybitApiError('cancel', 10016, 'Internal error', 'retryable');
    expect(answer(busy).status).toBe(503);
  });

  it.each([
    [
      new IpRateLimitBanError('cancel-all'),
      503,
      'IpRateLimitBanError',
      'Bybit refused this IP (HTTP 403, rate limit); wait at least 10 minutes before retrying',
    ],
    [
      new IpBlockedRegionError('cancel-all'),
      503,
      'IpBlockedRegionError',
      new IpBlockedRegionError('x').message,
    ],
    [
      new ExchangeUnavailableError('cancel', 5, 'HTTP 502'),
      503,
      'ExchangeUnavailableError',
      'the exchange could not be reached; retry or use the kill-switch event',
    ],
    [
      new SecretUnavailableError('prod/bybit', 'throttled'),
      503,
      'SecretUnavailableError',
      'Secrets Manager did not answer in time; retry',
    ],
    [
      new DeadlineExceededError('cancel'),
      504,
      'DeadlineExceededError',
      'the deadline passed before the exchange answered',
    ],
    [
      new SchedulerUnavailableError(
        'UpdateSchedule',
        'bybit-cancel-prod-dead-mans-switch: no answer within 7000 ms',
      ),
      503,
      'SchedulerUnavailableError',
      'EventBridge Scheduler did not answer in time; retry',
    ],
    [
      new HeartbeatBusyError(),
      503,
      'HeartbeatBusyError',
      "another heartbeat was moving the dead man's switch until the deadline; retry",
    ],
  ])('answers %s with %i and a fixed message', (error, status, name, message) => {
    expect(answer(error, 'sweep')).toEqual({
      status,
      body: { error: name, message, operation: 'sweep', requestId: ID },
    });
  });

  it('answers anything else 500 without a word of its message, under the operation "unknown" by default', () => {
    for (const error of [
      new SecretError('prod/bybit-secret-name', 'access denied'),
      // A Scheduler that refused (its role): nothing a caller can retry into success.
      new SchedulerError(
        'UpdateSchedule',
        'bybit-cancel-prod-dead-mans-switch failed (AccessDeniedException)',
      ),
      new TypeError('x is undefined'),
      'a string',
    ]) {
      expect(answer(error)).toEqual({
        status: 500,
        body: {
          error: 'InternalError',
          message: 'the request failed inside the function; see its logs',
          operation: 'unknown',
          requestId: ID,
        },
      });
    }
  });
});

describe('decodeBody', () => {
  const trigger = (rawBody: string, isBase64Encoded = false): HttpTrigger => ({
    type: 'http',
    headers: {},
    rawBody,
    isBase64Encoded,
    route: 'POST /cancel',
  });

  it('returns the bytes that were signed, from text or base64', () => {
    expect(decodeBody(trigger('{"a":"é"}'), 256).toString('utf8')).toBe('{"a":"é"}');
    expect(decodeBody(trigger(Buffer.from('{"a":"é"}').toString('base64'), true), 256).toString('utf8')).toBe(
      '{"a":"é"}',
    );
  });

  it('takes a body of exactly the limit, and refuses one byte more, counted in bytes', () => {
    expect(decodeBody(trigger('x'.repeat(256)), 256)).toHaveLength(256);
    expect(() => decodeBody(trigger('x'.repeat(257)), 256)).toThrow(new PayloadTooLargeError(256));
    // 128 two-byte characters: 256 bytes; one more is over.
    expect(decodeBody(trigger('é'.repeat(128)), 256)).toHaveLength(256);
    expect(() => decodeBody(trigger('é'.repeat(129)), 256)).toThrow(PayloadTooLargeError);
  });

  it('refuses a base64 body whose bytes are over the limit, and one too long to decode at all', () => {
    const over = Buffer.alloc(257, 1).toString('base64');
    expect(() => decodeBody(trigger(over, true), 256)).toThrow(PayloadTooLargeError);
    const exact = Buffer.alloc(256, 1).toString('base64');
    expect(decodeBody(trigger(exact, true), 256)).toHaveLength(256);
    // Past 4/3 of the limit and a little padding (346 characters here), refused before decoding anything.
    expect(() => decodeBody(trigger('='.repeat(347), true), 256)).toThrow(PayloadTooLargeError);
    expect(decodeBody(trigger('='.repeat(346), true), 256)).toHaveLength(0);
  });
});

describe('parseJsonBody', () => {
  it('parses JSON, and names the body when it is not JSON', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1]}'))).toEqual({ a: [1] });
    expect(() => parseJsonBody(Buffer.from('{"a":'))).toThrow(
      new ValidationError('body', 'the body is not valid JSON'),
    );
    const error = (() => {
      try {
        parseJsonBody(Buffer.from('nope'));
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(error?.field).toBe('body');
  });
});
