// The judge of the fault campaign (truth.ts) must itself be able to say "untruthful".

import { describe, expect, it } from 'vitest';
import { IncompleteCancelError } from '../../lib/errors.ts';
import type { EmulatedOrder } from '../emulator/index.ts';
import { judge, reasonsOf } from './truth.ts';

const order = (account: string, scope: string) =>
  ({ orderId: `${account}-${scope}`, uid: account, category: 'linear' }) as unknown as EmulatedOrder;
const scopeOf = (o: EmulatedOrder) => (o.orderId.split('-') as [string, string]).join(': ');
const failure = (failedScopes: string[], scopes: unknown[] = []) =>
  ({ ok: false, error: new IncompleteCancelError({ remaining: 1, failedScopes, scopes }) }) as const;

describe('judging a run against the order book', () => {
  it('calls a success with nothing left truthful and cleared', () => {
    expect(judge({ ok: true, result: {} }, [], scopeOf)).toEqual({
      truthful: true,
      cleared: true,
      falseAlarm: false,
    });
  });

  it('calls a success with an order left untruthful, naming where it is', () => {
    const verdict = judge({ ok: true, result: {} }, [order('main', 'option')], scopeOf);
    expect(verdict.truthful).toBe(false);
    expect(verdict.problem).toContain('main: option');
  });

  it('calls a failure truthful when it names every scope still holding an order', () => {
    const left = [order('main', 'option'), order('hedge', 'spot')];
    expect(judge(failure(['main: option', 'hedge: spot', 'bot: linear']), left, scopeOf).truthful).toBe(true);
  });

  it('accepts a whole account named as "<account>: *"', () => {
    expect(judge(failure(['main: *']), [order('main', 'option')], scopeOf).truthful).toBe(true);
  });

  it('calls a failure untruthful when a scope holding an order goes unnamed', () => {
    const verdict = judge(
      failure(['main: option']),
      [order('main', 'option'), order('hedge', 'spot')],
      scopeOf,
    );
    expect(verdict.truthful).toBe(false);
    expect(verdict.problem).toContain('hedge: spot');
  });

  it('calls any other error untruthful: it does not say what remains', () => {
    const verdict = judge({ ok: false, error: new Error('boom') }, [], scopeOf);
    expect(verdict.truthful).toBe(false);
  });

  it('counts a failure with nothing left as a false alarm, and truthful', () => {
    expect(judge(failure(['main: option']), [], scopeOf)).toEqual({
      truthful: true,
      cleared: true,
      falseAlarm: true,
    });
  });

  it('sums up why a failed run failed, once per kind', () => {
    const scopes = [
      { remaining: 1, error: { errorType: 'BybitApiError', retCode: 10002 } },
      { remaining: 0, error: { errorType: 'BybitApiError', retCode: 10002 } },
      { remaining: 2 },
      { remaining: 0, failed: [{ code: 170145 }] },
    ];
    expect(reasonsOf(failure(['x: y'], scopes))).toEqual([
      'BybitApiError 10002',
      'still listed after an acknowledged cancel',
      'cancel refused (170145)',
    ]);
  });
});
