// Hosts that misbehave on the wire, on loopback: one that accepts connections and never answers, one that
// redirects every request elsewhere, one that records what reaches it, and a proxy that forwards to a real
// host while replacing its rate-limit headers with poisoned ones.

import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTcpServer } from 'node:net';

export interface Host {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  close(): Promise<void>;
}

/** Accepts every connection, reads what is sent, and never writes a byte back. */
export interface SilentEndpoint extends Host {
  /** Connections accepted so far. */
  connections(): number;
}

export async function startSilentEndpoint(): Promise<SilentEndpoint> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createTcpServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  const url = await listen(server);
  return {
    url,
    connections: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Records every request that reaches it (method, path, headers) and answers 200 with an empty JSON object. */
export interface RecordingHost extends Host {
  readonly requests: { method: string; path: string; headers: IncomingMessage['headers'] }[];
}

export async function startRecordingHost(): Promise<RecordingHost> {
  const requests: RecordingHost['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const url = await listen(server);
  return { url, requests, close: () => closeHttp(server) };
}

/** Answers every request with `status` and a Location on `target` (same path), as a hijacked host would. */
export async function startRedirectingHost(target: string, status = 307): Promise<Host & { hits(): number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(status, { location: `${target}${req.url ?? '/'}` }).end();
  });
  const url = await listen(server);
  return { url, hits: () => hits, close: () => closeHttp(server) };
}

/** Rate-limit headers a proxy puts on every answer while poisoning is on. */
export type PoisonedHeaders = Record<string, string>;

export interface PoisoningProxy extends Host {
  /** Replaces the upstream's `X-Bapi-Limit*` headers with these on every answer; `null` passes them through. */
  poison(headers: PoisonedHeaders | null): void;
}

/** Forwards every request to `upstream` unchanged; answers come back with the poisoned headers, if set. */
export async function startPoisoningProxy(upstream: string): Promise<PoisoningProxy> {
  let poisoned: PoisonedHeaders | null = null;
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    const forward = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        const headers = { ...answer.headers };
        if (poisoned) {
          for (const name of Object.keys(headers)) if (/^x-bapi-limit/i.test(name)) delete headers[name];
          Object.assign(headers, poisoned);
        }
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  const url = await listen(server);
  return {
    url,
    poison: (headers) => {
      poisoned = headers;
    },
    close: () => closeHttp(server),
  };
}

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
