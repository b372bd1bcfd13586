// What invoked a function (lib/lambda/triggers.ts), read from the events in events/ and from their edges.

import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../lib/errors.ts';
import { DRILL_ACTION, readTrigger, SWEEP_ACTION } from '../../lib/lambda/triggers.ts';
import { loadEvent } from '../support/events.ts';

const config = { killSwitch: { source: 'bybit.killswitch', detailType: 'Kill Switch' } };
const read = (event: unknown) => readTrigger(event, config);

describe('readTrigger', () => {
  it('reads an HTTP API 2.0 request: lowercased headers, the raw body, the source address of the request context', () => {
    const event = loadEvent('http-v2-cancel.json');
    event.headers['X-Custom'] = 'Value';
    event.headers['x-ignored'] = 42;
    expect(read(event)).toEqual({
      type: 'http',
      headers: expect.objectContaining({ 'x-custom': 'Value', 'x-timestamp': '1795253400000' }),
      rawBody: event.body,
      isBase64Encoded: false,
      sourceIp: '52.89.214.238',
      route: 'POST /cancel',
    });
    expect(read(event)).not.toHaveProperty('headers.x-ignored');
  });

  it('names the route API Gateway matched, whatever stage or custom-domain base path the URL carries', () => {
    // HTTP API 2.0 on a named stage and behind a custom domain's base path: rawPath and http.path carry both.
    const v2 = loadEvent('http-v2-heartbeat.json');
    v2.rawPath = '/prod/bots/heartbeat';
    v2.requestContext.http.path = '/prod/bots/heartbeat';
    v2.requestContext.stage = 'prod';
    expect(read(v2)).toMatchObject({ route: 'POST /heartbeat' });
    // HTTP API 1.0 payload: the route key too (no rawPath).
    const v1Http = loadEvent('http-v1-cancel.json');
    v1Http.version = '1.0';
    v1Http.routeKey = 'POST /cancel';
    v1Http.resource = '/cancel';
    v1Http.path = '/prod/cancel';
    expect(read(v1Http)).toMatchObject({ route: 'POST /cancel' });
    // REST API: the resource as declared, not the path with its stage.
    const rest = loadEvent('http-v1-cancel-all.json');
    rest.path = '/prod/cancel-all';
    rest.requestContext.path = '/prod/cancel-all';
    expect(read(rest)).toMatchObject({ route: 'POST /cancel-all' });
  });

  it('names a catch-all route by the method and the path as received: it declares no path of its own', () => {
    const catchAll = loadEvent('http-v2-cancel.json');
    catchAll.routeKey = '$default';
    catchAll.requestContext.routeKey = '$default';
    expect(read(catchAll)).toMatchObject({ route: 'POST /cancel' });
    const proxy = loadEvent('http-v1-cancel.json');
    proxy.resource = '/{proxy+}';
    proxy.path = '/cancel';
    expect(read(proxy)).toMatchObject({ route: 'POST /cancel' });
  });

  it('reads a REST API 1.0 request, with its source address from the identity, never from a header', () => {
    const event = loadEvent('http-v1-cancel.json');
    event.headers['X-Forwarded-For'] = '203.0.113.9';
    event.isBase64Encoded = true;
    const trigger = read(event);
    expect(trigger).toMatchObject({ type: 'http', isBase64Encoded: true, sourceIp: '52.89.214.238' });
    expect(trigger).toHaveProperty(['headers', 'x-forwarded-for'], '203.0.113.9');
  });

  it('reads a 2.0 event by its version: an identity there is not its source address', () => {
    const event = loadEvent('http-v2-cancel.json');
    event.requestContext.identity = { sourceIp: '203.0.113.9' };
    expect(read(event)).toMatchObject({ sourceIp: '52.89.214.238' });
    delete event.requestContext.http.sourceIp;
    expect(read(event)).toMatchObject({ type: 'http', sourceIp: undefined });
  });

  it('takes a missing body or headers as empty, and a source address that is not a string as none', () => {
    const event = loadEvent('http-v1-cancel.json');
    event.body = null;
    event.headers = null;
    event.requestContext.identity.sourceIp = 42;
    expect(read(event)).toEqual({
      type: 'http',
      headers: {},
      rawBody: '',
      isBase64Encoded: false,
      sourceIp: undefined,
      route: 'POST /cancel',
    });
  });

  it('reads the EventBridge schedule, and a schedule or direct call by its action', () => {
    expect(read(loadEvent('schedule.json'))).toEqual({ type: 'schedule', input: {} });
    expect(SWEEP_ACTION).toBe('sweep');
    expect(DRILL_ACTION).toBe('drill');
    for (const action of ['sweep', 'drill']) {
      expect(read({ action, dryRun: true })).toEqual({ type: 'schedule', input: { action, dryRun: true } });
    }
    expect(read({ action: 'cancel' })).toEqual({ type: 'direct', body: { action: 'cancel' } });
  });

  it('reads the kill-switch event by its configured source and detail-type, and refuses any other event', () => {
    const event = loadEvent('kill-switch.json');
    // The event id names the kill switch's record and its halt.
    expect(read(event)).toEqual({
      type: 'killSwitch',
      detail: { reason: 'drawdown limit hit' },
      eventId: event.id,
    });
    for (const [source, detailType] of [
      ['bybit.killswitch', 'Kill Switches'],
      ['evil.source', 'Kill Switch'],
      ['aws.events', 'Kill Switch'],
      ['bybit.killswitch', 'Scheduled Event'],
    ]) {
      const event = { ...loadEvent('kill-switch.json'), source, 'detail-type': detailType };
      expect(() => read(event)).toThrow(
        new ValidationError('detail-type', `unexpected EventBridge event ${source} / ${detailType}`),
      );
    }
  });

  it('reads an event with a source and detail-type but no detail as a direct call', () => {
    const { detail: _, ...event } = loadEvent('kill-switch.json');
    expect(read(event)).toEqual({ type: 'direct', body: event });
  });

  it('reads anything else that is an object as a direct call', () => {
    expect(read(loadEvent('direct-cancel.json'))).toMatchObject({ type: 'direct' });
    // Not HTTP: a request context without http or httpMethod, or one that is not an object.
    expect(read({ requestContext: {}, version: '2.0', body: '{}' })).toMatchObject({ type: 'direct' });
    expect(read({ requestContext: 'x', httpMethod: 'POST' })).toMatchObject({ type: 'direct' });
    expect(read({ requestContext: null, httpMethod: 'POST' })).toMatchObject({ type: 'direct' });
    expect(read({ requestContext: { http: {} }, version: '1.0' })).toMatchObject({ type: 'direct' });
    expect(read({ requestContext: {}, httpMethod: 42 })).toMatchObject({ type: 'direct' });
    expect(read({ requestContext: {}, httpMethod: 'POST' })).toMatchObject({ type: 'http' });
  });

  it.each([
    ['null', null],
    ['an array', [{}]],
    ['a string', '{"category":"linear"}'],
    ['a number', 42],
  ])('refuses %s as the event', (_, event) => {
    expect(() => read(event)).toThrow(new ValidationError('event', 'the event must be a JSON object'));
  });
});

describe('readTrigger, the edges of each kind', () => {
  it('reads a direct call whose body has a detail, a source or a detail-type, but not all three, as a direct call', () => {
    for (const body of [
      { detail: { reason: 'x' } },
      { source: 'bot', detail: { reason: 'x' } },
      { 'detail-type': 'Kill Switch', detail: { reason: 'x' } },
    ]) {
      expect(read(body)).toEqual({ type: 'direct', body });
    }
  });

  it('gives a kill switch no event id when the event carries an empty one', () => {
    const event = loadEvent('kill-switch.json');
    event.id = '';
    expect(read(event)).toEqual({ type: 'killSwitch', detail: event.detail });
  });

  it('names the route from the route key wherever the payload puts it: at the top, or in the request context only', () => {
    const top = loadEvent('http-v2-cancel.json');
    delete top.requestContext.routeKey;
    top.rawPath = '/prod/cancel';
    top.requestContext.http.path = '/prod/cancel';
    expect(read(top)).toMatchObject({ route: 'POST /cancel' });

    const inContext = loadEvent('http-v2-cancel.json');
    delete inContext.routeKey;
    inContext.rawPath = '/prod/cancel';
    inContext.requestContext.http.path = '/prod/cancel';
    expect(read(inContext)).toMatchObject({ route: 'POST /cancel' });
  });

  it("names a catch-all route of payload 2.0 by the request's own method", () => {
    const event = loadEvent('http-v2-cancel.json');
    event.routeKey = '$default';
    event.requestContext.routeKey = '$default';
    event.requestContext.http.method = 'get';
    expect(read(event)).toMatchObject({ route: 'GET /cancel' });
  });

  it('names a request with no method and no path POST / rather than an empty route', () => {
    const event = loadEvent('http-v2-cancel.json');
    event.routeKey = '$default';
    event.requestContext.routeKey = '$default';
    delete event.requestContext.http.method;
    delete event.requestContext.http.path;
    delete event.rawPath;
    expect(read(event)).toMatchObject({ route: 'POST /' });
  });
});
