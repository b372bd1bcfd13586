// How much time the work gets: the Lambda's remaining time less a margin, and for HTTP never more than 28 s,
// because API Gateway stops waiting at 30 s whatever the function's timeout. Through the real route, the
// webhook authentication and the Secrets Manager endpoint on loopback, on a frozen clock.

import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, createApp, type Invocation, route } from '../../lib/lambda/app.ts';
import { lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

let stack: LocalStack;
let app: App;
const NOW = Date.now();

beforeAll(async () => {
  stack = await startStack({ accounts: ['main'] });
  Object.assign(process.env, stack.env);
  app = createApp({
    env: stack.env,
    clock: { now: () => NOW, sleep: async () => undefined },
    write: () => {},
  });
});
afterAll(() => stack.close());

/** Runs an event through the route and returns the deadline the work was given, relative to now. */
async function budgetFor(event: unknown, remainingMs: number): Promise<number> {
  let given: number | undefined;
  const capture = async (_: unknown, run: Invocation) => {
    given = run.deadline;
    return { ok: true };
  };
  const handler = route({ request: capture, killSwitch: capture, schedule: capture }, () => app);
  const context: Context = { ...lambdaContext(), getRemainingTimeInMillis: () => remainingMs };
  await handler(event, context);
  if (given === undefined) throw new Error('the work did not run');
  return given - NOW;
}

const http = () =>
  signedHttpEvent('http-v2-cancel-all.json', { category: 'linear' }, stack.webhookSecret, { now: NOW });
const margin = () => app.config.deadlineMarginMs;

describe('the deadline an invocation gives its work', () => {
  it('caps an HTTP invocation at 28 s even with 120 s of Lambda time left', async () => {
    expect(await budgetFor(http(), 120_000)).toBe(28_000);
  });

  it('gives an HTTP invocation its remaining time less the margin when that is under 28 s', async () => {
    expect(await budgetFor(http(), 10_000)).toBe(10_000 - margin());
  });

  it('gives a direct invocation all of its 120 s less the margin', async () => {
    expect(await budgetFor({ category: 'linear' }, 120_000)).toBe(120_000 - margin());
  });

  it('gives the kill-switch event all of its time less the margin', async () => {
    expect(await budgetFor(loadEvent('kill-switch.json'), 60_000)).toBe(60_000 - margin());
  });

  it('never gives a negative budget when the margin is all that is left', async () => {
    expect(await budgetFor({ category: 'linear' }, margin() - 1)).toBe(0);
  });

  it('keeps a margin that leaves room to answer', () => {
    expect(margin()).toBeGreaterThan(0);
    expect(margin()).toBeLessThan(5_000);
  });
});
