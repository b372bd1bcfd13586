// Cancel one order (webhook `POST /cancel` or direct invocation), and the scheduled stale-order sweep.

import middy from '@middy/core';
import { route } from '../lib/app.ts';
import { cancelOrder } from '../lib/cancel-order.ts';
import { invocationLog } from '../lib/middleware.ts';
import { parseCancelRequest, parseSweepInput } from '../lib/requests.ts';
import { sweepOptions, sweepStaleOrders } from '../lib/sweep.ts';

const cancel = route({
  request: (body, { app, deadline }) => cancelOrder(app.exchange, parseCancelRequest(body), deadline),
  schedule: (input, { app, deadline }) =>
    sweepStaleOrders(
      app.exchange,
      app.config.scope,
      sweepOptions(app.config.sweep, parseSweepInput(input)),
      deadline,
      app.clock,
    ),
});

export const handler = middy(cancel).use(invocationLog());
