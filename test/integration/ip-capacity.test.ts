// The deployment keeps the whole stack under Bybit's IP limit (600 requests per 5 s for every key behind one
// Elastic IP): asserted on the packaged template, the same one `serverless deploy` would send.

import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../lib/lambda/config.ts';

type Json = Record<string, unknown>;
const BYBIT_IP_LIMIT = 600;

const template = inject('packaged').template as {
  Resources: Record<string, { Type: string; Properties?: Json }>;
};
/** The functions that send requests to Bybit (a function that only calls other AWS services is not bound). */
const EXCHANGE_FUNCTIONS = ['CancelLambdaFunction', 'CancelAllLambdaFunction', 'DrillLambdaFunction'];
const functions = Object.entries(template.Resources).filter(([id]) => EXCHANGE_FUNCTIONS.includes(id));

describe('the IP limit across containers', () => {
  it('bounds every function by reserved concurrency, so containers × per-container budget stay under 600', () => {
    let total = 0;
    for (const [, fn] of functions) {
      const properties = fn.Properties as Json;
      const containers = Number(properties.ReservedConcurrentExecutions);
      const env = (properties.Environment as { Variables: Record<string, string> }).Variables;
      // The function reads its budget the way it will in AWS: through the config module.
      const share = loadConfig(env).ipRequestsPer5s;
      expect(containers).toBeGreaterThanOrEqual(1);
      total += containers * share;
    }
    expect(functions).toHaveLength(EXCHANGE_FUNCTIONS.length);
    expect(total).toBeLessThan(BYBIT_IP_LIMIT);
  });

  it('does not retry a failed asynchronous run into a ban: no Lambda retries for any function', () => {
    const configs = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::EventInvokeConfig',
    );
    expect(configs).toHaveLength(3);
    for (const config of configs) expect((config.Properties as Json).MaximumRetryAttempts).toBe(0);
  });
});
