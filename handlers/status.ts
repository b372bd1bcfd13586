// How the stack stands (signed `POST /status`): halt, the dead man's switch, the last kill switch, the last
// drill. Read-only; only the signature authenticates it, never the passphrase.

import middy from '@middy/core';
import { route } from '../lib/lambda/app.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import { parseStatusRequest } from '../lib/lambda/requests.ts';
import { readStatus } from '../lib/lambda/status.ts';

const statusHandler = route({
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
});

export const handler = middy(statusHandler).use(invocationLog());
