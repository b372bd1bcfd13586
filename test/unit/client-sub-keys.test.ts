// The sub-account key endpoints and order creation on a scripted transport: every answer variant the docs
// admit is read, and an answer lacking a documented field is an error, never an empty listing.

import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { ExchangeUnavailableError } from '../../lib/errors.ts';

interface Sent {
  url: string;
  method: string;
  body?: string;
}

function scripted(results: unknown[]) {
  const sent: Sent[] = [];
  const fetch = async (url: string, init: { method: string; body?: string }) => {
    sent.push({ url, method: init.method, ...(init.body ? { body: init.body } : {}) });
    const result = results.shift();
    if (result === undefined) throw new Error('no more scripted answers');
    return new Response(JSON.stringify({ retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: 1 }));
  };
  const client = new BybitClient({
    credentials: { apiKey: 'MASTERKEY', apiSecret: 'secret' },
    baseUrl: 'http://exchange.test',
    transport: fetch as unknown as typeof globalThis.fetch,
    maxAttempts: 1,
  });
  return { client, sent };
}

/** A key as docs/v5/user/list-sub-apikeys.mdx's example lists it. */
const listedKey = (over: Record<string, unknown> = {}) => ({
  id: '24828209',
  ips: ['*'],
  apiKey: 'SUBKEY0123456789AB',
  note: 'UTA',
  status: 3,
  expiredAt: '2023-12-01T02:36:06Z',
  createdAt: '2023-08-25T06:42:39Z',
  type: 1,
  permissions: { ContractTrade: ['Order', 'Position'], Spot: ['SpotTrade'], Wallet: [], NFT: [] },
  secret: '******',
  readOnly: false,
  deadlineDay: 21,
  flag: 'hmac',
  ...over,
});

describe('subApiKeys', () => {
  it('reads the doc’s nested result.result, readOnly as a boolean or 0/1, and the cursor', async () => {
    const { client, sent } = scripted([
      {
        result: [listedKey(), listedKey({ apiKey: 'OTHERKEY0123456789', readOnly: 1, ips: ['10.0.0.1'] })],
        nextPageCursor: 'next',
      },
    ]);
    const page = await client.subApiKeys({ subMemberId: '100400345', limit: 20 });
    expect(page).toEqual({
      list: [
        {
          apiKey: 'SUBKEY0123456789AB',
          readOnly: false,
          createdAt: Date.parse('2023-08-25T06:42:39Z'),
          ips: ['*'],
          permissions: { ContractTrade: ['Order', 'Position'], Spot: ['SpotTrade'], Wallet: [], NFT: [] },
        },
        {
          apiKey: 'OTHERKEY0123456789',
          readOnly: true,
          createdAt: Date.parse('2023-08-25T06:42:39Z'),
          ips: ['10.0.0.1'],
          permissions: { ContractTrade: ['Order', 'Position'], Spot: ['SpotTrade'], Wallet: [], NFT: [] },
        },
      ],
      nextPageCursor: 'next',
    });
    expect(sent[0]).toMatchObject({ method: 'GET' });
    expect(sent[0]?.url).toBe('http://exchange.test/v5/user/sub-apikeys?subMemberId=100400345&limit=20');
  });

  it('reads createdAt as a date, and leaves it out when it is not one', async () => {
    const { client } = scripted([{ result: [listedKey({ createdAt: 'yesterday' })], nextPageCursor: '' }]);
    const { list } = await client.subApiKeys({ subMemberId: '1' });
    expect(list[0]).not.toHaveProperty('createdAt');
  });

  it('marks a key whose ips are absent or empty, or whose permissions are malformed, as unreadable', async () => {
    const { ips: _, ...noIps } = listedKey({ apiKey: 'NOIPS0123456789ABC' });
    const { client } = scripted([
      {
        result: [
          noIps,
          listedKey({ apiKey: 'EMPTYIPS0123456789', ips: [] }),
          listedKey({ apiKey: 'BADPERMS0123456789', permissions: { Spot: 'SpotTrade' } }),
        ],
        nextPageCursor: '',
      },
    ]);
    const { list } = await client.subApiKeys({ subMemberId: '1' });
    expect(list.map((k) => [k.apiKey, k.unreadable])).toEqual([
      ['NOIPS0123456789ABC', 'ips'],
      ['EMPTYIPS0123456789', 'ips'],
      ['BADPERMS0123456789', 'permissions'],
    ]);
  });

  it.each([
    ['a list under result.list instead of result.result', { list: [listedKey()], nextPageCursor: '' }],
    ['no cursor', { result: [listedKey()] }],
    ['a key without its apiKey', { result: [listedKey({ apiKey: '' })], nextPageCursor: '' }],
    ['a key without readOnly', { result: [listedKey({ readOnly: 'no' })], nextPageCursor: '' }],
  ])('refuses an answer with %s', async (_, result) => {
    const { client } = scripted([result]);
    const error = await client.subApiKeys({ subMemberId: '1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect((error as Error).message).toContain('malformed answer');
  });
});

describe('updateSubApiKey', () => {
  /** docs/v5/user/modify-sub-apikey.mdx's answer. */
  const answer = (over: Record<string, unknown> = {}) => ({
    id: '16651472',
    note: 'testxxx',
    apiKey: 'SUBKEY0123456789AB',
    readOnly: 1,
    secret: '',
    permissions: { ContractTrade: [], Spot: ['SpotTrade'], Wallet: ['AccountTransfer'] },
    ips: ['10.0.0.1', '10.0.0.2'],
    ...over,
  });

  it('sends apikey, readOnly and the ips string, never permissions, and reads the settings back', async () => {
    const { client, sent } = scripted([answer()]);
    const after = await client.updateSubApiKey({
      apikey: 'SUBKEY0123456789AB',
      readOnly: 1,
      ips: '10.0.0.1,10.0.0.2',
    });
    expect(JSON.parse(sent[0]?.body as string)).toEqual({
      apikey: 'SUBKEY0123456789AB',
      readOnly: 1,
      ips: '10.0.0.1,10.0.0.2',
    });
    expect(sent[0]).toMatchObject({ method: 'POST', url: 'http://exchange.test/v5/user/update-sub-api' });
    expect(after).toEqual({
      apiKey: 'SUBKEY0123456789AB',
      readOnly: true,
      ips: ['10.0.0.1', '10.0.0.2'],
      permissions: { ContractTrade: [], Spot: ['SpotTrade'], Wallet: ['AccountTransfer'] },
    });
  });

  it.each([
    ['another key', { apiKey: 'SOMEONEELSE0123456' }],
    ['no readOnly', { readOnly: undefined }],
    ['no ips', { ips: undefined }],
    ['no permissions', { permissions: undefined }],
  ])('refuses an answer naming %s', async (_, over) => {
    const { client } = scripted([answer(over)]);
    const error = await client
      .updateSubApiKey({ apikey: 'SUBKEY0123456789AB', readOnly: 1, ips: '*' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
  });
});

describe('createOrder', () => {
  it('always sends an orderLinkId, so that a retried order cannot be placed twice', async () => {
    const { client, sent } = scripted([
      { orderId: 'o1', orderLinkId: 'x' },
      { orderId: 'o2', orderLinkId: 'mine' },
    ]);
    await client.createOrder({
      category: 'spot',
      symbol: 'BTCUSDT',
      side: 'Buy',
      orderType: 'Market',
      qty: '1',
    });
    const generated = JSON.parse(sent[0]?.body as string).orderLinkId;
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const placed = await client.createOrder({
      category: 'linear',
      symbol: 'BTCUSDT',
      side: 'Sell',
      orderType: 'Limit',
      qty: '1',
      price: '50000',
      orderLinkId: 'mine',
    });
    expect(placed).toEqual({ orderId: 'o2', orderLinkId: 'mine' });
    expect(JSON.parse(sent[1]?.body as string)).toMatchObject({ orderLinkId: 'mine', price: '50000' });
  });
});

describe('apiKeyInfo', () => {
  it('reads isMaster, parentUid and userID, which tell a master key from a sub key', async () => {
    const info = {
      readOnly: 0,
      uta: 1,
      ips: ['18.181.170.164'],
      permissions: { Wallet: ['AccountTransfer', 'SubMemberTransfer'] },
      isMaster: true,
      parentUid: '0',
      userID: 1448939,
    };
    const { client } = scripted([info, { ...info, isMaster: 'yes' }]);
    expect(await client.apiKeyInfo()).toMatchObject({ isMaster: true, parentUid: '0', userId: '1448939' });
    await expect(client.apiKeyInfo()).rejects.toThrow('answer lacks a valid isMaster');
  });
});
