// How a Bybit retCode changes what the client does: done, already gone, retry, clock, the key, or a rejection.

import { describe, expect, it } from 'vitest';
import { classifyRetCode, RetCode } from '../../lib/bybit/codes.ts';

describe('classifyRetCode', () => {
  it.each([
    RetCode.invalidKey,
    RetCode.badSignature,
    RetCode.permissionDenied,
    RetCode.authFailed,
    RetCode.ipNotAllowed,
    RetCode.keyExpired,
  ])('takes %i for a refused key (re-reading a rotated key might help, a plain retry cannot)', (code) => {
    expect(classifyRetCode(code)).toBe('credentials');
  });

  it('takes an unlisted code for a rejection, not for the key', () => {
    expect(classifyRetCode(RetCode.paramsError)).toBe('rejected');
    expect(classifyRetCode(110017)).toBe('rejected');
  });

  it('keeps the other classes apart from the key', () => {
    expect(classifyRetCode(RetCode.ok)).toBe('ok');
    expect(classifyRetCode(RetCode.orderNotExists)).toBe('gone');
    expect(classifyRetCode(RetCode.clockSkew)).toBe('clock');
    expect(classifyRetCode(RetCode.rateLimited)).toBe('retryable');
  });
});
