// An API Gateway HTTP API on loopback, for senders that speak HTTP (a bot's heartbeat): each request to a route
// becomes the payload 2.0 event API Gateway hands the route's function (`routeKey`, `rawPath`, lowercased headers,
// the body as text, `requestContext.http` with the source address of the socket), and the function's answer
// becomes the response. `throttle` answers the next requests of a route 429 `{"message":"Too Many Requests"}`
// before the function runs, as the route's throttle does in AWS. An unknown route is a 404, as API Gateway
// answers one.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, readBody } from './aws-endpoint.ts';

/** A route's function: the event in, the Lambda answer out. */
export type RouteFunction = (event: Record<string, unknown>) => Promise<unknown>;

export interface HttpApiRequest {
  routeKey: string;
  status: number;
  /** When it arrived (ms). */
  at: number;
}

export interface HttpApiEndpoint {
  /** `http://127.0.0.1:PORT`, the API's base URL. */
  readonly url: string;
  /** Every request, in order, with the status it got. */
  readonly requests: readonly HttpApiRequest[];
  /** The next `times` requests of `routeKey` get 429 before the function runs. */
  throttle(routeKey: string, times: number): void;
  reset(): void;
  close(): Promise<void>;
}

/** Serves `routes` (`POST /heartbeat` → its function). */
export async function startHttpApi(
  routes: Record<string, RouteFunction>,
  options: { host?: string; port?: number } = {},
): Promise<HttpApiEndpoint> {
  const requests: HttpApiRequest[] = [];
  const throttles = new Map<string, number>();

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const routeKey = `${request.method} ${url.pathname}`;
    const record: HttpApiRequest = { routeKey, status: 200, at: Date.now() };
    requests.push(record);
    const reply = (status: number, headers: Record<string, string>, body: string) => {
      record.status = status;
      response.writeHead(status, headers);
      response.end(body);
    };
    const fn = routes[routeKey];
    if (!fn) return reply(404, { 'content-type': 'application/json' }, '{"message":"Not Found"}');
    const left = throttles.get(routeKey) ?? 0;
    if (left > 0) {
      throttles.set(routeKey, left - 1);
      return reply(429, { 'content-type': 'application/json' }, '{"message":"Too Many Requests"}');
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [
        name.toLowerCase(),
        Array.isArray(value) ? value.join(',') : String(value),
      ]),
    );
    const now = Date.now();
    const event = {
      version: '2.0',
      routeKey,
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      requestContext: {
        accountId: '123456789012',
        apiId: 'local',
        domainName: url.host,
        http: {
          method: request.method,
          path: url.pathname,
          protocol: 'HTTP/1.1',
          sourceIp: request.socket.remoteAddress?.replace(/^::ffff:/, ''),
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey,
        stage: '$default',
        time: new Date(now).toUTCString(),
        timeEpoch: now,
      },
      body: raw,
      isBase64Encoded: false,
    };
    let answer: unknown;
    try {
      answer = await fn(event);
    } catch {
      // A function that failed: API Gateway answers 500 and no body of the function's.
      return reply(500, { 'content-type': 'application/json' }, '{"message":"Internal Server Error"}');
    }
    const result = answer as { statusCode?: number; headers?: Record<string, string>; body?: string };
    if (typeof result?.statusCode === 'number') {
      return reply(result.statusCode, result.headers ?? {}, result.body ?? '');
    }
    // Payload 2.0: an answer without a status code is a 200 with the answer as its JSON body.
    reply(200, { 'content-type': 'application/json' }, JSON.stringify(answer));
  }

  const server = await listen(options.host ?? '127.0.0.1', options.port ?? 0, handle);
  return {
    url: server.url,
    requests,
    throttle: (routeKey, times) => {
      throttles.set(routeKey, times);
    },
    reset: () => {
      requests.length = 0;
      throttles.clear();
    },
    close: () => server.close(),
  };
}
