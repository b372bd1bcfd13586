// The middy middleware every handler uses: one log line per invocation start and end (with the request id
// and cold start), and the failure logged with its facts before Lambda sees it.

import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type App, currentApp } from './app.ts';
import { describeError } from './log.ts';

export function invocationLog(app: () => App = currentApp): MiddlewareObj<unknown, unknown, Error, Context> {
  let coldStart = true;
  let started = 0;
  return {
    before: ({ context }) => {
      const { logger, clock } = app();
      logger.reset({ requestId: context.awsRequestId, function: context.functionName, coldStart });
      coldStart = false;
      started = clock.now();
    },
    after: ({ response }) => {
      const { logger, clock } = app();
      const statusCode = (response as { statusCode?: number } | undefined)?.statusCode;
      logger.info('invocation finished', {
        durationMs: clock.now() - started,
        ...(statusCode ? { statusCode } : {}),
      });
    },
    onError: ({ error }) => {
      const { logger, clock } = app();
      logger.error('invocation failed', { durationMs: clock.now() - started, ...describeError(error) });
    },
  };
}
