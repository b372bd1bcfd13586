// BybitClient.apiKeyInfo on the fields the enforced halt reads of a master key (isMaster, parentUid, userID,
// docs/v5/user/apikey-info.mdx) and deadlineDay: read when present and well-formed, an error when malformed.

import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import type { BybitApiError } from '../../lib/errors.ts';

const BASE = {
  readOnly: 0,
  uta: 1,
  ips: ['203.0.113.7'],
  permissions: { Wallet: ['AccountTransfer'] },
};

const clientAnswering = (result: unknown) =>
  new BybitClient({
    credentials: { apiKey: 'KEY', apiSecret: 'secret' },
    baseUrl: 'http://exchange.test',
    transport: (async () =>
      new Response(JSON.stringify({ retCode: 0, retMsg: 'OK', result, time: 1 }))) as typeof fetch,
  });

describe('BybitClient.apiKeyInfo: the master key’s fields', () => {
  it('reads isMaster, parentUid, deadlineDay, and userID as a string whether sent as a number or a string', async () => {
    expect(
      await clientAnswering({
        ...BASE,
        isMaster: true,
        parentUid: '0',
        userID: 24617703,
        deadlineDay: 30,
      }).apiKeyInfo(),
    ).toEqual({ ...BASE, isMaster: true, parentUid: '0', userId: '24617703', deadlineDay: 30 });
    expect(
      await clientAnswering({ ...BASE, isMaster: false, parentUid: '24617703', userID: '5501' }).apiKeyInfo(),
    ).toEqual({
      ...BASE,
      isMaster: false,
      parentUid: '24617703',
      userId: '5501',
    });
  });

  it('leaves out what the answer does not state', async () => {
    const info = await clientAnswering(BASE).apiKeyInfo();
    expect(info).toEqual(BASE);
    expect(Object.keys(info).sort()).toEqual(['ips', 'permissions', 'readOnly', 'uta']);
  });

  it.each([
    ['isMaster', { isMaster: 'true' }],
    ['isMaster', { isMaster: 1 }],
    ['parentUid', { parentUid: 0 }],
    ['parentUid', { parentUid: null }],
    ['userID', { userID: true }],
    ['userID', { userID: null }],
    ['deadlineDay', { deadlineDay: 'soon' }],
  ])('fails closed on a malformed %s (%o)', async (field, fields) => {
    const error = (await clientAnswering({ ...BASE, ...fields })
      .apiKeyInfo()
      .catch((e: unknown) => e)) as BybitApiError;
    expect(error.name).toBe('BybitApiError');
    expect(error.message).toBe(`query-api failed: retCode -1 (answer lacks a valid ${field})`);
    expect(error.kind).toBe('rejected');
  });
});
