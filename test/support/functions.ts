// A function's container in a test: the triggers a handler serves (handlers/*.ts exports them) on an app built
// with createApp and the test's own clock, clients and log, wrapped as the handler wraps them (middy and the
// invocation log). Two of them are two Lambda containers of that function. Every log line goes through the
// secret-hygiene check.

import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type App, type AppOverrides, createApp, type Routes, route } from '../../lib/lambda/app.ts';
import { invocationLog } from '../../lib/lambda/middleware.ts';
import { inspectOutput } from './secret-hygiene.ts';

export type Invoke = (event: unknown, context: Context) => Promise<unknown>;

export interface Container {
  app: App;
  /** Every line the container wrote (JSON logs and EMF), in order. */
  lines: string[];
  /** Runs one of the function's triggers in this container. */
  run(routes: Routes): Invoke;
  /** The EMF metric lines written so far, parsed. */
  metrics(): Record<string, unknown>[];
}

/** A new container: its own app (nothing cached), from `overrides.env`. */
export function container(overrides: AppOverrides & { env: Record<string, string | undefined> }): Container {
  const lines: string[] = [];
  const app = createApp({
    ...overrides,
    write: (line) => {
      lines.push(line);
      inspectOutput('log', line);
    },
  });
  const get = () => app;
  return {
    app,
    lines,
    run: (routes) => middy(route(routes, get)).use(invocationLog(get)) as unknown as Invoke,
    metrics: () =>
      lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => '_aws' in line),
  };
}
