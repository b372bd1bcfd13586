// The local stack (exchange emulator + Secrets Manager endpoint) in a process of its own, so that the
// emulator's CPU does not count against the function being measured. Driven by remote-stack.ts over IPC:
// it starts with BENCH_STACK_OPTIONS (StackOptions as JSON), sends `ready` with the functions' environment,
// answers one message per call, and stops when the parent disconnects. With BENCH_STACK_REPORTING=1 it also
// runs the state table (dynalite) and the reports topic (the SNS stand-in), as a deployed stack has them.

import { stateTableDefinition } from '../../lib/lambda/state.ts';
import type { EmulatorKeySettings, OrderSeed, RateLimits, StrategySeed } from '../../test/emulator/index.ts';
import { startDynamo } from '../../test/support/dynamodb.ts';
import { startSns } from '../../test/support/sns.ts';
import { startStack } from '../../test/support/stack.ts';
import type { StackCall } from './remote-stack.ts';

if (!process.send) throw new Error('stack-process must be started with an IPC channel (fork)');
const send = process.send.bind(process);

const stack = await startStack(JSON.parse(process.env.BENCH_STACK_OPTIONS ?? '{}'));
const { emulator } = stack;
const reporting = process.env.BENCH_STACK_REPORTING === '1' ? await startReporting() : undefined;

/** The state table and the reports topic, and the environment that points the functions at them. */
async function startReporting() {
  const table = stateTableDefinition('bybit-cancel-bench-state');
  const dynamo = await startDynamo({ tables: [table] });
  const sns = await startSns();
  const env = {
    STATE_TABLE: table.TableName,
    REPORTS_TOPIC_ARN: sns.createTopic('bybit-cancel-bench-reports'),
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
    AWS_ENDPOINT_URL_SNS: sns.url,
  };
  return { env, close: () => Promise.all([dynamo.close(), sns.close()]) };
}

/** What the parent can ask; answers are plain JSON (no live emulator objects cross the channel). */
const calls = {
  addAccount: (account: { uid: string; apiKey: string; apiSecret: string; parentUid?: string }) =>
    emulator.addAccount(account),
  setKey: (apiKey: string, settings: EmulatorKeySettings) => emulator.setKey(apiKey, settings),
  addOrders: (apiKey: string, seeds: OrderSeed[]) => emulator.addOrders(apiKey, seeds).map((o) => o.orderId),
  addStrategies: (apiKey: string, seeds: StrategySeed[]) =>
    emulator.addStrategies(apiKey, seeds).map((s) => s.strategyId),
  liveStrategyCount: () => emulator.strategies().filter((s) => s.status !== 3 && s.status !== 4).length,
  pauseStrategy: (strategyId: string) => emulator.pauseStrategy(strategyId),
  openCount: (apiKey?: string) => emulator.openOrders(apiKey).length,
  setLatency: (ms: number) => emulator.setLatency(ms),
  setRateLimits: (limits: RateLimits | undefined) => emulator.setRateLimits(limits),
  reset: () => emulator.reset(),
  resetRequests: () => emulator.resetRequests(),
  /** Requests of one key since the last reset: count per path, and answers per retCode. */
  requestStats: (apiKey?: string) => {
    const byPath: Record<string, number> = {};
    const byRetCode: Record<string, number> = {};
    let items = 0;
    const mine = emulator.requests.filter((r) => apiKey === undefined || r.apiKey === apiKey);
    for (const r of mine) {
      byPath[r.path] = (byPath[r.path] ?? 0) + 1;
      const code = String(r.retCode ?? `http ${r.httpStatus}`);
      byRetCode[code] = (byRetCode[code] ?? 0) + 1;
      items += r.batchSize ?? 0;
    }
    return { total: mine.length, byPath, byRetCode, batchItems: items };
  },
  requestLog: () =>
    emulator.requests.map(({ at, path, apiKey, httpStatus }) => ({ at, path, apiKey, httpStatus })),
} satisfies Record<StackCall, (...args: never[]) => unknown>;

process.on('message', (message: { id: number; call: StackCall; args: unknown[] }) => {
  const { id, call, args } = message;
  try {
    // JSON turns an `undefined` argument into null: put it back.
    const given = args.map((a) => (a === null ? undefined : a));
    const result = (calls[call] as (...a: unknown[]) => unknown)(...given);
    send({ id, result: result ?? null });
  } catch (error) {
    send({ id, error: (error as Error).message });
  }
});
process.on('disconnect', () => {
  Promise.all([stack.close(), reporting?.close()]).then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
send({
  id: 0,
  ready: {
    env: { ...stack.env, ...reporting?.env },
    accounts: stack.accounts,
    ...(stack.master ? { master: stack.master } : {}),
  },
});
