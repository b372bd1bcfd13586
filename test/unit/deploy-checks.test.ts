import { describe, expect, it } from 'vitest';
import { type DeployedFunction, deploymentProblems } from '../../lib/lambda/deploy-checks.ts';

const fn = (name: string, reservedConcurrency: unknown, environment: Record<string, unknown> = {}) =>
  ({ name, reservedConcurrency, environment, sendsToBybit: true }) as DeployedFunction;

describe('deploymentProblems', () => {
  it('passes the defaults: cancelAll 1 × 400 + cancel 2 × 40 + drill 1 × 40 = 520', () => {
    expect(
      deploymentProblems([
        fn('cancel', 2, { BYBIT_IP_REQUESTS_PER_5S: '40' }),
        fn('cancelAll', 1),
        fn('drill', '1', { BYBIT_IP_REQUESTS_PER_5S: '40' }),
        { name: 'heartbeat', environment: {}, sendsToBybit: false },
      ]),
    ).toEqual([]);
  });

  it('passes two cancelAll containers at half the default budget each: 2 × 200 + 2 × 40 + 1 × 40 = 520', () => {
    const half = { BYBIT_IP_REQUESTS_PER_5S: '200' };
    const small = { BYBIT_IP_REQUESTS_PER_5S: '40' };
    expect(
      deploymentProblems([fn('cancelAll', 2, half), fn('cancel', 2, small), fn('drill', 1, small)]),
    ).toEqual([]);
  });

  it('refuses a sum past 600, with its arithmetic, and passes exactly 600', () => {
    const at = (share: string) => [
      fn('cancelAll', 2, { BYBIT_IP_REQUESTS_PER_5S: share }),
      fn('cancel', 1, { BYBIT_IP_REQUESTS_PER_5S: '100' }),
    ];
    expect(deploymentProblems(at('250'))).toEqual([]);
    expect(deploymentProblems(at('251'))).toEqual([
      expect.stringMatching(
        /^IP budget: cancelAll 2 × 251 \+ cancel 1 × 100 = 602 requests per 5 s, above Bybit's 600 per IP/,
      ),
    ]);
  });

  it('refuses a function that sends to Bybit without a reserved concurrency, and counts none that does not', () => {
    expect(deploymentProblems([fn('cancelAll', undefined)])).toEqual([
      expect.stringContaining('function cancelAll: sends to Bybit without a reserved concurrency'),
    ]);
    expect(deploymentProblems([fn('cancelAll', 0)])).toHaveLength(1);
    expect(deploymentProblems([{ name: 'heartbeat', environment: {}, sendsToBybit: false }])).toEqual([]);
  });

  it('refuses a reserved concurrency that is not a whole number of containers', () => {
    for (const reserved of [2.5, 'two', { Ref: 'Concurrency' }]) {
      expect(deploymentProblems([fn('cancelAll', reserved)])).toEqual([
        'function cancelAll: sends to Bybit without a reserved concurrency, so nothing bounds how many containers (each with 400 requests per 5 s) share the IP',
      ]);
    }
  });

  it('reads a number or a YAML boolean as its text, and takes an unresolved reference as unset', () => {
    // A YAML `true` where a count belongs is a mistake to name, not a setting to drop.
    expect(deploymentProblems([fn('cancelAll', 1, { BYBIT_IP_REQUESTS_PER_5S: true })])).toEqual([
      'BYBIT_IP_REQUESTS_PER_5S: "true" is not an integer from 1 to 600 (function cancelAll)',
    ]);
    expect(deploymentProblems([fn('cancelAll', 1, { BYBIT_IP_REQUESTS_PER_5S: 601 })])).toEqual([
      'BYBIT_IP_REQUESTS_PER_5S: "601" is not an integer from 1 to 600 (function cancelAll)',
    ]);
    expect(
      deploymentProblems([fn('cancelAll', 1, { BYBIT_IP_REQUESTS_PER_5S: { Ref: 'IpShare' } })]),
    ).toEqual([]);
  });

  it('names a malformed setting once, with every function that gets it, and skips values that are not text', () => {
    const env = {
      LOG_LEVEL: 'loud',
      DEAD_MANS_SWITCH_BUS_ARN: { 'Fn::Sub': 'arn:…' },
      BYBIT_IP_REQUESTS_PER_5S: 40,
    };
    expect(deploymentProblems([fn('cancel', 1, env), fn('cancelAll', 1, env)])).toEqual([
      'LOG_LEVEL: "loud" is not one of debug, info, warn, error (function cancel, cancelAll)',
    ]);
  });
});
