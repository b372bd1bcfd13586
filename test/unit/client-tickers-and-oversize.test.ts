// BybitClient: the tickers listing (public, unsigned; its prices must be readable) and an answer too large
// to read, on a scripted transport.

import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { AnswerTooLargeError, ExchangeUnavailableError } from '../../lib/errors.ts';

type Reply = string | (() => Response);

function scripted(replies: Reply[], maxAttempts = 1) {
  let clock = 1_700_000_000_000;
  const requests: { url: string; init: RequestInit | undefined }[] = [];
  const fetch = async (url: string | URL, init?: RequestInit) => {
    requests.push({ url: String(url), init });
    const reply = replies.shift();
    if (reply === undefined) throw new Error('no more scripted replies');
    return typeof reply === 'string' ? new Response(reply, { status: 200 }) : reply();
  };
  const client = new BybitClient({
    credentials: { apiKey: 'KEY', apiSecret: 'secret' },
    baseUrl: 'http://exchange.test',
    transport: fetch as typeof globalThis.fetch,
    now: () => clock,
    sleep: async (ms) => {
      clock += ms;
    },
    random: () => 1,
    maxAttempts,
  });
  return { client, requests };
}

const envelope = (result: unknown) => JSON.stringify({ retCode: 0, retMsg: 'OK', result, time: 1 });

describe('BybitClient.tickers', () => {
  it('asks the public tickers path unsigned and reads symbol, lastPrice and the optional prices', async () => {
    const { client, requests } = scripted([
      envelope({
        category: 'linear',
        list: [
          {
            symbol: 'BTCUSDT',
            lastPrice: '97000.5',
            bid1Price: '97000',
            ask1Price: '97001',
            markPrice: '96999',
            volume24h: '1',
          },
          { symbol: 'ETHUSDT', lastPrice: '3500' },
        ],
      }),
    ]);
    expect(await client.tickers({ category: 'linear', symbol: 'BTCUSDT' })).toEqual([
      { symbol: 'BTCUSDT', lastPrice: '97000.5', bid1Price: '97000', ask1Price: '97001', markPrice: '96999' },
      { symbol: 'ETHUSDT', lastPrice: '3500' },
    ]);
    expect(requests).toHaveLength(1);
    const url = new URL(requests[0]?.url ?? '');
    expect(url.pathname).toBe('/v5/market/tickers');
    expect(Object.fromEntries(url.searchParams)).toEqual({ category: 'linear', symbol: 'BTCUSDT' });
    expect(requests[0]?.init?.method).toBe('GET');
    const headers = new Headers(requests[0]?.init?.headers);
    expect(headers.has('X-BAPI-API-KEY')).toBe(false);
    expect(headers.has('X-BAPI-SIGN')).toBe(false);
  });

  it('fails closed on a listing without readable prices, naming what is missing', async () => {
    const cases: [unknown, string][] = [
      [{ category: 'linear' }, 'result.list is missing or not an array'],
      ['nothing', 'result.list is missing or not an array'],
      [{ list: [null] }, 'a ticker has no symbol'],
      [{ list: [{ lastPrice: '1' }] }, 'a ticker has no symbol'],
      [{ list: [{ symbol: 'BTCUSDT' }] }, 'ticker BTCUSDT has no positive lastPrice'],
      [{ list: [{ symbol: 'BTCUSDT', lastPrice: 97000 }] }, 'ticker BTCUSDT has no positive lastPrice'],
      [{ list: [{ symbol: 'BTCUSDT', lastPrice: '0' }] }, 'ticker BTCUSDT has no positive lastPrice'],
      [{ list: [{ symbol: 'BTCUSDT', lastPrice: '' }] }, 'ticker BTCUSDT has no positive lastPrice'],
      [
        {
          list: [
            { symbol: 'A', lastPrice: '1' },
            { symbol: 'B', lastPrice: '-1' },
          ],
        },
        'ticker B has no positive lastPrice',
      ],
    ];
    for (const [result, problem] of cases) {
      const { client } = scripted([envelope(result)]);
      const error = await client.tickers({ category: 'spot' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExchangeUnavailableError);
      expect([problem, (error as Error).message]).toEqual([
        problem,
        `tickers unavailable after 1 attempt(s): malformed answer: ${problem}`,
      ]);
    }
  });
});

/** A 200 whose body the transport refused to read past `limit` bytes. */
const answerTooLarge = (limit: number) =>
  ({
    status: 200,
    headers: new Headers(),
    text: async () => {
      throw new AnswerTooLargeError(limit);
    },
  }) as unknown as Response;

describe('BybitClient on an answer too large to read', () => {
  it('calls it a malformed answer, keeps the cause, and tries again as a transient failure', async () => {
    const tooLarge = () => answerTooLarge(1_048_576);
    const { client, requests } = scripted([tooLarge, tooLarge], 2);
    const error = (await client
      .cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' })
      .catch((e: unknown) => e)) as ExchangeUnavailableError;
    expect(error).toBeInstanceOf(ExchangeUnavailableError);
    expect(error.message).toBe(
      'cancel unavailable after 2 attempt(s): malformed answer: the answer is larger than 1048576 bytes',
    );
    expect(error.cause).toBeInstanceOf(AnswerTooLargeError);
    expect(requests).toHaveLength(2);
  });

  it('succeeds when the next attempt is answered in full', async () => {
    const tooLarge = () => answerTooLarge(10);
    const { client, requests } = scripted([tooLarge, envelope({ orderId: 'o1', orderLinkId: '' })], 3);
    expect(await client.cancelOrder({ category: 'linear', symbol: 'BTCUSDT', orderId: 'o1' })).toMatchObject({
      orderId: 'o1',
    });
    expect(requests).toHaveLength(2);
  });
});
