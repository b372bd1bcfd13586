// Cancel-all of one scope (webhook `POST /cancel-all` with a category, or direct invocation), and the kill
// switch: the same without a category, or the EventBridge kill-switch event.

import middy from '@middy/core';
import { cancelScope } from '../lib/cancel/cancel-order.ts';
import { killSwitch } from '../lib/cancel/kill-switch.ts';
import { type Invocation, route } from '../lib/lambda/app.ts';
import { requestedCancelAll } from '../lib/lambda/metrics.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import {
  type CancelAllRequest,
  parseCancelAllRequest,
  parseKillSwitchDetail,
} from '../lib/lambda/requests.ts';

function cancelAll(request: CancelAllRequest, { app, deadline }: Invocation) {
  if (request.kind === 'scope')
    return cancelScope(app.exchange, request.account, request.params, deadline, app.clock);
  const { kind: _, ...everything } = request;
  return killSwitch(app.exchange, app.config.scope, everything, deadline, app.clock);
}

const cancelAllHandler = route({
  request: (body, run) => cancelAll(parseCancelAllRequest(body), run),
  killSwitch: (detail, run) => cancelAll(parseKillSwitchDetail(detail), run),
  operation: requestedCancelAll,
});

export const handler = middy(cancelAllHandler).use(invocationLog());
