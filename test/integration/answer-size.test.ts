// An answer larger than any the exchange sends is cut off as malformed, on a loopback "exchange" that answers
// 200 and streams without end (a wrong BYBIT_BASE_URL, a proxy's error path): the client stops reading at the
// limit instead of buffering until its request timeout (the review saw 800 MiB to 1 GiB in 5 s).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { MAX_ANSWER_BYTES } from '../../lib/bybit/transport.ts';

const MiB = 1024 * 1024;
let server: http.Server;
let base: string;
/** Bytes the server had written to each connection when it closed, by path. */
const written = new Map<string, number>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    let sent = 0;
    res.on('close', () => written.set(path, sent));
    const page = (pad: number) =>
      `{"retCode":0,"retMsg":"OK","result":{"list":[],"nextPageCursor":"","pad":"${'a'.repeat(pad)}"}}`;
    if (path === '/v5/order/realtime') {
      // Streams 1 MiB chunks for up to 10 s: far past the limit, and past the request timeout.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"retCode":0,"retMsg":"OK","result":{"list":[],"nextPageCursor":"","pad":"');
      const chunk = Buffer.alloc(MiB, 0x61);
      const until = Date.now() + 10_000;
      const pump = () => {
        while (!res.destroyed && Date.now() < until) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end('"}}');
      };
      pump();
    } else if (path === '/v5/market/instruments-info') {
      // Announced too large: refused before a byte of the body is read.
      const body = page(MAX_ANSWER_BYTES + 1);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      sent = Buffer.byteLength(body);
      res.end(body);
    } else {
      // A large answer still within the limit (an instruments page is about 1 MB).
      const body = page(3 * MiB);
      sent = Buffer.byteLength(body);
      res.end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const client = () =>
  new BybitClient({
    credentials: { apiKey: 'key', apiSecret: 's'.repeat(36) },
    baseUrl: base,
    requestTimeoutMs: 8000,
    maxAttempts: 1,
  });

describe('answers past the size limit', () => {
  it('cuts off an answer that keeps streaming, as a malformed answer, long before the request timeout', async () => {
    const error = (await client()
      .openOrders({ category: 'spot', limit: 50 }, { deadline: Date.now() + 20_000 })
      .catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ name: 'ExchangeUnavailableError', endpoint: 'realtime' });
    expect(error.message).toBe(
      `realtime unavailable after 1 attempt(s): malformed answer: the answer is larger than ${MAX_ANSWER_BYTES} bytes`,
    );
    // The connection was closed at the limit (plus what the socket buffers held), not read for 8 s.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(written.get('/v5/order/realtime')).toBeGreaterThan(MAX_ANSWER_BYTES);
    expect(written.get('/v5/order/realtime')).toBeLessThan(MAX_ANSWER_BYTES + 64 * MiB);
  });

  it('refuses an answer whose Content-Length is past the limit, without reading it', async () => {
    const error = (await client()
      .instrumentsInfo({ category: 'linear' }, { deadline: Date.now() + 20_000 })
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('malformed answer: the answer is larger than');
  });

  it('reads a large answer within the limit as usual', async () => {
    const page = await client()
      .serverTime({ deadline: Date.now() + 20_000 })
      .catch((e: unknown) => e);
    // /v5/market/time answered with a 3 MiB envelope that has no time in it: read whole, then judged.
    expect((page as Error).message).toBe('time failed: retCode -1 (no time in answer)');
  });
});
