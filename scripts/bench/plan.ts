// What `npm run bench` runs, in order, and how long each part may take before it is stopped.

export type MeasurementName = 'cold-start' | 'kill-switch' | 'warm' | 'sweep' | 'confirmed-cancel';

export const PLAN: readonly { name: MeasurementName; title: string; timeoutMs: number }[] = [
  { name: 'cold-start', title: 'package, bundle sizes, cold start', timeoutMs: 120_000 },
  { name: 'kill-switch', title: 'kill-switch latency', timeoutMs: 90_000 },
  { name: 'warm', title: 'warm overhead', timeoutMs: 60_000 },
  { name: 'confirmed-cancel', title: 'confirmed cancel vs one bare cancel request', timeoutMs: 60_000 },
  {
    name: 'sweep',
    title: 'sweep throughput (about 100 s: the peer runs at 10 cancels/s)',
    timeoutMs: 150_000,
  },
];
