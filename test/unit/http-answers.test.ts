// What HTTP answers show: per-scope errors reduced to a type, a fixed text and the exchange's own codes (the
// rest is for the log), a drill handed to the drill function as 202, and failure messages that never claim a
// count no listing verified.

import { describe, expect, it } from 'vitest';
import { IncompleteCancelError, IpRateLimitBanError } from '../../lib/errors.ts';
import { errorResponse, publicError, resultResponse, scopeErrors } from '../../lib/lambda/http.ts';

const secretFailure = {
  errorType: 'SecretError',
  errorMessage: 'secret bybit-cancel/prod/exchange-keys: the key of account "rsa" cannot be parsed',
  secretId: 'bybit-cancel/prod/exchange-keys',
  cause: 'Error: error:1E08010C:DECODER routines::unsupported',
};

describe('publicError', () => {
  it('keeps the type and gives a fixed text, never the secret id or a cause', () => {
    expect(publicError(secretFailure)).toEqual({
      errorType: 'SecretError',
      errorMessage: "the account's entry in the exchange secret is unusable",
    });
  });

  it("keeps the exchange's retCode and retMsg", () => {
    expect(
      publicError({
        errorType: 'BybitApiError',
        errorMessage: 'cancel-all failed: …',
        endpoint: 'cancel-all',
        retCode: 10005,
        retMsg: 'Permission denied',
      }),
    ).toEqual({
      errorType: 'BybitApiError',
      errorMessage: 'the exchange refused the request',
      retCode: 10005,
      retMsg: 'Permission denied',
    });
  });

  it('calls anything it does not know an internal error', () => {
    expect(
      publicError({
        errorType: 'TypeError',
        errorMessage: "Cannot read properties of null (reading 'orderId')",
      }),
    ).toEqual({
      errorType: 'InternalError',
      errorMessage: 'the work failed inside the function; see its logs',
    });
  });

  it("passes on a refused IP's fixed text, which says what to do", () => {
    const ban = new IpRateLimitBanError('cancel-all');
    expect(publicError({ errorType: ban.name, errorMessage: ban.message })).toEqual({
      errorType: 'IpRateLimitBanError',
      errorMessage: 'Bybit refused this IP (HTTP 403, rate limit); wait at least 10 minutes before retrying',
    });
  });
});

describe('publicError, a refused IP', () => {
  it("never passes on a refusal's message that is not one of the fixed texts, nor a fixed text under another type", () => {
    const ban = new IpRateLimitBanError('cancel-all');
    const internal = {
      errorType: 'InternalError',
      errorMessage: 'the work failed inside the function; see its logs',
    };
    expect(
      publicError({ errorType: 'IpRefusedError', errorMessage: 'HTTP 403 from 10.0.0.7: <html>…' }),
    ).toEqual(internal);
    expect(publicError({ errorType: 'TypeError', errorMessage: ban.message })).toEqual(internal);
  });
});

describe('a 502 for a kill switch that did not clear', () => {
  const report = {
    operation: 'killSwitch',
    ok: false,
    remaining: 0,
    failedScopes: ['rsa: *'],
    scopes: [
      { account: 'main', scope: 'spot', cancelled: 3, remaining: 0, verified: true },
      { account: 'rsa', scope: '*', cancelled: 0, remaining: 0, verified: false, error: secretFailure },
    ],
    coverage: { confirmed: false, error: { errorType: 'TypeError', errorMessage: 'x is not a function' } },
  };

  it('shows each scope with the reduced error, and the log line gets the whole of it', () => {
    const error = new IncompleteCancelError(report, ['rsa: *: …']);
    const body = JSON.parse(errorResponse(error, 'req-1', 'killSwitch').body);
    expect(body.scopes[0]).toEqual(report.scopes[0]);
    expect(body.scopes[1].error).toEqual(publicError(secretFailure));
    expect(body.coverage.error).toEqual({
      errorType: 'InternalError',
      errorMessage: 'the work failed inside the function; see its logs',
    });
    expect(JSON.stringify(body)).not.toMatch(/bybit-cancel\/prod|DECODER|not a function/);
    expect(scopeErrors(error)).toEqual([{ account: 'rsa', scope: '*', ...secretFailure }]);
  });
});

describe('the failure message of an incomplete cancel', () => {
  const scope = (verified: boolean, remaining = 0) => ({
    account: 'main',
    scope: 'spot',
    cancelled: 0,
    remaining,
    verified,
  });

  it('gives a floor when a listing verified it', () => {
    const error = new IncompleteCancelError({
      remaining: 4,
      scopes: [scope(true, 4)],
      failedScopes: ['main: spot'],
    });
    expect(error.message).toBe(
      'not everything was cancelled: at least 4 order(s) still open; failed: main: spot',
    );
  });

  it('never says "at least 0": with no verified listing it says the count is unknown', () => {
    const error = new IncompleteCancelError({
      remaining: 0,
      scopes: [scope(false), scope(false)],
      failedScopes: [],
    });
    expect(error.message).toBe(
      'not everything was cancelled: no scope could be verified by a listing, so how many orders are still open is unknown',
    );
  });

  it('says which scopes could not be verified when those listed show nothing open', () => {
    const error = new IncompleteCancelError({ remaining: 0, scopes: [scope(true), scope(false)] });
    expect(error.message).toBe(
      'not everything was cancelled: the scopes listed show no open order, but 1 scope(s) could not be verified by a listing',
    );
  });
});

describe('resultResponse', () => {
  it('answers a drill handed to the drill function with 202 Accepted', () => {
    const started = { operation: 'drillStart', started: true, function: 'bybit-cancel-prod-drill' };
    expect(resultResponse(started)).toMatchObject({ statusCode: 202, body: JSON.stringify(started) });
  });

  it('answers a result that is not an object as the JSON of that value', () => {
    expect(resultResponse('done')).toMatchObject({ statusCode: 200, body: '"done"' });
    expect(resultResponse(3)).toMatchObject({ statusCode: 200, body: '3' });
  });
});
