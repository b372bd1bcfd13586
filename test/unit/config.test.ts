import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import { loadConfig } from '../../lib/lambda/config.ts';

describe('loadConfig', () => {
  it('applies the named defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.baseUrl).toBe('https://api.bybit.com');
    expect(config.recvWindow).toBe(5000);
    expect(config.secretCacheTtlMs).toBe(300_000);
    expect(config.maxBodyBytes).toBe(16 * 1024);
    expect(config.scope).toEqual({
      categories: ['linear', 'inverse', 'spot', 'option'],
      linearSettleCoins: ['USDT', 'USDC'],
      inverseCoins: ['BTC', 'ETH'],
    });
    expect(config.killSwitch).toEqual({ source: 'bybit.killswitch', detailType: 'Kill Switch' });
  });

  it('reads every kind of value', () => {
    const config = loadConfig({
      BYBIT_BASE_URL: 'https://api-testnet.bybit.com/',
      WEBHOOK_PASSPHRASE_MODE: 'true',
      SCOPE_CATEGORIES: 'linear, spot',
      SCOPE_INVERSE_COINS: 'btc,xrp',
      STALE_ORDER_MAX_AGE_SECONDS: '600',
    });
    expect(config.baseUrl).toBe('https://api-testnet.bybit.com');
    expect(config.webhookPassphraseMode).toBe(true);
    expect(config.scope.categories).toEqual(['linear', 'spot']);
    expect(config.scope.inverseCoins).toEqual(['BTC', 'XRP']);
    expect(config.sweep.maxAgeMs).toBe(600_000);
  });

  it.each([
    ['BYBIT_RECV_WINDOW', 'fast'],
    ['BYBIT_BASE_URL', 'ftp://example.com'],
    ['SWEEP_DRY_RUN', 'maybe'],
    ['SCOPE_CATEGORIES', 'linear,futures'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
