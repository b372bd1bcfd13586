// The dead man's switch heartbeat (webhook `POST /heartbeat`): each one moves the one-time schedule that
// fires the kill switch when the bot goes quiet; `"disarm": true` deletes it. While an account it covers is
// halted, it answers 423 and changes nothing (lib/cancel/dead-mans-switch.ts).

import middy from '@middy/core';
import { heartbeat } from '../lib/cancel/dead-mans-switch.ts';
import { route } from '../lib/lambda/app.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import { parseHeartbeatRequest } from '../lib/lambda/requests.ts';

const heartbeatHandler = route({
  request: (body, { app }) =>
    heartbeat(
      app.deadMansSwitch,
      parseHeartbeatRequest(body, app.config.deadMansSwitch.defaultTtlSeconds),
      new Date(app.clock.now()),
      app.state.enabled ? () => app.halts.list() : undefined,
    ),
  operation: () => 'heartbeat',
});

export const handler = middy(heartbeatHandler).use(invocationLog());
