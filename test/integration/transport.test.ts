// The client's wire (lib/bybit/transport.ts) on a loopback server: what fetch gave the client, it gives too.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeTransport, type WireRequest } from '../../lib/bybit/transport.ts';

let server: http.Server;
let base: string;
const seen: {
  method?: string;
  url?: string;
  body: string;
  length?: string;
  type?: string;
  key?: string;
  port?: number;
}[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        body,
        length: req.headers['content-length'],
        type: req.headers['content-type'],
        key: req.headers['x-bapi-api-key'] as string | undefined,
        port: req.socket.remotePort,
      });
      if (req.url === '/moved') {
        res.writeHead(302, { Location: 'http://127.0.0.1:9/steal' });
        res.end();
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2000);
      } else if (req.url === '/cut') {
        res.writeHead(200, { 'Content-Length': '100' });
        res.write('{"retCode":');
        setTimeout(() => res.destroy(), 20);
      } else {
        res.writeHead(200, { 'X-Bapi-Limit': '10', 'X-Bapi-Limit-Status': '9' });
        res.end('{"retCode":0,"note":"é"}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const init = (over: Partial<WireRequest> = {}): WireRequest => ({
  method: 'GET',
  headers: {},
  signal: AbortSignal.timeout(1000),
  redirect: 'error',
  ...over,
});

describe('nodeTransport', () => {
  it('sends the exact body with its length and returns status, headers and text', async () => {
    const body = '{"category":"linear","symbol":"BTCUSDT","note":"ü"}';
    const headers = { 'Content-Type': 'application/json', 'X-BAPI-API-KEY': 'key-1' };
    const response = await nodeTransport(`${base}/v5/order/cancel`, init({ method: 'POST', headers, body }));
    expect(response.status).toBe(200);
    expect(response.headers.get('X-Bapi-Limit')).toBe('10');
    expect(response.headers.get('x-bapi-limit-status')).toBe('9');
    expect(response.headers.get('x-bapi-limit-reset-timestamp')).toBeNull();
    expect(await response.text()).toBe('{"retCode":0,"note":"é"}');
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      body,
      length: String(Buffer.byteLength(body)),
      type: 'application/json',
      key: 'key-1',
    });
  });

  it('sends a GET with its query string and no body', async () => {
    await nodeTransport(`${base}/v5/order/realtime?category=inverse&limit=50`, init());
    expect(seen.at(-1)).toMatchObject({
      method: 'GET',
      url: '/v5/order/realtime?category=inverse&limit=50',
      body: '',
    });
  });

  it('keeps its connection for the next request: one socket, not a handshake each time', async () => {
    await nodeTransport(`${base}/v5/market/time`, init());
    await nodeTransport(`${base}/v5/market/time`, init());
    const [first, second] = seen.slice(-2);
    expect(second?.port).toBe(first?.port);
  });

  it('never follows a redirect: the 3xx is the answer', async () => {
    const before = seen.length;
    const response = await nodeTransport(`${base}/moved`, init());
    expect(response.status).toBe(302);
    expect(seen.length).toBe(before + 1);
  });

  it("rejects with the signal's reason when the request outlives it", async () => {
    const started = Date.now();
    const error = await nodeTransport(`${base}/slow`, init({ signal: AbortSignal.timeout(100) })).catch(
      (e) => e,
    );
    expect(error.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('rejects an answer cut off before its end', async () => {
    await expect(nodeTransport(`${base}/cut`, init())).rejects.toThrow();
  });

  it('rejects a refused connection with its code', async () => {
    const error = await nodeTransport('http://127.0.0.1:1/v5/market/time', init()).catch((e) => e);
    expect(error.code).toBe('ECONNREFUSED');
  });
});
