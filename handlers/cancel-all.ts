// Cancel-all of one scope (webhook `POST /cancel-all` with a category, or direct invocation), and the kill
// switch: the same without a category, or the EventBridge kill-switch event.

import middy from '@middy/core';
import { cancelScope } from '../lib/cancel/cancel-order.ts';
import { killSwitch } from '../lib/cancel/kill-switch.ts';
import { type Invocation, route } from '../lib/lambda/app.ts';
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
  killSwitch: (detail, run) => {
    // Never refused: what cannot be read is ignored, logged, and said in the report.
    const request = parseKillSwitchDetail(detail);
    if (request.ignored.length > 0)
      run.app.logger.warn('kill-switch detail partly ignored', { ignored: request.ignored });
    return cancelAll(request, run);
  },
});

export const handler = middy(cancelAllHandler).use(invocationLog());
