import { describe, expect, it } from 'vitest';
import { IncompleteCancelError, IpRateLimitBanError, StateError, ValidationError } from '../../lib/errors.ts';
import type { Message } from '../../lib/lambda/messages.ts';
import type { Notifier } from '../../lib/lambda/notify.ts';
import type { RunRecord } from '../../lib/lambda/records.ts';
import { afterRun, type FinishedRun, fitted } from '../../lib/lambda/reporting.ts';
import { SecretStore } from '../../lib/lambda/secrets.ts';
import type { StateKey, StateStore } from '../../lib/lambda/state.ts';
import { createLogger } from '../../lib/log.ts';

/** The aftermath with a table and channels that record what they were given. */
function harness(options: { previousDrill?: RunRecord; failWrites?: boolean } = {}) {
  const lines: Record<string, unknown>[] = [];
  const written: { key: StateKey; value: RunRecord; ttlSeconds?: number }[] = [];
  const sent: Message[] = [];
  const state = {
    enabled: true,
    deadline: undefined,
    get: async () =>
      options.previousDrill ? { pk: 'last', sk: 'drill', value: options.previousDrill } : undefined,
    put: async (key: StateKey, value: RunRecord, write: { ttlSeconds?: number }) => {
      if (options.failWrites) throw new StateError('PutItem', 't-state', 'the table does not exist');
      written.push({ key, value, ttlSeconds: write.ttlSeconds });
    },
  } as unknown as StateStore;
  const notifier = {
    enabled: true,
    send: async (message: Message) => {
      sent.push(message);
      return [{ channel: 'sns' }];
    },
  } as unknown as Notifier;
  const deps = {
    logger: createLogger({ write: (line) => lines.push(JSON.parse(line)) }),
    state,
    notifier,
    secrets: new SecretStore({ ttlMs: 0 }),
    stage: 'prod',
  };
  return { deps, lines, written, sent };
}

function finished(overrides: Partial<FinishedRun>): FinishedRun {
  return {
    trigger: { type: 'killSwitch', detail: { reason: 'drawdown' } },
    event: { id: 'evt-1' },
    operation: 'killSwitch',
    outcome: {
      result: {
        operation: 'killSwitch',
        ok: true,
        accounts: ['main'],
        cancelled: 4,
        remaining: 0,
        scopes: [],
      },
    },
    requestId: 'req-1',
    functionName: 'bybit-cancel-prod-cancelAll',
    logGroup: '/aws/lambda/bybit-cancel-prod-cancelAll',
    startedAt: Date.now() - 500,
    until: Date.now() + 5000,
    ...overrides,
  };
}

describe('afterRun', () => {
  it('logs the report once, records the kill switch by event id for 30 days and as the last one, and sends one message', async () => {
    const { deps, lines, written, sent } = harness();
    const counts = await afterRun(deps, finished({}));

    expect(counts).toEqual({ notifyFailures: 0, stateFailures: 0 });
    expect(lines.filter((l) => l.message === 'report')).toHaveLength(1);
    expect(written.map((w) => [w.key.pk, w.key.sk, w.ttlSeconds])).toEqual([
      ['last', 'killSwitch', undefined],
      ['event#evt-1', 'report', 30 * 86_400],
    ]);
    expect(written[0]?.value).toMatchObject({
      ok: true,
      eventId: 'evt-1',
      reason: 'drawdown',
      trigger: 'eventBridge',
    });
    expect(sent.map((m) => m.kind)).toEqual(['killSwitch']);
  });

  it('says an IP ban inside the kill switch message, never as a second message', async () => {
    const { deps, sent } = harness();
    const error = new IncompleteCancelError({
      operation: 'killSwitch',
      ok: false,
      accounts: ['main'],
      remaining: 0,
      failedScopes: ['main: *'],
      scopes: [],
    });
    await afterRun(
      deps,
      finished({ outcome: { error }, ipRefusal: new IpRateLimitBanError('/v5/order/cancel-all') }),
    );
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject).toBe('KILL SWITCH FAILED: Bybit refused this IP (HTTP 403) (prod)');
  });

  it('sends nothing for a passing drill after a passing one, and a message after a failed one', async () => {
    const drill = finished({
      trigger: { type: 'schedule', input: { action: 'drill' } },
      operation: 'drill',
      outcome: { result: { operation: 'drill', ok: true, accounts: [] } },
    });
    const quiet = harness({ previousDrill: { ok: true } as RunRecord });
    await afterRun(quiet.deps, drill);
    expect(quiet.sent).toEqual([]);
    expect(quiet.written.map((w) => w.key.pk)).toEqual(['last', 'drills']);

    const recovering = harness({ previousDrill: { ok: false, at: '2026-12-04T03:00:00.000Z' } as RunRecord });
    await afterRun(recovering.deps, drill);
    expect(recovering.sent.map((m) => m.kind)).toEqual(['drillRecovered']);
  });

  it('counts a table that cannot be written, and still sends the message', async () => {
    const { deps, lines, sent } = harness({ failWrites: true });
    const counts = await afterRun(deps, finished({}));
    expect(counts).toEqual({ notifyFailures: 0, stateFailures: 2 });
    expect(lines.filter((l) => l.message === 'state table call failed')).toHaveLength(2);
    expect(sent).toHaveLength(1);
  });

  it('does nothing for a request refused as invalid, or for an operation without a report', async () => {
    const refused = harness();
    await afterRun(refused.deps, finished({ outcome: { error: new ValidationError('accounts', 'bad') } }));
    const heartbeat = harness();
    await afterRun(
      heartbeat.deps,
      finished({ operation: 'heartbeat', outcome: { result: { operation: 'heartbeat' } } }),
    );
    // A webhook drill handed to the drill function is no drill run: the drill function records that one.
    const handedOver = harness({ previousDrill: { ok: false, at: '2026-12-04T03:00:00.000Z' } as RunRecord });
    await afterRun(
      handedOver.deps,
      finished({
        operation: 'drillStart',
        outcome: { result: { operation: 'drillStart', started: true, function: 'bybit-cancel-prod-drill' } },
      }),
    );
    for (const { lines, written, sent } of [refused, heartbeat, handedOver]) {
      expect([lines.length, written.length, sent.length]).toEqual([0, 0, 0]);
    }
  });
});

describe('fitted', () => {
  it('keeps a report that fits, and cuts every list of one that does not until it fits, saying what it left out', () => {
    const small = { operation: 'killSwitch', scopes: [{ a: 1 }] };
    expect(fitted(small, 1000)).toBe(small);

    const scopes = Array.from({ length: 300 }, (_, i) => ({
      account: `acct-${i}`,
      remainingOrders: Array.from({ length: 30 }, (__, j) => ({ orderId: `order-${i}-${j}` })),
    }));
    const big = { operation: 'killSwitch', ok: false, remaining: 6000, scopes };
    const cut = fitted(big, 20_000) as {
      truncated: boolean;
      remaining: number;
      scopes: { remainingOrders: unknown[]; remainingOrdersOmitted: number }[];
      scopesOmitted: number;
    };
    expect(JSON.stringify(cut).length).toBeLessThanOrEqual(20_000);
    expect(JSON.stringify(cut).length).toBeGreaterThan(1000);
    expect(cut).toMatchObject({ truncated: true, remaining: 6000 });
    expect(cut.scopes.length + cut.scopesOmitted).toBe(300);
    const [first] = cut.scopes;
    expect(first?.remainingOrders.length).toBeLessThan(30);
    expect((first?.remainingOrders.length ?? 0) + (first?.remainingOrdersOmitted ?? 0)).toBe(30);
  });
});
