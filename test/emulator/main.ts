/**
 * Standalone emulator for local runs (`npm run emulator`): a demo HMAC account with open orders of every
 * category and kind, and strategy orders a kill switch must stop (a running chase, an untriggered TWAP).
 * EMULATOR_PORT picks the port (default: a free one).
 */

import { DEMO_SYMBOLS, KINDS_BY_CATEGORY } from '../support/orders.ts';
import { startEmulator } from './index.ts';
import type { Category, OrderSeed } from './types.ts';

const DEMO_ACCOUNT = { uid: '100001', apiKey: 'demo-api-key', apiSecret: 'demo-api-secret' };

function demoSeeds(): OrderSeed[] {
  const seeds: OrderSeed[] = [];
  let minutesAgo = 0;
  for (const category of Object.keys(DEMO_SYMBOLS) as Category[]) {
    for (const symbol of DEMO_SYMBOLS[category]) {
      for (const kind of KINDS_BY_CATEGORY[category]) {
        minutesAgo += 1;
        seeds.push({
          category,
          symbol,
          kind,
          orderLinkId: `demo-${minutesAgo}`,
          createdTime: Date.now() - minutesAgo * 60_000,
        });
      }
    }
  }
  return seeds;
}

const port = Number(process.env.EMULATOR_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`EMULATOR_PORT must be a port number, got ${process.env.EMULATOR_PORT}`);
  process.exit(1);
}

const emulator = await startEmulator({ port, accounts: [DEMO_ACCOUNT] });
const orders = emulator.addOrders(DEMO_ACCOUNT.apiKey, demoSeeds());
const strategies = emulator.addStrategies(DEMO_ACCOUNT.apiKey, [
  { category: 'UTA_USDT', symbol: 'ETHUSDT', strategyType: 'chaseOrder' },
  {
    category: 'UTA_SPOT',
    symbol: 'BTCUSDT',
    strategyType: 'twap',
    triggerPrice: '150000',
    lastPrice: '95000',
  },
]);

console.log(`Bybit V5 emulator listening on ${emulator.url}`);
console.log(
  `demo account: uid ${DEMO_ACCOUNT.uid}, apiKey ${DEMO_ACCOUNT.apiKey}, apiSecret ${DEMO_ACCOUNT.apiSecret}`,
);
console.log(`${orders.length} open orders:`);
for (const o of orders) {
  console.log(`  ${o.category.padEnd(7)} ${o.symbol.padEnd(24)} ${o.kind.padEnd(22)} ${o.orderId}`);
}
console.log(`${strategies.length} strategy orders (a running one places its order again after a cancel):`);
for (const s of strategies) {
  console.log(
    `  ${s.category.padEnd(7)} ${s.symbol.padEnd(24)} ${s.strategyType} status ${s.status} ${s.strategyId}`,
  );
}

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  emulator.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
