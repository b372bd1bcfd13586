// Cancel-all of one scope (webhook `POST /cancel-all` with a category, or direct invocation), and the kill
// switch: the same without a category, or the EventBridge kill-switch event; the kill switch also halts the
// accounts it covers (lib/cancel/halt.ts), in the state table. `{"drill": true}` (webhook or direct) is handed
// to the drill function (handlers/drill.ts) and answered at once: this function's one container stays free for
// a kill switch.

import middy from '@middy/core';
import { cancelScope } from '../lib/cancel/cancel-order.ts';
import { killSwitch } from '../lib/cancel/kill-switch.ts';
import { haltSetup, type Invocation, type Routes, route, warmUp } from '../lib/lambda/app.ts';
import { requestedCancelAll } from '../lib/lambda/metrics.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import {
  type CancelAllRequest,
  parseCancelAllRequest,
  parseKillSwitchDetail,
} from '../lib/lambda/requests.ts';

function cancelAll(request: CancelAllRequest, run: Invocation) {
  const { app, deadline } = run;
  if (request.kind === 'drill') return app.drillFunction.start(request);
  if (request.kind === 'scope')
    return cancelScope(app.exchange, request.account, request.params, deadline, app.clock);
  const { kind: _, ...everything } = request;
  // Never refused over a setting it does not need: the ones ignored are said in the report.
  const ignored = [...(everything.ignored ?? []), ...run.ignoredSettings];
  // Every kill switch halts what it covers (unless it says "halt": false), recorded with its event's id.
  const eventId = run.eventId ? { eventId: run.eventId } : {};
  return killSwitch(
    app.exchange,
    app.config.scope,
    { ...everything, ignored, ...eventId },
    deadline,
    app.clock,
    haltSetup(app),
  );
}

/** The triggers this function serves (exported so that tests can run them on an app of their own). */
export const cancelAllRoutes: Routes = {
  request: (body, run) => cancelAll(parseCancelAllRequest(body), run),
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
