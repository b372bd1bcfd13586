// The wire under the client: node:http(s) on keep-alive sockets. The client needs no more of fetch than a
// status, headers and the body as text, and global fetch (undici, WHATWG streams) costs several times the
// CPU per request, most of all with a body (`npm run bench -- transport`, README "Benchmarks"). A kill
// switch pays that CPU between one round's answers and the next round's requests. Fetch still fits (tests).

import http from 'node:http';
import https from 'node:https';
import { AnswerTooLargeError } from '../errors.ts';

export interface WireRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  /** Kept for fetch, which would otherwise follow one; this transport never follows a redirect. */
  redirect: 'error';
}

export interface WireResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

export type Transport = (url: string, init: WireRequest) => Promise<WireResponse>;

/**
 * Idle sockets are closed after 4 s, as fetch does: a frozen Lambda container or an exchange load balancer
 * may have dropped them, and a request on a dead socket costs a retry.
 */
const IDLE_SOCKET_MS = 4000;

export interface NodeTransportOptions {
  /** Certificate authorities to trust instead of Node's own (a test's loopback TLS server); PEM. */
  ca?: string;
}

/** A transport on keep-alive sockets of its own; `nodeTransport` is the one production uses. */
export function createNodeTransport({ ca }: NodeTransportOptions = {}): Transport {
  const agents: Agents = {
    http: new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    https: new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, ca }),
  };
  return (url, init) => send(agents, url, init);
}

/**
 * No answer of the exchange comes near this: a page of 50 orders is about 50 KB, one of 1,000 instruments about
 * 1 MB. A longer one (a misconfigured BYBIT_BASE_URL, a proxy's error path that streams) is cut off here as
 * malformed, before it holds the container's memory for a whole request timeout.
 */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** Sends one request and reads the whole answer; rejects on a network error, or with the signal's abort. */
export const nodeTransport: Transport = createNodeTransport();

interface Agents {
  http: http.Agent;
  https: https.Agent;
}

function send(
  agents: Agents,
  url: string,
  { method, headers, body, signal }: WireRequest,
): Promise<WireResponse> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const fail = (error: unknown) => reject(signal.aborted ? signal.reason : error);
    const request = (secure ? https : http).request(
      target,
      {
        method,
        agent: secure ? agents.https : agents.http,
        // end(body) sends its Content-Length: Node sets it when the whole body comes in one piece.
        headers,
        signal,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let length = 0;
        const tooLarge = () => {
          const error = new AnswerTooLargeError(MAX_ANSWER_BYTES);
          reject(error);
          request.destroy(error);
        };
        if (Number(response.headers['content-length']) > MAX_ANSWER_BYTES) return tooLarge();
        response.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > MAX_ANSWER_BYTES) return tooLarge();
          chunks.push(chunk);
        });
        // A connection closed before the end of the body is no answer: the response emits an error.
        response.on('error', fail);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: response.statusCode ?? 0,
            headers: { get: (name) => headerValue(response.headers[name.toLowerCase()]) },
            text: () => Promise.resolve(text),
          });
        });
      },
    );
    request.on('error', fail);
    request.end(body);
  });
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}
