// What invoked the function: an API Gateway request (HTTP API payload 2.0, or REST/HTTP API 1.0), the
// EventBridge schedule (or a schedule's constant input), a kill-switch event, or a direct invocation.

import { ValidationError } from '../errors.ts';
import type { Config } from './config.ts';

export interface HttpTrigger {
  type: 'http';
  /** Header names lowercased (REST API 1.0 keeps the sender's case). */
  headers: Record<string, string | undefined>;
  /** The body as API Gateway passes it; `decodeBody` (lib/http.ts) turns it into the bytes that were signed. */
  rawBody: string;
  isBase64Encoded: boolean;
  /** The address API Gateway saw the request come from (never a header, which a caller could set). */
  sourceIp?: string;
  /**
   * The route as the API declares it, `<METHOD> <path>` (`POST /heartbeat`): what a route-bound signature
   * covers. Taken from the route API Gateway matched, never from the URL, which a stage or a custom domain's
   * base path prefixes.
   */
  route: string;
}

export type Trigger =
  | HttpTrigger
  | { type: 'schedule'; input: Record<string, unknown> }
  | { type: 'killSwitch'; detail: unknown /** The EventBridge event's id. */; eventId?: string }
  | { type: 'direct'; body: unknown };

/** The constant input a schedule may send instead of the Scheduled Event: `{"action": "sweep", …}`. */
export const SWEEP_ACTION = 'sweep';
/** The drill schedule's constant input: `{"action": "drill"}`. */
export const DRILL_ACTION = 'drill';

type AnyEvent = Record<string, unknown>;

export function readTrigger(event: unknown, config: Pick<Config, 'killSwitch'>): Trigger {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new ValidationError('event', 'the event must be a JSON object');
  }
  const e = event as AnyEvent;
  if (isHttp(e)) return readHttp(e);
  if (typeof e['detail-type'] === 'string' && typeof e.source === 'string' && 'detail' in e) {
    if (e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event')
      return { type: 'schedule', input: {} };
    if (e.source === config.killSwitch.source && e['detail-type'] === config.killSwitch.detailType) {
      return {
        type: 'killSwitch',
        detail: e.detail,
        ...(typeof e.id === 'string' && e.id !== '' ? { eventId: e.id } : {}),
      };
    }
    throw new ValidationError(
      'detail-type',
      `unexpected EventBridge event ${String(e.source)} / ${String(e['detail-type'])}`,
    );
  }
  if (e.action === SWEEP_ACTION || e.action === DRILL_ACTION) return { type: 'schedule', input: e };
  return { type: 'direct', body: e };
}

function isHttp(e: AnyEvent): boolean {
  const context = e.requestContext as AnyEvent | undefined;
  if (typeof context !== 'object' || context === null) return false;
  return (e.version === '2.0' && typeof context.http === 'object') || typeof e.httpMethod === 'string';
}

function readHttp(e: AnyEvent): HttpTrigger {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries((e.headers as Record<string, unknown> | null) ?? {})) {
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
  }
  const rawBody = typeof e.body === 'string' ? e.body : '';
  // HTTP API payload 2.0 puts it in requestContext.http, REST (and HTTP API 1.0) in requestContext.identity.
  const context = e.requestContext as { http?: AnyEvent; identity?: AnyEvent };
  const sourceIp = e.version === '2.0' ? context.http?.sourceIp : context.identity?.sourceIp;
  return {
    type: 'http',
    headers,
    rawBody,
    isBase64Encoded: e.isBase64Encoded === true,
    sourceIp: typeof sourceIp === 'string' ? sourceIp : undefined,
    route: routeOf(e),
  };
}

const ROUTE_KEY = /^[A-Z]+ \/[^\s{}]*$/;

/**
 * The route a request matched. HTTP API (payload 2.0 and 1.0): `routeKey`, `POST /heartbeat`, the same whatever
 * stage or custom-domain base path the URL carries (`rawPath` and `requestContext.http.path` include them). REST
 * API (1.0): `httpMethod` and `resource`, the resource as declared (`path` and `requestContext.path` include the
 * stage or base path). A catch-all route (`$default`, `ANY /{proxy+}`) names no path of its own: then the method
 * and the path as received.
 */
function routeOf(e: AnyEvent): string {
  const context = e.requestContext as { routeKey?: unknown; http?: AnyEvent } | undefined;
  const key = typeof e.routeKey === 'string' ? e.routeKey : context?.routeKey;
  if (typeof key === 'string' && ROUTE_KEY.test(key)) return key;
  const method = typeof e.httpMethod === 'string' ? e.httpMethod : context?.http?.method;
  const resource = typeof e.resource === 'string' ? `${method} ${e.resource}` : '';
  if (ROUTE_KEY.test(resource)) return resource;
  const path = context?.http?.path ?? e.rawPath ?? e.path;
  return `${String(method ?? 'POST').toUpperCase()} ${String(path ?? '/')}`;
}
