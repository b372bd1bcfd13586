// Cancel one order (webhook `POST /cancel` or direct invocation), and the scheduled stale-order sweep.

import middy from '@middy/core';
import { cancelOrder } from '../lib/cancel/cancel-order.ts';
import { sweepStaleOrders } from '../lib/cancel/sweep.ts';
import { route } from '../lib/lambda/app.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import { parseCancelRequest, parseSweepInput, sweepOptions } from '../lib/lambda/requests.ts';

const cancel = route({
  request: (body, { app, deadline }) =>
    cancelOrder(app.exchange, parseCancelRequest(body), deadline, app.clock),
  operation: () => 'cancel',
  schedule: (input, { app, deadline }) =>
    sweepStaleOrders(
      app.exchange,
      app.config.scope,
      sweepOptions(app.config.sweep, parseSweepInput(input), (field, message) =>
        app.logger.warn('sweep input ignored', { field, message }),
      ),
      deadline,
      app.clock,
    ),
});

export const handler = middy(cancel).use(invocationLog());
