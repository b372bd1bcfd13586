// What the local AWS endpoints (Secrets Manager, EventBridge Scheduler) share: a loopback HTTP server,
// JSON bodies, and errors answered the way the SDK reads them.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An error answered to the client with its HTTP status and AWS error type. */
export class AwsApiError extends Error {
  readonly status: number;
  readonly type: string;

  constructor(status: number, type: string, message: string) {
    super(message);
    this.name = 'AwsApiError';
    this.status = status;
    this.type = type;
  }
}

export type Body = Record<string, unknown>;

export interface LoopbackServer {
  /** `http://host:port`, an IPv6 host in brackets. */
  url: string;
  close(): Promise<void>;
}

/** Listens on `host:port` (0: any free port); resolves once it does. */
export async function listen(
  host: string,
  port: number,
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
): Promise<LoopbackServer> {
  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const name = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${name}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep idle sockets alive; without this, close waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The JSON object a request carries (an empty body is `{}`); `errorType` names what else is answered. */
export function parseBody(raw: string, errorType: string): Body {
  let body: unknown;
  try {
    body = JSON.parse(raw === '' ? '{}' : raw);
  } catch {
    throw new AwsApiError(400, errorType, 'Request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AwsApiError(400, errorType, 'Request body is not a JSON object');
  return body as Body;
}

/** Resolves with the next value a waiter list is given (push the returned waiter's trigger), or rejects after `timeoutMs`. */
export function nextOf<T>(waiters: ((value: T) => void)[], timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
    waiters.push((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
