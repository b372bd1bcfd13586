// A Lambda container as a process of its own, driven by hot-kill-switch.ts over IPC: it imports the handler
// bundle (the init, with whatever the module does at top level), says how long that took, then answers
// each `invoke` message with one invocation, timed in this process. `initialization` plays the variable
// Lambda sets (AWS_LAMBDA_INITIALIZATION_TYPE): `provisioned-concurrency` or `on-demand`.
//
//   fork(hot-runner.ts, [<module file>]) → { loaded: ms } → { invoke: event } → { ms, error? } … → disconnect

import { pathToFileURL } from 'node:url';
import { lambdaContext } from '../../test/support/events.ts';

if (!process.send) throw new Error('hot-runner must be started with an IPC channel (fork)');
const send = process.send.bind(process);
const [modulePath] = process.argv.slice(2);
if (!modulePath) throw new Error('usage: hot-runner.ts <module file>');

const started = performance.now();
const module = await import(pathToFileURL(modulePath).href);
const handler = module.handler as (event: unknown, context: unknown) => Promise<unknown>;
send({ loaded: performance.now() - started });

process.on('message', async (message: { invoke?: unknown; remainingMs?: number }) => {
  const invocationStarted = performance.now();
  try {
    await handler(message.invoke, lambdaContext(message.remainingMs ?? 60_000));
    send({ ms: performance.now() - invocationStarted });
  } catch (error) {
    send({
      ms: performance.now() - invocationStarted,
      error: `${(error as Error).name}: ${(error as Error).message}`,
    });
  }
});
process.on('disconnect', () => process.exit(0));
