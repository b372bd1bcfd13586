// Runs one measurement in a process of its own and sends its result to the parent over IPC. Each
// measurement configures the handlers through process.env before importing them, so each needs a fresh
// module graph; and nothing one leaves behind (sockets, timers, heap) weighs on the next.
//
//   node scripts/bench/child.ts <kill-switch | kill-switch-strategies | hot-kill-switch | sweep | cold-start | warm | confirmed-cancel | fleet-40 | fleet-100 | transport>

import type { MeasurementName } from './plan.ts';

const measurements: Record<MeasurementName, () => Promise<unknown>> = {
  'kill-switch': async () => (await import('./kill-switch.ts')).measureKillSwitch(),
  'kill-switch-strategies': async () => (await import('./kill-switch.ts')).measureKillSwitchWithStrategies(),
  'hot-kill-switch': async () => (await import('./hot-kill-switch.ts')).measureHotKillSwitch(),
  sweep: async () => (await import('./sweep.ts')).measureSweep(),
  'cold-start': async () => (await import('./cold-start.ts')).measureColdStart(),
  warm: async () => (await import('./warm.ts')).measureWarm(),
  'confirmed-cancel': async () => (await import('./confirmed-cancel.ts')).measureConfirmedCancel(),
  'fleet-40': async () => (await import('./fleet.ts')).measureFleet(40),
  'fleet-100': async () => (await import('./fleet.ts')).measureFleet(100),
  transport: async () => (await import('./transport.ts')).measureTransport(),
};

const name = process.argv[2] as MeasurementName;
const measure = measurements[name];
if (!measure || !process.send) {
  process.stderr.write(`usage (with an IPC channel): child.ts <${Object.keys(measurements).join(' | ')}>\n`);
  process.exit(2);
}
const send = process.send.bind(process);
try {
  const result = await measure();
  send({ result }, () => process.exit(0));
} catch (error) {
  send({ error: `${(error as Error).name}: ${(error as Error).message}` }, () => process.exit(1));
}
