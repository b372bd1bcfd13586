// The deployment keeps the whole stack under Bybit's IP limit (600 requests per 5 s for every key behind one
// Elastic IP): asserted on the packaged template, the same one `serverless deploy` would send.

import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../lib/lambda/config.ts';
import { EXCHANGE_FUNCTIONS } from '../support/template.ts';

type Json = Record<string, unknown>;
const BYBIT_IP_LIMIT = 600;

const template = inject('packaged').template as {
  Resources: Record<string, { Type: string; Properties?: Json }>;
};
/** The functions that send requests to Bybit (a function that only calls other AWS services is not bound). */
const exchangeFunctions: readonly string[] = EXCHANGE_FUNCTIONS;
const functions = Object.entries(template.Resources).filter(([id]) => exchangeFunctions.includes(id));

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

  it('does not retry a failed asynchronous run into a ban: no Lambda retries for any function that calls Bybit', () => {
    const configs = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig')
      .map((r) => r.Properties as Json);
    // One for each of them (an asynchronous invocation of any other function would get Lambda's two retries),
    // and one for the telegram function's jobs, which may start a reset or a drill (never run twice).
    expect(configs.map((c) => (c.FunctionName as { Ref?: string }).Ref).sort()).toEqual(
      [...EXCHANGE_FUNCTIONS, 'TelegramLambdaFunction'].sort(),
    );
    for (const config of configs) expect(config.MaximumRetryAttempts).toBe(0);
  });
});
