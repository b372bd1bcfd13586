// Turns the measurements into one table (goals, met or missed) and the notes that explain it.

import type { ColdStartResult, Variant } from './cold-start.ts';
import type { ConfirmedCancelResult } from './confirmed-cancel.ts';
import type { FleetResult } from './fleet.ts';
import type { HotKillSwitchResult } from './hot-kill-switch.ts';
import type { HaltedResult, KillSwitchResult, StrategyKillSwitchResult } from './kill-switch.ts';
import type { SweepResult } from './sweep.ts';
import { markdownTable } from './table.ts';
import type { TransportResult } from './transport.ts';
import type { WarmResult } from './warm.ts';

export interface Results {
  'cold-start'?: ColdStartResult | { error: string };
  'kill-switch'?: KillSwitchResult | { error: string };
  'kill-switch-strategies'?: StrategyKillSwitchResult | { error: string };
  'hot-kill-switch'?: HotKillSwitchResult | { error: string };
  warm?: WarmResult | { error: string };
  sweep?: SweepResult | { error: string };
  'confirmed-cancel'?: ConfirmedCancelResult | { error: string };
  'fleet-40'?: FleetResult | { error: string };
  'fleet-100'?: FleetResult | { error: string };
  transport?: TransportResult | { error: string };
}

export interface RunInfo {
  totalMs: number;
  node: string;
  cpus: number;
  cpuModel: string;
  date: string;
}

type Row = [measurement: string, ours: string, peer: string, ratio: string, goal: string, verdict: string];

const HEADER = ['Measurement', 'Ours', 'Peer (bybit-api)', 'Ratio', 'Goal', 'Verdict'];

/** `met`, or by how much a value misses an upper (`atMost`) or lower (`atLeast`) limit. */
export function verdict(value: number, limit: number, kind: 'atMost' | 'atLeast', unit = '×'): string {
  const met = kind === 'atMost' ? value <= limit : value >= limit;
  if (met) return 'met';
  const by = Math.abs(value - limit);
  return `missed by ${fixed(by)}${unit} (${fixed(value)}${unit} ${kind === 'atMost' ? '>' : '<'} ${fixed(limit)}${unit})`;
}

/** A duration for people: 0.8 ms, 173 ms, 1.58 s, 51.4 s. */
export function ms(value: number): string {
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 100) return `${Math.round(value)} ms`;
  return `${value.toFixed(1)} ms`;
}

export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

export function fixed(value: number): string {
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

function failed<T extends object>(result: T | { error: string } | undefined): result is { error: string } {
  return result === undefined || 'error' in result;
}

function killSwitchRows(r: KillSwitchResult): { rows: Row[]; notes: string[] } {
  const speedup = r.peer.medianMs / r.ours.medianMs;
  const ofIdeal = r.ours.medianMs / r.idealMs;
  const oursLeft = Math.max(...r.ours.left);
  const peerLeft = Math.max(...r.peer.left);
  const rows: Row[] = [
    [
      `Kill switch: wall time, median of ${r.runs} (${r.accounts} accounts × ${r.scopesPerAccount} scopes, ${count(r.ordersPerRun)} orders, ${r.latencyMs} ms per request)`,
      ms(r.ours.medianMs),
      ms(r.peer.medianMs),
      `peer/ours ${fixed(speedup)}×`,
      '≥ 5× faster than the peer',
      verdict(speedup, 5, 'atLeast'),
    ],
    [
      `Kill switch vs the ideal critical path: (cancel-all + ${r.repeats} repeat past 500 + listing + second listing) × ${r.latencyMs} ms + ${ms(r.secondListingPauseMs)} pause = ${ms(r.idealMs)}`,
      `${fixed(ofIdeal)}× ideal`,
      `${fixed(r.peer.medianMs / r.idealMs)}× ideal`,
      `ours/ideal ${fixed(ofIdeal)}×`,
      '≤ 1.3× ideal',
      verdict(ofIdeal, 1.3, 'atMost'),
    ],
    [
      'Kill switch: orders still open after a run (worst run)',
      `${count(oursLeft)} (verified by listing)`,
      `${count(peerLeft)} (it does not verify)`,
      '—',
      'none left',
      oursLeft === 0 ? 'met (peer: missed)' : `missed: ${count(oursLeft)} left`,
    ],
    ['Kill switch: requests per run (median)', count(r.ours.requests), count(r.peer.requests), '—', '—', '—'],
    ...(r.ours.aftermathMs !== undefined
      ? [
          [
            'Kill switch: of its wall time, after its report was final (log, state table, reports topic; loopback)',
            ms(r.ours.aftermathMs),
            '—',
            '—',
            '— (reported)',
            '—',
          ] as Row,
        ]
      : []),
  ];
  const notes = [
    `Kill switch: the real \`handlers/cancel-all.ts\`, warm (one invocation before the timed ones), invoked with \`events/kill-switch.json\`; the default scope is ${r.scopesPerAccount} cancel-all scopes per account (linear USDT and USDC, inverse BTC and ETH, spot's five order filters, option). Every account has orders of every kind, ${count(r.outsideConfigured ?? 0)} of them on coins no default setting names (inverse XRPUSD, DOTUSD, SOLUSDH27; a SOL option), which only the widest listings find; one account has ${count(r.largestScope)} linear USDT orders, so its scope needs a second cancel-all (Bybit cancels at most 500 per call). Runs start with the option cancel-all window (1/s) free, as a real kill switch would. As deployed, it then records its report in the state table and publishes it to the reports topic (dynalite and the SNS stand-in on loopback, in the emulator's process); its wall time includes that. The peer calls \`cancelAllOrders\` once per scope, account after account, and stops there: it leaves whatever was beyond 500 and on coins it does not name (${count(peerLeft)} orders per run here) and reports success${r.peer.failures > 0 ? `; ${r.peer.failures} of its answers were failures it did not retry` : ''}.`,
  ];
  if (r.ours.failures.length > 0)
    notes.push(`Kill switch failures (ours): ${[...new Set(r.ours.failures)].join('; ')}.`);
  if (r.halted) {
    const halted = haltedRows(r, r.halted);
    rows.push(...halted.rows);
    notes.push(...halted.notes);
  }
  return { rows, notes };
}

function haltedRows(r: KillSwitchResult, h: HaltedResult): { rows: Row[]; notes: string[] } {
  const ofIdeal = h.medianMs / h.idealMs;
  const left = Math.max(...h.left);
  const unflipped = Math.max(...h.unflipped);
  const rows: Row[] = [
    [
      `Kill switch with the enforced halt vs its ideal critical path: max(cancel-all + repeat past 500, key listing + ${h.storeWriteMs} ms write ahead + flip) + listing + ${ms(r.secondListingPauseMs)} pause + second listing = ${ms(h.idealMs)}`,
      `${fixed(ofIdeal)}× ideal (${ms(h.medianMs)})`,
      '— (no halt)',
      `ours/ideal ${fixed(ofIdeal)}×`,
      '≤ 1.3× ideal',
      verdict(ofIdeal, 1.3, 'atMost'),
    ],
    [
      'Kill switch with the enforced halt: orders still open, bot keys still read-write (worst run)',
      `${count(left)}, ${count(unflipped)}`,
      '—',
      '—',
      'none, none',
      left === 0 && unflipped === 0 && h.failures.length === 0 ? 'met' : 'missed',
    ],
    [
      'Kill switch with the enforced halt: wall time against the same kill switch without it (median)',
      `${fixed(h.medianMs / r.ours.medianMs)}× (${ms(h.medianMs)} / ${ms(r.ours.medianMs)})`,
      '—',
      '—',
      '— (reported)',
      '—',
    ],
    ['Kill switch with the enforced halt: requests per run (median)', count(h.requests), '—', '—', '—', '—'],
  ];
  const notes = [
    `Kill switch with the enforced halt: the same accounts and book, each account a sub-account of one master with a bot key beside the kill switch's own (${h.keysPerRun} keys to make read-only per run, within update-sub-api's 5 per second). \`killSwitch\` is called directly in the warm function's process with the master key (HALT_MASTER_SECRET_ID) and the in-memory halt store, each write taking ${h.storeWriteMs} ms as a state-table write would; the routes come with the state table. Per account the halt lists the sub UID's keys, writes each key's prior state, then flips it, beside the first wave; that account's verification waits for its flips. The bot keys are a month old, as in steady state: a key made within a day would first cost a fresh read of the exchange secret (it may be the kill switch's own, just rotated in). At ${r.latencyMs} ms per request the key listing, the write and the flip (${ms(2 * r.latencyMs + h.storeWriteMs)}) outlast the first wave's cancel-all and its repeat, so the halt adds the write to the ideal, nothing more.`,
  ];
  if (h.failures.length > 0)
    notes.push(`Kill switch with the enforced halt, failures: ${[...new Set(h.failures)].join('; ')}.`);
  return { rows, notes };
}

function strategyKillSwitchRows(r: StrategyKillSwitchResult): { rows: Row[]; notes: string[] } {
  const ofIdeal = r.ours.medianMs / r.idealMs;
  const left = Math.max(...r.ours.left);
  const strategiesLeft = Math.max(...r.ours.strategiesLeft);
  const title = `Kill switch with strategy orders (${r.accounts} accounts, ${r.strategiesPerAccount.live} able to trade and ${r.strategiesPerAccount.ended} ended each)`;
  const rows: Row[] = [
    [
      `${title}: wall time, median of ${r.runs}, vs the ideal critical path: (strategy list + stop + strategy list + order listing + second listing) × ${r.latencyMs} ms + ${ms(r.secondListingPauseMs)} pause = ${ms(r.idealMs)}`,
      `${ms(r.ours.medianMs)} (${fixed(ofIdeal)}× ideal)`,
      '—',
      `ours/ideal ${fixed(ofIdeal)}×`,
      '≤ 1.3× ideal',
      verdict(ofIdeal, 1.3, 'atMost'),
    ],
    [
      `${title}: strategies still able to trade, orders still open (worst run)`,
      `${count(strategiesLeft)}, ${count(left)}`,
      '—',
      '—',
      'none left',
      strategiesLeft === 0 && left === 0 && r.ours.failures.length === 0 ? 'met' : 'missed',
    ],
    [
      `${title}: requests per run (median; strategy list and stop among them)`,
      `${count(r.ours.requests)} (${count(r.ours.strategyRequests)})`,
      '—',
      '—',
      '—',
      '—',
    ],
  ];
  const notes = [
    `Kill switch with strategy orders: the kill-switch book and handler above, and on every account a running chase order (Bybit places its order again after a cancel; here 50 ms later), an untriggered TWAP, a paused iceberg and ${r.strategiesPerAccount.ended} strategies that ended. Per account the strategy phase lists once with no filter (every category and status fit one page), stops the three, and lists again; the order listings may only go out after that listing (a running strategy re-places its child until it is stopped), and each is confirmed by a second listing 50 ms after it (the run's own cancels there were acknowledged), so five request latencies and the pause are the critical path, longer than the four of the 700-order scope, which runs beside it. The peer has no notion of strategy orders and is not run here.`,
  ];
  if (r.ours.failures.length > 0)
    notes.push(`Kill switch with strategies, failures: ${[...new Set(r.ours.failures)].join('; ')}.`);
  return { rows, notes };
}

/** Issue 26: a kill switch in a pre-initialised (provisioned) container costs at most this much more than warm. */
const HOT_KILL_SWITCH_GOAL = 1.1;

function hotKillSwitchRows(r: HotKillSwitchResult): { rows: Row[]; notes: string[] } {
  const ratio = r.preInitialised.medianMs / r.warm.medianMs;
  const rows: Row[] = [
    [
      `Kill switch by container, median of ${r.runs} (${r.accounts} accounts, ${count(r.ordersPerRun)} orders, ${r.latencyMs} ms per request): fresh (import + invocation) / pre-initialised / warm (warm after idle)`,
      `${ms(r.fresh.medianMs)} / ${ms(r.preInitialised.medianMs)} / ${ms(r.warm.medianMs)} (${ms(r.warmAfterIdle.medianMs)})`,
      '—',
      `pre-initialised/warm ${fixed(ratio)}×`,
      `≤ ${HOT_KILL_SWITCH_GOAL}× warm`,
      verdict(ratio, HOT_KILL_SWITCH_GOAL, 'atMost'),
    ],
  ];
  const notes = [
    `Kill switch by container: the deployed cancelAll bundle (serverless.yml's esbuild settings) on \`events/kill-switch.json\`, the kill-switch row's book and latency, each container a Node process of its own (\`scripts/bench/hot-runner.ts\`). Fresh: an on-demand cold start, import (${ms(r.fresh.importMedianMs)}) and invocation back to back, Node's own start not counted. Pre-initialised: the container initialised as provisioned concurrency (\`AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency\`: the init, ${ms(r.preInitialised.initMedianMs)} and not counted, reads the keys, builds the clients and lists the instruments), then the event. Warm: that container's next kill switch, its connections from the last one still open; warm after idle: the next, after more than the 4 s its idle connections are kept (the warm case of a kill switch that does not follow another within seconds): pre-initialised/warm after idle ${fixed(r.preInitialised.medianMs / r.warmAfterIdle.medianMs)}×. The emulator speaks plain HTTP on loopback and Secrets Manager answers at once, so TLS set-up and the network time of the secret read, which a real cold start also pays, are not in these numbers.`,
  ];
  if (r.failures.length > 0)
    notes.push(`Kill switch by container, failures: ${[...new Set(r.failures)].join('; ')}.`);
  return { rows, notes };
}

function sweepRows(r: SweepResult): { rows: Row[]; notes: string[] } {
  const oursOfBound = r.ours.ms / r.boundMs;
  const peerOfBound = r.peer.ms / r.boundMs;
  const requests = (s: SweepResult['ours']) => {
    const of = (path: string) => count(s.requests.byPath[path] ?? 0);
    const parts = `${of('/v5/order/cancel-batch')} batch, ${of('/v5/order/cancel')} single, ${of('/v5/order/realtime')} listing`;
    return `${count(s.requests.total)} (${parts})`;
  };
  const rateLimited = (s: SweepResult['ours']) => s.rateLimited + Math.max(0, s.itemRetries);
  const rows: Row[] = [
    [
      `Sweep: ${count(r.stale)} stale of ${count(r.open)} open orders, one linear scope, ${r.cancelRate} cancels/s per endpoint; time (bound ${ms(r.boundMs)})`,
      `${ms(r.ours.ms)} (${fixed(oursOfBound)}× bound)`,
      `${ms(r.peer.ms)} (${fixed(peerOfBound)}× bound)`,
      `peer/ours ${fixed(r.peer.ms / r.ours.ms)}×`,
      '≤ 1.2× bound',
      verdict(oursOfBound, 1.2, 'atMost'),
    ],
    ['Sweep: requests', requests(r.ours), requests(r.peer), '—', '—', '—'],
    [
      'Sweep: 10006 answers / orders sent more than once (over-budget batch items fail one by one)',
      `${count(r.ours.rateLimited)} / ${count(Math.max(0, r.ours.itemRetries))}`,
      `${count(r.peer.rateLimited)} / ${count(Math.max(0, r.peer.itemRetries))}`,
      '—',
      'zero',
      rateLimited(r.ours) === 0 ? 'met' : `missed: ${rateLimited(r.ours)}`,
    ],
    [
      'Sweep: stale orders still open afterwards',
      count(r.ours.left),
      count(r.peer.left),
      '—',
      'none left',
      r.ours.left === 0 ? 'met' : `missed: ${count(r.ours.left)} left`,
    ],
  ];
  const notes = [
    `Sweep: the real \`handlers/cancel.ts\` on \`events/schedule.json\`, warm, with \`SCOPE_CATEGORIES=linear\`, \`SCOPE_LINEAR_SETTLE_COINS=USDT\`, \`STALE_ORDER_MAX_AGE_SECONDS=3600\`; ${count(r.open)} orders over four USDT symbols, every other one over two hours old. The emulator allows ${r.cancelRate} cancels/s and ${r.cancelRate} batch-cancelled orders/s per UID (a batch costs one unit per order, as Bybit charges linear batches); listing keeps its documented 50 requests/s. The bound is ${count(r.stale)} / (${r.cancelRate} + ${r.cancelRate}) per s = ${ms(r.boundMs)}: the two budgets are separate, so cancelling through both at once is the fastest any client can go; listing (${Math.ceil(r.open / 50)} pages before, and again after to verify) is not in it. The peer runs at the same time on its own UID (limits are per UID) over an identical book, cancelling one order per request and waiting for the reset timestamp the headers give when the window is spent; its bound for single cancels alone would be twice ours.`,
  ];
  if (r.ours.error) notes.push(`Sweep (ours) ended with: ${r.ours.error}.`);
  return { rows, notes };
}

function fleetRows(r: FleetResult): { rows: Row[]; notes: string[] } {
  const ofBound = r.ms / r.boundMs;
  const tail = r.tailMs;
  const title = `Fleet kill switch, ${r.accounts} accounts behind one IP (budget ${r.budgetPer5s} per 5 s)`;
  const rows: Row[] = [
    [
      `${title}: wall time (IP bound ${ms(r.boundMs)})`,
      `${ms(r.ms)} (${fixed(ofBound)}× bound)`,
      '—',
      '—',
      '≤ 1.5× IP bound',
      verdict(ofBound, 1.5, 'atMost'),
    ],
    [
      `${title}: wall time against the window bound (${ms(r.windowBoundMs)})`,
      `${fixed(r.ms / r.windowBoundMs)}× window bound`,
      '—',
      '—',
      '— (reported)',
      '—',
    ],
    [
      `${title}: HTTP 403 answers`,
      count(r.forbidden),
      '—',
      '—',
      'zero',
      r.forbidden === 0 ? 'met' : 'missed',
    ],
    [
      `${title}: requests per account (mean / busiest; ${count(r.requests)} in all)`,
      `${fixed(r.perAccount.mean)} / ${count(r.perAccount.max)}`,
      '—',
      '—',
      '≤ 20',
      verdict(r.perAccount.max, 20, 'atMost', ''),
    ],
    [
      `${title}: until every account's first cancel-all was sent`,
      ms(r.firstWaveMs),
      '—',
      '—',
      r.accounts <= 40 ? '≤ 5 s (first window)' : '— (reported)',
      r.accounts <= 40 ? verdict(r.firstWaveMs / 1000, 5, 'atMost', ' s') : '—',
    ],
    [
      `${title}: orders left, outcome`,
      `${count(r.left)}, ${r.ok ? 'success' : 'failed'}`,
      '—',
      '—',
      'none left, success',
      r.left === 0 && r.ok ? 'met' : 'missed',
    ],
  ];
  const notes = [
    `Fleet ${r.accounts}: the real \`handlers/cancel-all.ts\`, warm, on \`events/kill-switch.json\`; ${r.accounts} accounts with ${r.ordersPerAccount} orders each (30 linear, 8 spot of four kinds, 3 inverse), ${r.latencyMs} ms per request, the emulator enforcing Bybit's IP limit (600 per 5 s over every key, 403 and a ban past it). The IP bound is what the container's budget allows at all: the first ${r.budgetPer5s} requests at once, the rest at ${r.budgetPer5s} per 5 s, plus the tail (a cancel-all, a listing, the pause and the second listing): (${count(r.requests)} − ${r.budgetPer5s}) ÷ ${fixed(r.budgetPer5s / 5)}/s + ${ms(tail)} = ${ms(r.boundMs)}. That rate is an average no schedule can keep: the budget is ${r.budgetPer5s} in any 5 s, so request ${r.budgetPer5s + 1} leaves 5 s after the first, whatever the order. The window bound counts that: (⌈${count(r.requests)} ÷ ${r.budgetPer5s}⌉ − 1) × 5 s + ${ms(tail)} = ${ms(r.windowBoundMs)}. Per account: 10 first-wave cancel-alls (linear USDT/USDC, inverse BTC/ETH, spot × 5 filters, option), beside them one strategy listing (no category and no status: one request covers every category and status while an account's strategies fit a page of 50; none here, so no stop and no second strategy listing) and one inverse listing, the five widest listings (linear USDT and USDC, inverse, spot, option), and a second listing of each the run's own cancels emptied (linear USDT and USDC, inverse, spot: Bybit cancels asynchronously, so one empty page after them is not proof).`,
  ];
  if (r.error) notes.push(`Fleet ${r.accounts} ended with: ${r.error}.`);
  return { rows, notes };
}

function coldStartRows(r: ColdStartResult): { rows: Row[]; notes: string[] } {
  const size = (v: Variant) => r.sizes.find((s) => s.variant === v);
  const start = (v: Variant) => r.starts.find((s) => s.variant === v);
  const peerSize = size('peer');
  const peer = start('peer');
  const sdk = start('sdk');
  const empty = start('empty');
  const rows: Row[] = [];
  for (const fn of ['cancel', 'cancelAll'] as const) {
    const s = size(fn);
    if (!s || !peerSize) continue;
    rows.push([
      `Bundle size, \`${fn}\` (deployed zip in brackets; peer: deflated)`,
      `${kib(s.bundleBytes)} (${kib(s.zipBytes)})`,
      fn === 'cancel' ? `${kib(peerSize.bundleBytes)} (${kib(peerSize.zipBytes)})` : '—',
      fn === 'cancel' ? `${fixed(s.bundleBytes / peerSize.bundleBytes)}×` : '—',
      '≤ 150 KiB, AWS SDK excluded',
      verdict(s.bundleBytes / 1024, 150, 'atMost', ' KiB'),
    ]);
  }
  for (const fn of ['cancel', 'cancelAll'] as const) {
    const s = start(fn);
    if (!s || !peer) continue;
    const ratio = s.medianMs / peer.medianMs;
    rows.push([
      `Cold start, \`${fn}\`: process start → first answer, median of ${r.runs} fresh processes (import in brackets)`,
      `${ms(s.medianMs)} (${ms(s.loadedMedianMs)})`,
      fn === 'cancel' ? `${ms(peer.medianMs)} (${ms(peer.loadedMedianMs)})` : '—',
      `ours/peer ${fixed(ratio)}×`,
      '≤ 0.5× the peer',
      verdict(ratio, 0.5, 'atMost'),
    ]);
  }
  const ours = start('cancel');
  if (ours && peer && sdk && empty) {
    rows.push([
      `Cold start baselines: empty handler / a handler that only reads the secret with the AWS SDK`,
      `${ms(empty.medianMs)} / ${ms(sdk.medianMs)}`,
      'same',
      '—',
      '—',
      '—',
    ]);
    const oursOwn = ours.medianMs - sdk.medianMs;
    const peerOwn = peer.medianMs - sdk.medianMs;
    rows.push([
      'Cold start above the AWS SDK baseline (what the function and its exchange client add)',
      ms(oursOwn),
      ms(peerOwn),
      `ours/peer ${fixed(oursOwn / peerOwn)}×`,
      '(explains the row above)',
      '—',
    ]);
  }
  const notes = [
    `Sizes and cold start: \`serverless package\` (${ms(r.packageMs)}), each function's zip unpacked under the repository so that \`@aws-sdk/*\` resolves from node_modules as the Lambda runtime provides it. The peer (\`scripts/bench/peer-handler.ts\`: keys from Secrets Manager with the same SDK client, \`bybit-api\`'s \`RestClientV5.cancelOrder\`, middy) and the baselines are bundled with serverless.yml's esbuild settings (ESM, minified, node22, AWS SDK external). Each sample is a fresh \`node\` process running \`test/support/lambda-runner.ts\`, timed from spawn to its answer line, with a direct-invocation cancel (\`events/direct-cancel.json\`; \`cancelAll\`: \`events/direct-cancel-all.json\`) against the emulator; variants take turns so that none always runs first.`,
  ];
  if (ours && peer && sdk && empty && ours.medianMs > peer.medianMs / 2) {
    notes.push(
      `Cold start goal: ${ms(empty.medianMs)} of every sample is Node starting and the runner, and the AWS SDK client's import and first secret read bring it to ${ms(sdk.medianMs)}; both are the same for ours and the peer and outside what the function's own code can remove while it reads its keys with the SDK. A ratio of 0.5× to the peer would need ours at ${ms(peer.medianMs / 2)}, below that shared floor. What differs is what each adds on top: ${ms(ours.medianMs - sdk.medianMs)} for ours against ${ms(peer.medianMs - sdk.medianMs)} for \`bybit-api\` (axios, its WebSocket client and signing helpers come with it).`,
    );
  }
  const failures = r.starts.filter((s) => s.failures.length > 0);
  for (const s of failures)
    notes.push(`Cold start ${s.variant}: the invocation failed: ${s.failures.join('; ')}.`);
  return { rows, notes };
}

function warmRows(r: WarmResult): { rows: Row[]; notes: string[] } {
  const us = (v: number) => `${count(Math.round(v))} µs`;
  const rows: Row[] = [
    [
      `Warm CPU per invocation (user + system), median of ${count(r.invocations)}`,
      us(r.ours.cpuMedianUs),
      us(r.peer.cpuMedianUs),
      `ours/peer ${fixed(r.ours.cpuMedianUs / r.peer.cpuMedianUs)}×`,
      '— (reported)',
      '—',
    ],
    [
      'Warm CPU per invocation, p99',
      us(r.ours.cpuP99Us),
      us(r.peer.cpuP99Us),
      `ours/peer ${fixed(r.ours.cpuP99Us / r.peer.cpuP99Us)}×`,
      '— (reported)',
      '—',
    ],
  ];
  const notes = [
    `Warm overhead: ${count(r.invocations)} direct-invocation cancels (after 100 untimed) of the real \`handlers/cancel.ts\` and of the peer handler, alternating, in one process, with the emulator in another so that its CPU is not counted; \`process.cpuUsage()\` around each invocation (the whole process: GC and the HTTP client's work included, waiting excluded). Log level \`${r.logLevel}\` (the production default): the invocation's log line is part of its cost. Median wall time per invocation: ours ${ms(r.ours.wallMedianMs)}, peer ${ms(r.peer.wallMedianMs)}.${r.ours.failures + r.peer.failures > 0 ? ` Failed invocations: ours ${r.ours.failures}, peer ${r.peer.failures}.` : ''}`,
  ];
  return { rows, notes };
}

/** The goal of issue 13: reading the order back may cost at most this many bare cancel requests. */
const CONFIRMED_CANCEL_GOAL = 2.2;

function confirmedCancelRows(r: ConfirmedCancelResult): { rows: Row[]; notes: string[] } {
  const rows: Row[] = r.rows.map((row) => {
    const ratio = row.confirmedMs / row.bareMs;
    return [
      `Confirmed cancel (cancel + read-back by id), warm, vs one bare cancel request; ${row.latencyMs} ms per request, median of ${r.samples}`,
      `${ms(row.confirmedMs)} (bare ${ms(row.bareMs)})`,
      '—',
      `confirmed/bare ${fixed(ratio)}×`,
      `≤ ${CONFIRMED_CANCEL_GOAL}× one bare cancel`,
      verdict(ratio, CONFIRMED_CANCEL_GOAL, 'atMost'),
    ];
  });
  const requests = r.rows.map((row) => `${row.requestsPerCancel} at ${row.latencyMs} ms`).join(', ');
  const wrong = r.rows.reduce((n, row) => n + row.failures, 0);
  const notes = [
    `Confirmed cancel: the real \`handlers/cancel.ts\` by direct invocation (warm, after ${r.warmup} untimed), cancelling a resting linear order and reading it back by \`orderId\` until it shows \`Cancelled\`; the baseline is one \`POST /v5/order/cancel\` from our own client (signed, paced, parsed), alternating with it in one process, the emulator in another adding the latency to each request. Exchange requests per confirmed cancel (median): ${requests}.${wrong > 0 ? ` Answers that were not a confirmed Cancelled, or failed bare cancels: ${wrong}.` : ''}`,
  ];
  return { rows, notes };
}

function transportRows(r: TransportResult): { rows: Row[]; notes: string[] } {
  const ratio = r.fetchCpuMs / r.oursCpuMs;
  const rows: Row[] = [
    [
      `Client wire: CPU per request, ${r.concurrency} at once (median of ${r.samples} × ${count(r.requestsPerSample)})`,
      `${r.oursCpuMs.toFixed(3)} ms (node:http)`,
      `${r.fetchCpuMs.toFixed(3)} ms (global fetch)`,
      `fetch/ours ${fixed(ratio)}×`,
      '— (reported)',
      '—',
    ],
  ];
  const notes = [
    `Client wire: \`lib/bybit/transport.ts\` (node:http, keep-alive sockets) against global fetch, the transport it replaced, on the same requests (half listings, half cancel-alls with a body; the emulator, in another process, answers each with a full envelope), alternating; the CPU is this process's only (user + system). The kill switch pays it between one round's answers and the next round's requests, for every account at once.`,
  ];
  return { rows, notes };
}

/** The results section: a heading, the run's facts, the table, the notes. */
export function renderReport(results: Results, run: RunInfo): string {
  const rows: Row[] = [];
  const notes: string[] = [];
  const sections: [keyof Results, string, (r: never) => { rows: Row[]; notes: string[] }][] = [
    ['kill-switch', 'Kill-switch latency', killSwitchRows as (r: never) => { rows: Row[]; notes: string[] }],
    [
      'kill-switch-strategies',
      'Kill switch with strategy orders',
      strategyKillSwitchRows as (r: never) => { rows: Row[]; notes: string[] },
    ],
    [
      'hot-kill-switch',
      'Kill switch by container',
      hotKillSwitchRows as (r: never) => { rows: Row[]; notes: string[] },
    ],
    ['sweep', 'Sweep throughput', sweepRows as (r: never) => { rows: Row[]; notes: string[] }],
    ['cold-start', 'Sizes and cold start', coldStartRows as (r: never) => { rows: Row[]; notes: string[] }],
    ['warm', 'Warm overhead', warmRows as (r: never) => { rows: Row[]; notes: string[] }],
    [
      'confirmed-cancel',
      'Confirmed cancel',
      confirmedCancelRows as (r: never) => { rows: Row[]; notes: string[] },
    ],
    [
      'fleet-40',
      'Fleet kill switch, 40 accounts',
      fleetRows as (r: never) => { rows: Row[]; notes: string[] },
    ],
    [
      'fleet-100',
      'Fleet kill switch, 100 accounts',
      fleetRows as (r: never) => { rows: Row[]; notes: string[] },
    ],
    ['transport', 'Client wire', transportRows as (r: never) => { rows: Row[]; notes: string[] }],
  ];
  for (const [key, title, render] of sections) {
    const result = results[key];
    if (failed(result)) {
      rows.push([title, '—', '—', '—', '—', `not measured: ${result?.error ?? 'not run'}`]);
      continue;
    }
    const part = render(result as never);
    rows.push(...part.rows);
    notes.push(...part.notes);
  }
  return [
    '## The last run',
    '',
    `Generated by \`npm run bench\` on ${run.date}: ${run.cpus} × ${run.cpuModel}, Node ${run.node}; the whole run took ${ms(run.totalMs)}. Ours and the peer (the maintained \`bybit-api\` client, scripted the straightforward way) run in the same run against the exchange emulator on loopback; times are medians, and the ratios compare numbers from this run only.`,
    '',
    markdownTable(HEADER, rows, ['left', 'right', 'right', 'right', 'left', 'left']),
    '',
    ...notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}

/** The markers around the section `npm run bench` writes into docs/development/benchmarks.md. */
export const SECTION_BEGIN =
  '<!-- npm run bench writes from here to the end marker: do not edit by hand. -->';
export const SECTION_END = '<!-- end of the section npm run bench writes -->';

/** The page with its generated section replaced by `report`; the hand-written text around it is kept. */
export function withReport(page: string, report: string): string {
  const begin = page.indexOf(SECTION_BEGIN);
  const end = page.indexOf(SECTION_END);
  if (begin < 0 || end < begin) {
    throw new Error(`the page has no generated section (${SECTION_BEGIN} … ${SECTION_END})`);
  }
  return `${page.slice(0, begin + SECTION_BEGIN.length)}\n\n${report.trim()}\n\n${page.slice(end)}`;
}
