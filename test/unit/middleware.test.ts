// The invocation middleware when the app itself cannot be built: the failure is still logged, with the
// request id, by a logger that needs no configuration, and the invocation fails with the original error.

import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.ts';
import { invocationLog } from '../../lib/lambda/middleware.ts';
import { lambdaContext } from '../support/events.ts';

describe('invocationLog', () => {
  it('logs a failure to build the app, and fails the invocation with that error', async () => {
    const failure = new ConfigError('BYBIT_BASE_URL: "api.bybit.com" is not an http(s) URL');
    const handler = middy(async () => 'never').use(
      invocationLog(() => {
        throw failure;
      }),
    );
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write;
    const context = lambdaContext(10_000, 'bybit-cancel-prod-cancelAll');
    let thrown: unknown;
    try {
      await handler({}, context);
    } catch (error) {
      thrown = error;
    } finally {
      process.stdout.write = write;
    }
    expect(thrown).toBe(failure);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'invocation failed',
        service: 'bybit-cancel',
        requestId: context.awsRequestId,
        function: 'bybit-cancel-prod-cancelAll',
        errorType: 'ConfigError',
        errorMessage: failure.message,
      }),
    ]);
  });
});
