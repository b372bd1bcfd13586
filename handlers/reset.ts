// The halt's reset (signed `POST /reset`, or a direct invocation `{accounts?, by?}`): restores the keys the
// halt made read-only and clears it (lib/cancel/halt.ts resetHalt). Only the signature authenticates the
// route (bound to it), never the passphrase. A direct invocation `{"check": "master", …}` is the drill's read-only check
// of the master key, which only this function and the kill switch may read.

import middy from '@middy/core';
import { checkMasterKey } from '../lib/cancel/drill.ts';
import { resetHalt } from '../lib/cancel/halt.ts';
import { ConfigError } from '../lib/errors.ts';
import { haltSetup, type Invocation, route } from '../lib/lambda/app.ts';
import { MASTER_CHECK } from '../lib/lambda/master-check.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import { parseMasterCheckRequest, parseResetRequest } from '../lib/lambda/requests.ts';

function reset(body: unknown, { app, deadline }: Invocation) {
  const request = parseResetRequest(body);
  const setup = haltSetup(app);
  if (!setup) throw new ConfigError('STATE_TABLE is not set: no halt can be read, so none can be reset');
  return resetHalt(setup, request, deadline);
}

function checkMaster(body: unknown, { app, deadline }: Invocation) {
  return checkMasterKey(() => app.exchange.masterClient(), parseMasterCheckRequest(body), {
    expiryDays: app.config.drill.expiryDays,
    deadline,
    clock: app.clock,
  });
}

const isCheck = (body: unknown) => (body as { check?: unknown } | null)?.check === MASTER_CHECK;

const resetHandler = route({
  request: (body, run) =>
    // The check is the drill's, by direct invocation only: POST /reset resets, nothing else.
    run.trigger === 'direct' && isCheck(body) ? checkMaster(body, run) : reset(body, run),
  operation: (body) => (isCheck(body) ? 'masterCheck' : 'reset'),
  signedOnly: true,
  routeBoundOnly: true,
});

export const handler = middy(resetHandler).use(invocationLog());
