// The client's wire (lib/bybit/transport.ts) on loopback servers, over plain HTTP and over TLS (production
// speaks only TLS to api.bybit.com): what fetch gave the client, it gives too, on both.

import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNodeTransport,
  MAX_ANSWER_BYTES,
  nodeTransport,
  type Transport,
  type WireRequest,
} from '../../lib/bybit/transport.ts';
import { AnswerTooLargeError } from '../../lib/errors.ts';

let plain: http.Server;
let secure: https.Server;
const bases = { http: '', https: '' };
/** A transport that trusts this run's certificate, and only it: the production default stays untouched. */
let trusting: Transport;
const seen: {
  method?: string;
  url?: string;
  body: string;
  length?: string;
  type?: string;
  key?: string;
  port?: number;
  encrypted: boolean;
}[] = [];

/** Per path: called when the server sees the connection of that oversize answer closed. */
const dropped = new Map<string, () => void>();

const handler: http.RequestListener = (req, res) => {
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
      encrypted: (req.socket as TLSSocket).encrypted === true,
    });
    if (req.url === '/moved') {
      res.writeHead(302, { Location: 'http://127.0.0.1:9/steal' });
      res.end();
    } else if (req.url === '/slow') {
      setTimeout(() => res.end('late'), 2000);
    } else if (req.url?.startsWith('/declared-too-large')) {
      // Announces one byte too many, sends a little and keeps the connection open: only the header tells.
      res.on('close', () => dropped.get(req.url as string)?.());
      res.writeHead(200, { 'Content-Length': String(MAX_ANSWER_BYTES + 1) });
      res.write('{"retCode":0,');
    } else if (req.url?.startsWith('/streamed/')) {
      // No Content-Length: the body's size shows only as it arrives, in two pieces.
      const size = Number(req.url.slice('/streamed/'.length));
      res.writeHead(200, { 'Transfer-Encoding': 'chunked' });
      res.write(Buffer.alloc(size - 1, 'a'));
      res.end('a');
    } else if (req.url === '/declared-limit') {
      res.writeHead(200, { 'Content-Length': String(MAX_ANSWER_BYTES) });
      res.end(Buffer.alloc(MAX_ANSWER_BYTES, 'a'));
    } else if (req.url === '/cut') {
      res.writeHead(200, { 'Content-Length': '100' });
      res.write('{"retCode":');
      setTimeout(() => res.destroy(), 20);
    } else {
      res.writeHead(200, { 'X-Bapi-Limit': '10', 'X-Bapi-Limit-Status': '9' });
      res.end('{"retCode":0,"note":"é"}');
    }
  });
};

const listen = async (server: http.Server | https.Server, scheme: 'http' | 'https') => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  bases[scheme] = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  // A certificate made for this run (for localhost and 127.0.0.1), trusted by no one but `trusting`.
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
  });
  trusting = createNodeTransport({ ca: pems.cert });
  plain = http.createServer(handler);
  secure = https.createServer({ key: pems.private, cert: pems.cert }, handler);
  await listen(plain, 'http');
  await listen(secure, 'https');
});
afterAll(async () => {
  for (const server of [plain, secure]) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const init = (over: Partial<WireRequest> = {}): WireRequest => ({
  method: 'GET',
  headers: {},
  signal: AbortSignal.timeout(1000),
  redirect: 'error',
  ...over,
});

describe.each([
  ['http', () => nodeTransport],
  ['https', () => trusting],
] as const)('the node transport over %s', (scheme, wire) => {
  const send = (path: string, over: Partial<WireRequest> = {}) =>
    wire()(`${bases[scheme]}${path}`, init(over));

  it('sends the exact body with its length and returns status, headers and text', async () => {
    const body = '{"category":"linear","symbol":"BTCUSDT","note":"ü"}';
    const headers = { 'Content-Type': 'application/json', 'X-BAPI-API-KEY': 'key-1' };
    const response = await send('/v5/order/cancel', { method: 'POST', headers, body });
    expect(response.status).toBe(200);
    expect(response.headers.get('X-Bapi-Limit')).toBe('10');
    expect(response.headers.get('x-bapi-limit-status')).toBe('9');
    expect(response.headers.get('x-bapi-limit-reset-timestamp')).toBeNull();
    expect(await response.text()).toBe('{"retCode":0,"note":"é"}');
    expect(seen.at(-1)).toEqual({
      method: 'POST',
      url: '/v5/order/cancel',
      body,
      length: String(Buffer.byteLength(body)),
      type: 'application/json',
      key: 'key-1',
      port: expect.any(Number),
      encrypted: scheme === 'https',
    });
  });

  it('sends a GET with its query string and no body', async () => {
    await send('/v5/order/realtime?category=inverse&limit=50');
    expect(seen.at(-1)).toMatchObject({
      method: 'GET',
      url: '/v5/order/realtime?category=inverse&limit=50',
      body: '',
      encrypted: scheme === 'https',
    });
  });

  it('keeps its connection for the next request: one socket, not a handshake each time', async () => {
    const before = seen.length;
    await send('/v5/market/time');
    await send('/v5/market/time');
    const [first, second] = seen.slice(before);
    expect(seen).toHaveLength(before + 2);
    expect(second?.port).toBe(first?.port);
  });

  it('never follows a redirect: the 3xx is the answer', async () => {
    const before = seen.length;
    const response = await send('/moved');
    expect(response.status).toBe(302);
    expect(seen.length).toBe(before + 1);
  });

  it("rejects with the signal's reason when the request outlives it", async () => {
    const started = Date.now();
    const error = await send('/slow', { signal: AbortSignal.timeout(100) }).catch((e) => e);
    expect(error.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('rejects an answer cut off before its end', async () => {
    await expect(send('/cut')).rejects.toThrow();
  });

  it('refuses an answer whose Content-Length passes the limit, before its body comes', async () => {
    const error = await send('/declared-too-large').catch((e) => e);
    expect(error).toBeInstanceOf(AnswerTooLargeError);
  });

  it('drops the connection of an oversize answer rather than holding it open', async () => {
    const path = '/declared-too-large?watched';
    const closed = new Promise<void>((resolve) => dropped.set(path, resolve));
    // A signal that never fires: only the transport itself may close the connection.
    const signal = new AbortController().signal;
    await expect(send(path, { signal })).rejects.toBeInstanceOf(AnswerTooLargeError);
    await closed;
  });

  it('refuses an answer without a Content-Length once its body passes the limit', async () => {
    const error = await send(`/streamed/${MAX_ANSWER_BYTES + 1}`).catch((e) => e);
    expect(error).toBeInstanceOf(AnswerTooLargeError);
  });

  it('reads an answer of exactly the limit, declared or not', async () => {
    for (const path of ['/declared-limit', `/streamed/${MAX_ANSWER_BYTES}`]) {
      const response = await send(path);
      expect((await response.text()).length).toBe(MAX_ANSWER_BYTES);
    }
  });

  it('rejects a refused connection with its code', async () => {
    const error = await wire()(`${scheme}://127.0.0.1:1/v5/market/time`, init()).catch((e) => e);
    expect(error.code).toBe('ECONNREFUSED');
  });
});

describe('the production transport over TLS', () => {
  it('refuses a server whose certificate no authority it trusts has signed, before sending anything', async () => {
    const before = seen.length;
    const error = await nodeTransport(`${bases.https}/v5/market/time`, init()).catch((e) => e);
    expect(error.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(seen).toHaveLength(before);
  });
});
