// Requests the product must refuse before anything reaches the exchange, through the real handler against
// the emulator and the Secrets Manager endpoint on loopback: a misspelt field on /cancel-all must never
// widen into the kill switch, and only the configured EventBridge source may fire it.

import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AnyEvent, lambdaContext, loadEvent, signedHttpEvent } from '../support/events.ts';
import { mixedBook } from '../support/orders.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

let stack: LocalStack;
let cancelAll: (event: unknown, context: unknown) => Promise<unknown>;

beforeAll(async () => {
  stack = await startStack({ accounts: ['main'] });
  Object.assign(process.env, stack.env);
  cancelAll = (await import('../../handlers/cancel-all.ts')).handler as typeof cancelAll;
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.emulator.reset();
  stack.emulator.addOrders(stack.accounts[0]?.apiKey as string, mixedBook(20));
});

const exchangeCalls = () => stack.emulator.requests.length;

describe('POST /cancel-all with a misspelt field', () => {
  it.each([
    [{ catgory: 'linear' }, 'catgory'],
    [{ Category: 'linear' }, 'Category'],
    [{ category: 'linear', symbl: 'BTCUSDT' }, 'symbl'],
    [{ category: 'linear', settlecoin: 'USDT' }, 'settlecoin'],
    [{ reason: 'manual', acounts: ['main'] }, 'acounts'],
    [{ categroies: ['spot'] }, 'categroies'],
  ])('%j is a 400 naming the field, and nothing is cancelled', async (body, field) => {
    const response = (await cancelAll(
      signedHttpEvent('http-v2-cancel-all.json', body, stack.webhookSecret),
      lambdaContext(),
    )) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'ValidationError',
      field,
      message: expect.stringContaining(`unknown field "${field}"`),
    });
    expect(stack.emulator.openOrders()).toHaveLength(20);
    expect(exchangeCalls()).toBe(0);
  });

  it('is refused on a direct invocation too, and nothing is cancelled', async () => {
    const error = await cancelAll({ catgory: 'linear' }, lambdaContext()).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationError', field: 'catgory' });
    expect(stack.emulator.openOrders()).toHaveLength(20);
    expect(exchangeCalls()).toBe(0);
  });

  it('cancels the one scope when the same body is spelt right (the refusal is about the field)', async () => {
    const response = (await cancelAll(
      signedHttpEvent('http-v2-cancel-all.json', { category: 'option' }, stack.webhookSecret),
      lambdaContext(),
    )) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(200);
    const left = stack.emulator.openOrders();
    expect(left.length).toBeGreaterThan(0);
    expect(left.some((o) => o.category === 'option')).toBe(false);
  });
});

describe('EventBridge events that are not the kill switch', () => {
  const killSwitchFrom = (changes: Record<string, unknown>): AnyEvent => ({
    ...loadEvent('kill-switch.json'),
    ...changes,
  });

  it.each([
    ['another source', { source: 'com.example.other' }],
    ['a source that only contains ours', { source: 'bybit.killswitch.test' }],
    ['the right source with another detail-type', { 'detail-type': 'Kill Switch Test' }],
  ])('refuses an event from %s, and nothing is cancelled', async (_, changes) => {
    const error = await cancelAll(killSwitchFrom(changes), lambdaContext()).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ValidationError' });
    expect((error as Error).message).toContain('unexpected EventBridge event');
    expect(stack.emulator.openOrders()).toHaveLength(20);
    expect(exchangeCalls()).toBe(0);
  });

  it('runs the kill switch for the configured source and detail-type', async () => {
    const report = await cancelAll(loadEvent('kill-switch.json'), lambdaContext());
    expect(report).toMatchObject({ operation: 'killSwitch', ok: true, remaining: 0 });
    expect(stack.emulator.openOrders()).toHaveLength(0);
  });
});
