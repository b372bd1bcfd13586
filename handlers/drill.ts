// The kill-switch drill, and nothing else: its daily schedule (`{"action": "drill"}`), a webhook drill that
// cancelAll hands over the same way, and a direct invocation (`{"drill": true}`, `npm run kill-switch --
// --drill`). Read-only; a problem fails the invocation, so the alarms and the failure queue hear of it. Any
// other event is refused: a direct `{}` is never a kill switch here, and no HTTP route reaches this function.

import middy from '@middy/core';
import { discoveredSettleCoins, drill } from '../lib/cancel/drill.ts';
import { type Invocation, route } from '../lib/lambda/app.ts';
import { masterCheckOf } from '../lib/lambda/master-check.ts';
import { invocationLog } from '../lib/lambda/middleware.ts';
import { type DrillRequest, parseDrillInput, parseDrillRequest } from '../lib/lambda/requests.ts';

function runDrill({ accounts }: DrillRequest, { app, deadline }: Invocation) {
  const options = {
    categories: app.config.scope.categories,
    settleCoins: discoveredSettleCoins(app.exchange, app.config.scope),
    expiryDays: app.config.drill.expiryDays,
    // The enforced halt's master key, when HALT_MASTER_SECRET_ID names one: checked where it may be read.
    master: masterCheckOf({
      exchange: app.exchange,
      expiryDays: app.config.drill.expiryDays,
      clock: app.clock,
      functionName: app.config.masterKeyCheckFunction,
      functions: app.functions,
    }),
  };
  return drill(app.exchange, options, accounts ? { accounts } : {}, deadline, app.clock);
}

const drillHandler = route({
  request: (body, run) => runDrill(parseDrillRequest(body), run),
  schedule: (input, run) => runDrill(parseDrillInput(input), run),
  operation: () => 'drill',
  http: false,
});

export const handler = middy(drillHandler).use(invocationLog());
