// The middy middleware every handler uses: the request id and cold start on every log line, one line when an
// invocation ends or fails (with the failure's facts), and its metrics as one EMF line (with what the IP
// budget, the state table and the notifications did during it). A failure to build the app itself is logged
// too, by a logger that needs no configuration.

import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { createLogger, describeError } from '../log.ts';
import { type App, currentApp } from './app.ts';
import { emfLine, metricsOf, type Operation } from './metrics.ts';
import { DRILL_ACTION, readTrigger } from './triggers.ts';

export function invocationLog(app: () => App = currentApp): MiddlewareObj<unknown, unknown, Error, Context> {
  let coldStart = true;
  let started = 0;
  let budget = { waits: 0, refusals: 0 };
  return {
    before: ({ context }) => {
      const current = app();
      current.logger.reset({ requestId: context.awsRequestId, function: context.functionName, coldStart });
      coldStart = false;
      started = current.clock.now();
      budget = { waits: current.ipBudget.waits, refusals: current.ipBudget.refusals };
      current.reported = { notifyFailures: 0, stateFailures: 0 };
    },
    after: ({ event, context, response }) => {
      const current = app();
      const durationMs = current.clock.now() - started;
      const statusCode = (response as { statusCode?: number } | undefined)?.statusCode;
      current.logger.info('invocation finished', { durationMs, ...(statusCode ? { statusCode } : {}) });
      emit(current, event, context.awsRequestId, { result: response }, durationMs, budget);
    },
    onError: ({ event, context, error }) => {
      let current: App;
      try {
        current = app();
      } catch (failure) {
        // The app could not be built (the same error, most likely): say so with what needs no configuration.
        createLogger({ service: 'bybit-cancel' }).error('invocation failed', {
          requestId: context.awsRequestId,
          function: context.functionName,
          ...describeError(failure),
        });
        return;
      }
      const durationMs = current.clock.now() - started;
      current.logger.error('invocation failed', { durationMs, ...describeError(error) });
      emit(current, event, context.awsRequestId, { error }, durationMs, budget);
    },
  };
}

function emit(
  app: App,
  event: unknown,
  requestId: string,
  outcome: { result?: unknown; error?: unknown },
  durationMs: number,
  budgetBefore: { waits: number; refusals: number },
): void {
  const metrics = {
    ...metricsOf(outcome, durationMs, operationOf(app, event)),
    ipBudgetWaits: app.ipBudget.waits - budgetBefore.waits,
    ipRefusals: app.ipBudget.refusals - budgetBefore.refusals,
    ...app.reported,
  };
  app.write(emfLine(app.config.metricsNamespace, metrics, app.clock.now(), requestId));
}

/** The operation an event asks for, when no report says it (the work failed before producing one). */
function operationOf(app: App, event: unknown): Operation {
  try {
    const trigger = readTrigger(event, app.config).type;
    if (trigger === 'schedule' && (event as { action?: unknown }).action === DRILL_ACTION) return 'drill';
    return trigger === 'killSwitch' ? 'killSwitch' : trigger === 'schedule' ? 'sweep' : 'unknown';
  } catch {
    return 'unknown';
  }
}
