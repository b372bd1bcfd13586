// The validation of a halt reset, the drill's master-key check and a status request (lib/lambda/requests.ts):
// what each accepts, exactly, and the field and message of each refusal. requests.test.ts covers the others.

import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.ts';
import { parseMasterCheckRequest, parseResetRequest, parseStatusRequest } from '../../lib/lambda/requests.ts';

/** The ValidationError `parse` throws, as its field and message. */
function refusal(parse: () => unknown): { field: string; message: string } {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return { field: (error as ValidationError).field, message: (error as ValidationError).message };
  }
  throw new Error('expected a ValidationError');
}

const FP = 'a'.repeat(64);
const FP2 = `${'0123456789abcdef'.repeat(4)}`;

describe('parseResetRequest', () => {
  it('takes every halted account when it names none, or the accounts it names once each, and who asks', () => {
    expect(parseResetRequest({})).toEqual({});
    expect(parseResetRequest({ accounts: ['main', 'grid', 'main'], by: 'ana@desk-3' })).toEqual({
      accounts: ['main', 'grid'],
      by: 'ana@desk-3',
    });
    expect(parseResetRequest({ by: 'x'.repeat(200) })).toEqual({ by: 'x'.repeat(200) });
  });

  it('refuses a "by" that is not a non-empty string of at most 200 characters', () => {
    for (const by of ['', '   ', 'x'.repeat(201), 7, null]) {
      expect(refusal(() => parseResetRequest({ by }))).toEqual({
        field: 'by',
        message: 'by must be a non-empty string of at most 200 characters',
      });
    }
  });

  it('refuses bad accounts, an unknown field and a body that is not an object', () => {
    expect(refusal(() => parseResetRequest({ accounts: [] }))).toEqual({
      field: 'accounts',
      message: 'accounts must be a non-empty array',
    });
    expect(refusal(() => parseResetRequest({ accounts: ['has space'] }))).toEqual({
      field: 'account',
      message: 'account must be an account name',
    });
    expect(refusal(() => parseResetRequest({ force: true }))).toEqual({
      field: 'force',
      message: 'unknown field "force"',
    });
    expect(refusal(() => parseResetRequest([]))).toEqual({
      field: 'body',
      message: 'the body must be a JSON object',
    });
  });
});

describe('parseMasterCheckRequest', () => {
  const valid = () => ({
    check: 'master',
    subAccounts: [{ account: 'grid', subUid: '12345678901234567890', key: FP }],
    ownKeys: [FP2],
  });

  it('takes the sub-accounts and own keys as fingerprints', () => {
    expect(parseMasterCheckRequest(valid())).toEqual({
      subAccounts: [{ account: 'grid', subUid: '12345678901234567890', key: FP }],
      ownKeys: [FP2],
    });
    expect(parseMasterCheckRequest({ check: 'master', subAccounts: [], ownKeys: [] })).toEqual({
      subAccounts: [],
      ownKeys: [],
    });
  });

  it('takes 500 sub-accounts and 1000 own keys, and refuses one more of either', () => {
    const sub = { account: 'a', subUid: '1', key: FP };
    const many = parseMasterCheckRequest({
      check: 'master',
      subAccounts: Array(500).fill(sub),
      ownKeys: Array(1000).fill(FP),
    });
    expect([many.subAccounts.length, many.ownKeys.length]).toEqual([500, 1000]);
    expect(
      refusal(() =>
        parseMasterCheckRequest({ check: 'master', subAccounts: Array(501).fill(sub), ownKeys: [] }),
      ),
    ).toEqual({ field: 'subAccounts', message: 'subAccounts must be an array of at most 500 sub-accounts' });
    expect(
      refusal(() =>
        parseMasterCheckRequest({ check: 'master', subAccounts: [], ownKeys: Array(1001).fill(FP) }),
      ),
    ).toEqual({ field: 'ownKeys', message: 'ownKeys must be an array of at most 1000 fingerprints' });
  });

  it('refuses anything but check "master", and arrays that are not arrays', () => {
    expect(refusal(() => parseMasterCheckRequest({ ...valid(), check: 'drill' }))).toEqual({
      field: 'check',
      message: 'check must be "master"',
    });
    expect(refusal(() => parseMasterCheckRequest({ ...valid(), subAccounts: {} }))).toEqual({
      field: 'subAccounts',
      message: 'subAccounts must be an array of at most 500 sub-accounts',
    });
    expect(refusal(() => parseMasterCheckRequest({ ...valid(), ownKeys: FP }))).toEqual({
      field: 'ownKeys',
      message: 'ownKeys must be an array of at most 1000 fingerprints',
    });
    expect(refusal(() => parseMasterCheckRequest({ ...valid(), extra: 1 }))).toEqual({
      field: 'extra',
      message: 'unknown field "extra"',
    });
  });

  it('refuses a sub UID that is not digits without a leading zero (at most 20), an account that is no name, and a key that is no fingerprint', () => {
    const withSub = (sub: Record<string, unknown>) => () =>
      parseMasterCheckRequest({
        ...valid(),
        subAccounts: [{ account: 'grid', subUid: '42', key: FP, ...sub }],
      });
    const subUid = { field: 'subUid', message: 'subUid must be a sub-account UID (digits)' };
    for (const bad of ['0', '012', '1'.repeat(21), 'u42', '', 42]) {
      expect(refusal(withSub({ subUid: bad }))).toEqual(subUid);
    }
    const accountName = { field: 'account', message: 'account must be an account name' };
    for (const bad of ['', 'x'.repeat(201), 7]) {
      expect(refusal(withSub({ account: bad }))).toEqual(accountName);
    }
    expect(
      parseMasterCheckRequest({
        ...valid(),
        subAccounts: [{ account: 'x'.repeat(200), subUid: '9', key: FP }],
      }).subAccounts[0]?.account,
    ).toHaveLength(200);
    const key = { field: 'key', message: "key must be a key's SHA-256 fingerprint (64 hex digits)" };
    for (const bad of ['A'.repeat(64), 'a'.repeat(63), `${'a'.repeat(64)}0`, `x${'a'.repeat(64)}`, 1]) {
      expect(refusal(withSub({ key: bad }))).toEqual(key);
    }
    expect(refusal(withSub({ note: 'x' }))).toEqual({ field: 'note', message: 'unknown field "note"' });
    expect(refusal(() => parseMasterCheckRequest({ ...valid(), ownKeys: ['nope'] }))).toEqual({
      field: 'ownKeys',
      message: "ownKeys must be a key's SHA-256 fingerprint (64 hex digits)",
    });
  });
});

describe('parseStatusRequest', () => {
  it('takes an empty object only', () => {
    expect(parseStatusRequest({})).toEqual({});
    expect(refusal(() => parseStatusRequest({ account: 'main' }))).toEqual({
      field: 'account',
      message: 'unknown field "account"',
    });
    expect(refusal(() => parseStatusRequest(null))).toEqual({
      field: 'body',
      message: 'the body must be a JSON object',
    });
  });
});
