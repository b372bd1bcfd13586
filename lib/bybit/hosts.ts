// Which Bybit a base URL reaches (docs/v5/guide.mdx, "REST API Base Endpoint"): mainnet, where orders are
// real money; testnet; demo trading (separate keys, simulated funds); or an address on this machine (the
// emulator). Anything else may be a proxy in front of mainnet, and is treated as mainnet.

/** Mainnet hosts: `api.bybit.com`, `api.bytick.com`, and the regional ones the guide lists. */
export const MAINNET_HOSTS: readonly string[] = [
  'api.bybit.com',
  'api.bytick.com',
  'api.bybit.nl',
  'api.bybit.tr',
  'api.bybit.kz',
  'api.bybitgeorgia.ge',
  'api.bybit.ae',
  'api.bybit.eu',
  'api.bybit.id',
  'api.manepa.jp',
];
export const TESTNET_HOSTS: readonly string[] = ['api-testnet.bybit.com', 'api-testnet.manepa.jp'];
export const DEMO_HOSTS: readonly string[] = ['api-demo.bybit.com'];

export type Network = 'mainnet' | 'testnet' | 'demo' | 'loopback' | 'unknown';

/** The network `baseUrl` reaches; `unknown` (not a Bybit host we know of) must be handled as mainnet. */
export function networkOf(baseUrl: string): Network {
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return 'unknown';
  }
  if (MAINNET_HOSTS.includes(host)) return 'mainnet';
  if (TESTNET_HOSTS.includes(host)) return 'testnet';
  if (DEMO_HOSTS.includes(host)) return 'demo';
  if (host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host))
    return 'loopback';
  return 'unknown';
}
