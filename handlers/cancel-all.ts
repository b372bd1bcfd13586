// Cancel-all of one scope (webhook `POST /cancel-all` with a category, or direct invocation), and the kill
// switch: the same without a category, or the EventBridge kill-switch event; the kill switch also halts the
// accounts it covers (lib/cancel/halt.ts), in the state table. `{"drill": true}` (webhook or
// direct) and the drill schedule run the kill-switch drill instead: read-only, no cancel.

import middy from '@middy/core';
import { cancelScope } from '../lib/cancel/cancel-order.ts';
import { discoveredSettleCoins, drill } from '../lib/cancel/drill.ts';
import { killSwitch } from '../lib/cancel/kill-switch.ts';
import { haltSetup, type Invocation, route, warmUp } from '../lib/lambda/app.ts';
import { masterCheckOf } from '../lib/lambda/master-check.ts';
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
  // Every kill switch halts what it covers (unless it says "halt": false), recorded with its event's id.
  const eventId = run.eventId ? { eventId: run.eventId } : {};
  return killSwitch(
    app.exchange,
    app.config.scope,
    { ...everything, ...eventId },
    deadline,
    app.clock,
    haltSetup(app),
  );
}

function runDrill({ accounts }: DrillRequest, { app, deadline }: Invocation) {
  const options = {
    categories: app.config.scope.categories,
    settleCoins: discoveredSettleCoins(app.exchange, app.config.scope),
    expiryDays: app.config.drill.expiryDays,
    // The enforced halt's master key, when HALT_MASTER_SECRET_ID names one: checked where it may be read.
    master: masterCheckOf({
      exchange: app.exchange,
      expiryDays: app.config.drill.expiryDays,
      clock: app.clock,
      functionName: app.config.masterKeyCheckFunction,
    }),
  };
  return drill(app.exchange, options, accounts ? { accounts } : {}, deadline, app.clock);
}

const cancelAllHandler = route({
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
});

// A provisioned environment reads the keys and lists the instruments now, before the kill switch arrives.
await warmUp();

export const handler = middy(cancelAllHandler).use(invocationLog());
