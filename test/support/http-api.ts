// An API Gateway HTTP API on loopback for handlers run in the test process: each request to a route becomes
// the payload 2.0 event API Gateway would send (events/http-v2-telegram.json's shape: headers lowercased, the
// body as text, the caller's address in requestContext.http.sourceIp), and the handler's answer becomes the
// HTTP response. So that a client (the Telegram stand-in posting to its webhook) reaches the handler over a
// real socket, as in production. Routes are named as the packaged template names them (`POST /telegram`).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import { listen, readBody } from './aws-endpoint.ts';
import { lambdaContext, loadEvent } from './events.ts';

export type HttpHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface HttpApi {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `routes` (`POST /telegram` → the handler and the function name its context carries); the object is
 * read on each request, so a test may change a route's handler.
 */
export async function startHttpApi(
  routes: Record<string, { handler: HttpHandler; functionName: string }>,
): Promise<HttpApi> {
  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const routeKey = `${request.method} ${path}`;
    const route = routes[routeKey];
    if (!route) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'Not Found' }));
      return;
    }
    const event = loadEvent('http-v2-telegram.json');
    event.routeKey = routeKey;
    event.rawPath = path;
    event.requestContext.routeKey = routeKey;
    event.requestContext.http.path = path;
    event.requestContext.http.sourceIp = request.socket.remoteAddress ?? '127.0.0.1';
    event.requestContext.timeEpoch = Date.now();
    event.headers = Object.fromEntries(
      Object.entries(request.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(',') : value,
      ]),
    );
    event.body = body;
    event.isBase64Encoded = false;
    try {
      const answer = (await route.handler(event, lambdaContext(30_000, route.functionName))) as {
        statusCode?: number;
        headers?: Record<string, string>;
        body?: string;
      };
      response.writeHead(answer.statusCode ?? 200, answer.headers ?? {});
      response.end(answer.body ?? '');
    } catch {
      // What API Gateway answers when the function fails.
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: 'Internal Server Error' }));
    }
  }
  return listen('127.0.0.1', 0, handle);
}
