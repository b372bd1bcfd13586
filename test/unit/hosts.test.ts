// Which Bybit a base URL reaches. The hosts are written here from the docs, not from lib/bybit/hosts.ts:
// docs/v5/guide.mdx ("REST API Base Endpoint") for mainnet, its regional hosts and testnet;
// docs/v5/demo.mdx for demo trading.

import { describe, expect, it } from 'vitest';
import { DEMO_HOSTS, MAINNET_HOSTS, networkOf, TESTNET_HOSTS } from '../../lib/bybit/hosts.ts';

const MAINNET = [
  'https://api.bybit.com',
  'https://api.bytick.com',
  'https://api.bybit.nl',
  'https://api.bybit.tr',
  'https://api.bybit.kz',
  'https://api.bybitgeorgia.ge',
  'https://api.bybit.ae',
  'https://api.bybit.eu',
  'https://api.bybit.id',
  'https://api.manepa.jp',
];

describe('networkOf', () => {
  it('names every mainnet host the guide lists as mainnet, and lists no other', () => {
    expect(MAINNET.map(networkOf)).toEqual(MAINNET.map(() => 'mainnet'));
    expect([...MAINNET_HOSTS].sort()).toEqual(MAINNET.map((url) => new URL(url).hostname).sort());
  });

  it('names the testnet and demo hosts', () => {
    expect(networkOf('https://api-testnet.bybit.com')).toBe('testnet');
    expect(networkOf('https://api-testnet.manepa.jp')).toBe('testnet');
    expect(networkOf('https://api-demo.bybit.com')).toBe('demo');
    expect(TESTNET_HOSTS).toEqual(['api-testnet.bybit.com', 'api-testnet.manepa.jp']);
    expect(DEMO_HOSTS).toEqual(['api-demo.bybit.com']);
  });

  it('reads the host whatever the case, port, path or credentials of the URL', () => {
    expect(networkOf('HTTPS://API.BYBIT.COM/v5/order/cancel-all')).toBe('mainnet');
    expect(networkOf('https://api-testnet.bybit.com:443/')).toBe('testnet');
    expect(networkOf('https://user@api-demo.bybit.com/x?y=1')).toBe('demo');
  });

  it('names this machine: localhost, ::1 and all of 127.0.0.0/8', () => {
    expect(networkOf('http://localhost:8080')).toBe('loopback');
    expect(networkOf('http://LOCALHOST')).toBe('loopback');
    expect(networkOf('http://[::1]:9000')).toBe('loopback');
    expect(networkOf('http://127.0.0.1:3000')).toBe('loopback');
    expect(networkOf('http://127.255.10.2')).toBe('loopback');
  });

  it('treats any other host, a look-alike, or what is not a URL at all as unknown (handled as mainnet)', () => {
    for (const url of [
      'https://proxy.example.com',
      'https://api.bybit.com.example.com',
      'https://xapi.bybit.com',
      'https://api-testnet.bybit.co',
      'http://128.0.0.1',
      'http://10.127.0.0.1',
      'http://[::2]',
      'http://localhost.example.com',
    ]) {
      expect([url, networkOf(url)]).toEqual([url, 'unknown']);
    }
    expect(networkOf('api.bybit.com')).toBe('unknown');
    expect(networkOf('')).toBe('unknown');
  });

  it('reads every octet of a 127.x.x.x address, up to three digits each', () => {
    expect(networkOf('http://127.0.0.10:3000')).toBe('loopback');
    expect(networkOf('http://127.10.200.255')).toBe('loopback');
  });

  it('takes a DNS name that merely starts like a loopback address for what it is: unknown', () => {
    // Such a name resolves wherever its owner says, not to this machine.
    expect(networkOf('https://127.0.0.1.example.com')).toBe('unknown');
    expect(networkOf('https://127.0.0.1.nip.io:8443')).toBe('unknown');
  });
});
