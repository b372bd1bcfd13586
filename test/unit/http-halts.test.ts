// The HTTP answers of the halt, the reset, the drill's start and the state table (lib/lambda/http.ts), and the
// reports scopeErrors reads; http.test.ts and http-answers.test.ts cover the others.

import { describe, expect, it } from 'vitest';
import {
  DrillStartError,
  HaltedError,
  HaltResetError,
  RequestNotSentError,
  StateError,
} from '../../lib/errors.ts';
import { errorResponse, scopeErrors } from '../../lib/lambda/http.ts';

const answer = (error: unknown, operation?: Parameters<typeof errorResponse>[2]) => {
  const response = errorResponse(error, 'req-1', operation);
  return { status: response.statusCode, headers: response.headers, body: JSON.parse(response.body) };
};

describe('errorResponse: halts', () => {
  it('answers 423 with the earliest standing halt first, every account and every halt, whatever the order', () => {
    const halts = [
      { account: 'grid', since: '2026-12-05T04:00:00.000Z', origin: 'cli', reason: 'manual' },
      { account: 'main', since: '2026-12-05T03:00:00.000Z', origin: 'deadMansSwitch' },
    ];
    const { status, headers, body } = answer(new HaltedError(halts), 'heartbeat');
    expect(status).toBe(423);
    expect(headers).toEqual({ 'content-type': 'application/json', 'cache-control': 'no-store' });
    expect(body).toEqual({
      halted: true,
      since: '2026-12-05T03:00:00.000Z',
      origin: 'deadMansSwitch',
      reason: null,
      accounts: ['grid', 'main'],
      halts,
      error: 'HaltedError',
      message:
        'trading is halted: stop trading and tell your operator; nothing was changed (the dead man’s switch stays as it was) until a person resets the halt',
      requestId: 'req-1',
    });
  });

  it('gives the earliest halt’s reason when it has one', () => {
    const halts = [
      { account: 'main', since: '2026-12-05T03:00:00.000Z', origin: 'telegram', reason: 'drawdown' },
      { account: 'grid', since: '2026-12-05T04:00:00.000Z', origin: 'cli' },
    ];
    expect(answer(new HaltedError(halts)).body).toMatchObject({
      since: '2026-12-05T03:00:00.000Z',
      origin: 'telegram',
      reason: 'drawdown',
    });
  });
});

describe('errorResponse: fixed messages for failures', () => {
  it('answers each with its status, a fixed message, the operation and the request id, never the error’s words', () => {
    const cases: [Error, number, string][] = [
      [
        new RequestNotSentError('/v5/order/cancel', 'header holds a newline: secret-ish detail'),
        502,
        'the request could not be sent: a header holds a character HTTP cannot carry',
      ],
      [
        new DrillStartError('bybit-cancel-prod-drill', 'AccessDenied secret-ish detail'),
        503,
        'the drill function could not be started; retry, or run npm run kill-switch -- --drill',
      ],
      [
        new StateError('PutItem', 'bybit-cancel-prod-state', 'access denied secret-ish detail'),
        503,
        'the state table could not be read or written; nothing was changed; retry',
      ],
    ];
    for (const [error, status, message] of cases) {
      expect(answer(error, 'drillStart')).toEqual({
        status,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
        body: { error: error.name, message, operation: 'drillStart', requestId: 'req-1' },
      });
    }
  });

  it('answers an incomplete reset 502 with its report, under the operation "unknown" when none is named', () => {
    const report = { operation: 'reset', ok: false, accounts: [{ account: 'main', cleared: false }] };
    expect(answer(new HaltResetError(report, ['main: key AbC***xyz restore failed']))).toEqual({
      status: 502,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: {
        error: 'HaltResetError',
        message: 'the reset is incomplete; the report names what is still halted',
        ...report,
        operation: 'unknown',
        requestId: 'req-1',
      },
    });
  });
});

describe('scopeErrors', () => {
  it('reads the scopes of a report or of an error carrying one, and nothing from anything else', () => {
    const scopes = [
      { account: 'main', scope: 'spot', error: { errorType: 'BybitApiError', retCode: 10001 } },
      { account: 'main', scope: 'option' },
      { account: 'grid', scope: '*', error: ['not', 'fields'] },
      { account: 'hedge', scope: 'linear', error: null },
    ];
    const expected = [{ account: 'main', scope: 'spot', errorType: 'BybitApiError', retCode: 10001 }];
    expect(scopeErrors({ scopes })).toEqual(expected);
    expect(scopeErrors({ report: { scopes } })).toEqual(expected);
    expect(scopeErrors(null)).toEqual([]);
    expect(scopeErrors(undefined)).toEqual([]);
    expect(scopeErrors({ report: null })).toEqual([]);
    expect(scopeErrors({ scopes: 'none' })).toEqual([]);
  });
});
