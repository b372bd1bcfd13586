// Cancel-all of one scope (webhook `POST /cancel-all` with a category, or direct invocation), and the kill
// switch: the same without a category, or the EventBridge kill-switch event. `{"drill": true}` (webhook or
// direct) and the drill schedule run the kill-switch drill instead: read-only, no cancel.

import middy from '@middy/core';
import { cancelScope } from '../lib/cancel/cancel-order.ts';
import { discoveredSettleCoins, drill } from '../lib/cancel/drill.ts';
import { killSwitch } from '../lib/cancel/kill-switch.ts';
import { type Invocation, type Routes, route, warmUp } from '../lib/lambda/app.ts';
import { requestedCancelAll } from '../lib/lambda/metrics.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import {
  type CancelAllRequest,
  type DrillRequest,
  parseCancelAllRequest,
  parseDrillInput,
  parseKillSwitchDetail,
} from '../lib/lambda/requests.ts';

function cancelAll(request: CancelAllRequest, run: Invocation) {
  const { app, deadline } = run;
  if (request.kind === 'drill') return runDrill(request, run);
  if (request.kind === 'scope')
    return cancelScope(app.exchange, request.account, request.params, deadline, app.clock);
  const { kind: _, ...everything } = request;
  return killSwitch(app.exchange, app.config.scope, everything, deadline, app.clock);
}

function runDrill({ accounts }: DrillRequest, { app, deadline }: Invocation) {
  const options = {
    categories: app.config.scope.categories,
    settleCoins: discoveredSettleCoins(app.exchange, app.config.scope),
    expiryDays: app.config.drill.expiryDays,
    // The enforced halt's master key, when HALT_MASTER_SECRET_ID names one.
    master: () => app.exchange.masterClient(),
  };
  return drill(app.exchange, options, accounts ? { accounts } : {}, deadline, app.clock);
}

/** The triggers this function serves (exported so that tests can run them on an app of their own). */
export const cancelAllRoutes: Routes = {
  request: (body, run) => cancelAll(parseCancelAllRequest(body), run),
  schedule: (input, run) => runDrill(parseDrillInput(input), run),
  killSwitch: (detail, run) => {
    // Never refused: what cannot be read is ignored, logged, and said in the report.
    const request = parseKillSwitchDetail(detail);
    if (request.ignored.length > 0)
      run.app.logger.warn('kill-switch detail partly ignored', { ignored: request.ignored });
    // Every later log line says who fired it (the dead man's switch says `deadMansSwitch`).
    if (request.origin) run.app.logger.append({ origin: request.origin });
    return cancelAll(request, run);
  },
  operation: requestedCancelAll,
};

// A provisioned environment reads the keys and lists the instruments now, before the kill switch arrives.
await warmUp();

export const handler = middy(route(cancelAllRoutes)).use(invocationLog());
