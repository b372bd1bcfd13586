import { describe, expect, it } from 'vitest';
import { apiBaseUrl, routeOf } from '../../scripts/local/webhook.ts';

describe('routeOf: the route npm run sign signs for when --path is not given', () => {
  it.each([
    [{ ttlSeconds: 600 }, '/heartbeat'],
    [{ disarm: true }, '/heartbeat'],
    [{ ttlSeconds: 300, accounts: ['main'], reason: 'grid bot' }, '/heartbeat'],
    [{ category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'tv-1' }, '/cancel'],
    [{ category: 'spot', symbol: 'BTCUSDT', orderId: '1' }, '/cancel'],
    [{ category: 'linear', settleCoin: 'USDT' }, '/cancel-all'],
    [{ reason: 'manual' }, '/cancel-all'],
    [{}, '/cancel-all'],
    [null, '/cancel-all'],
  ])('%j → %s', (body, route) => {
    expect(routeOf(body)).toBe(route);
  });
});

describe('apiBaseUrl: the --url npm run sign accepts', () => {
  it('keeps a base URL, without its trailing slash', () => {
    expect(apiBaseUrl('https://abc123.execute-api.ap-southeast-1.amazonaws.com/')).toBe(
      'https://abc123.execute-api.ap-southeast-1.amazonaws.com',
    );
    expect(apiBaseUrl('http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000');
    expect(apiBaseUrl('https://api.example.com/bybit/')).toBe('https://api.example.com/bybit');
  });

  it.each([
    ['not a url', 'is not a URL'],
    ['abc123.execute-api.ap-southeast-1.amazonaws.com', 'is not a URL'],
    ['ftp://example.com', 'is not an http(s) URL'],
    ['https://example.com/?stage=prod', 'has a query'],
    ['https://user:pw@example.com', 'credentials'],
    ['https://abc123.execute-api.ap-southeast-1.amazonaws.com/cancel-all', 'ends with a route'],
  ])('refuses %s', (value, message) => {
    const result = apiBaseUrl(value);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toContain(message);
  });
});
