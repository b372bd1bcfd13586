// The dead man's switch heartbeat: a direct invocation with the bot's own IAM identity (the default: nothing an
// outsider can flood), or a signed `POST /heartbeat` (route-bound signature only, never the passphrase). Each
// one moves the one-time schedule that fires the kill switch when the bot goes quiet; `"disarm": true` deletes
// it. Both ways get the same answer, a direct invocation as `{statusCode, …}`. While an account it covers is
// halted, it answers 423 and changes nothing (lib/cancel/dead-mans-switch.ts).

import middy from '@middy/core';
import { heartbeat } from '../lib/cancel/dead-mans-switch.ts';
import { type Routes, route } from '../lib/lambda/app.ts';
import { RecordedAccounts, recordedHalts, StateHeartbeatTurns } from '../lib/lambda/heartbeat-turns.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import { parseHeartbeatRequest } from '../lib/lambda/requests.ts';

/** The triggers this function serves (exported so that tests can run them on an app of their own). */
export const heartbeatRoutes: Routes = {
  request: (body, { app, at, deadline, requestId }) =>
    heartbeat(parseHeartbeatRequest(body, app.config.deadMansSwitch.defaultTtlSeconds), {
      schedule: app.deadMansSwitch,
      turns: new StateHeartbeatTurns(app.state, requestId, app.stateFailed),
      accounts: new RecordedAccounts(app.state, app.stateFailed),
      at,
      deadline,
      clock: app.clock,
      halts: recordedHalts(app.halts, app.state, app.stateFailed),
    }),
  operation: () => 'heartbeat',
  signedOnly: true,
  routeBoundOnly: true,
  directAnswers: true,
};

export const handler = middy(route(heartbeatRoutes)).use(invocationLog());
