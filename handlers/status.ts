// How the stack stands (signed `POST /status`): halt, the dead man's switch, the last kill switch, the last
// drill. Read-only; only the route-bound signature authenticates it, never the passphrase.

import middy from '@middy/core';
import { type Routes, route } from '../lib/lambda/app.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import { parseStatusRequest } from '../lib/lambda/requests.ts';
import { readStatus } from '../lib/lambda/status.ts';

/** The triggers this function serves (exported so that tests can run them on an app of their own). */
export const statusRoutes: Routes = {
  request: (body, { app, deadline }) => {
    parseStatusRequest(body);
    return readStatus({
      state: app.state,
      schedule: app.deadMansSwitch,
      stage: app.config.stage,
      deadline,
      now: app.clock.now,
    });
  },
  operation: () => 'status',
  signedOnly: true,
  routeBoundOnly: true,
};

export const handler = middy(route(statusRoutes)).use(invocationLog());
