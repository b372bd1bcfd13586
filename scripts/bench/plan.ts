// What `npm run bench` runs, in order, and how long each part may take before it is stopped.

export type MeasurementName =
  | 'cold-start'
  | 'kill-switch'
  | 'kill-switch-strategies'
  | 'hot-kill-switch'
  | 'warm'
  | 'sweep'
  | 'confirmed-cancel'
  | 'fleet-40'
  | 'fleet-100'
  | 'transport';

export const PLAN: readonly { name: MeasurementName; title: string; timeoutMs: number }[] = [
  { name: 'cold-start', title: 'package, bundle sizes, cold start', timeoutMs: 120_000 },
  { name: 'kill-switch', title: 'kill-switch latency', timeoutMs: 90_000 },
  { name: 'kill-switch-strategies', title: 'kill-switch latency with strategy orders', timeoutMs: 90_000 },
  {
    name: 'hot-kill-switch',
    title: 'kill switch in a fresh, a pre-initialised and a warm container (about 100 s)',
    timeoutMs: 240_000,
  },
  { name: 'warm', title: 'warm overhead', timeoutMs: 60_000 },
  { name: 'confirmed-cancel', title: 'confirmed cancel vs one bare cancel request', timeoutMs: 60_000 },
  {
    name: 'sweep',
    title: 'sweep throughput (about 100 s: the peer runs at 10 cancels/s)',
    timeoutMs: 150_000,
  },
  { name: 'fleet-40', title: 'fleet kill switch, 40 accounts behind one IP limit', timeoutMs: 120_000 },
  { name: 'fleet-100', title: 'fleet kill switch, 100 accounts behind one IP limit', timeoutMs: 150_000 },
  {
    name: 'transport',
    title: 'the client wire: CPU per request, node:http against fetch',
    timeoutMs: 60_000,
  },
];
