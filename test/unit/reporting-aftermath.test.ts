// afterRun beyond the happy path: what it logs per channel, what it counts when a channel or its own code
// fails, which runs send which message, and what the record says. Fakes only; reporting.test.ts has the rest.

import { describe, expect, it } from 'vitest';
import type { Clock } from '../../lib/clock.ts';
import { NotifyError, StateError } from '../../lib/errors.ts';
import type { Message } from '../../lib/lambda/messages.ts';
import type { Delivery, Notifier } from '../../lib/lambda/notify.ts';
import type { RunRecord } from '../../lib/lambda/records.ts';
import { afterRun, type FinishedRun, fitted } from '../../lib/lambda/reporting.ts';
import { SecretStore } from '../../lib/lambda/secrets.ts';
import type { StateKey, StateStore } from '../../lib/lambda/state.ts';
import { createLogger } from '../../lib/log.ts';

const STARTED = Date.parse('2026-12-05T10:00:00.000Z');
const UNTIL = STARTED + 9000;
const clock: Clock = { now: () => STARTED + 1234, sleep: async () => undefined };

interface Options {
  stateEnabled?: boolean;
  notifierEnabled?: boolean;
  deliveries?: Delivery[];
  sendThrows?: Error;
  previousDrill?: RunRecord;
  /** Every table call rejects with it. */
  stateThrows?: Error;
}

function harness(options: Options = {}) {
  const lines: Record<string, unknown>[] = [];
  const written: { key: StateKey; value: RunRecord; ttlSeconds?: number }[] = [];
  const reads: StateKey[] = [];
  const sent: { message: Message; deadline: number }[] = [];
  const state = {
    enabled: options.stateEnabled ?? true,
    deadline: undefined as number | undefined,
    get: async (key: StateKey) => {
      reads.push(key);
      if (options.stateThrows) throw options.stateThrows;
      return options.previousDrill ? { value: options.previousDrill } : undefined;
    },
    put: async (key: StateKey, value: RunRecord, write: { ttlSeconds?: number }) => {
      if (options.stateThrows) throw options.stateThrows;
      written.push({ key, value, ttlSeconds: write.ttlSeconds });
    },
  };
  const notifier = {
    enabled: options.notifierEnabled ?? true,
    send: async (message: Message, deadline: number) => {
      sent.push({ message, deadline });
      if (options.sendThrows) throw options.sendThrows;
      return options.deliveries ?? [{ channel: 'sns' }];
    },
  };
  const secrets = new SecretStore({ ttlMs: 0 });
  const deps = {
    logger: createLogger({ write: (line) => lines.push(JSON.parse(line)) }),
    state: state as unknown as StateStore,
    notifier: notifier as unknown as Notifier,
    secrets,
    stage: 'prod',
    clock,
  };
  return { deps, state, secrets, lines, written, reads, sent };
}

function run(overrides: Partial<FinishedRun>): FinishedRun {
  return {
    trigger: { type: 'http' } as FinishedRun['trigger'],
    event: {},
    operation: 'sweep',
    outcome: { result: { operation: 'sweep', ok: true } },
    requestId: 'req-9',
    functionName: 'bybit-cancel-prod-sweep',
    logGroup: '/aws/lambda/bybit-cancel-prod-sweep',
    startedAt: STARTED,
    until: UNTIL,
    ...overrides,
  };
}

const resetRun = (ok: boolean, accounts: unknown[]) =>
  run({
    operation: 'reset',
    outcome: { result: { operation: 'reset', ok, message: 'm', accounts } },
  });

describe('afterRun: channels', () => {
  it('logs each channel’s delivery, counting and describing the ones that failed', async () => {
    const { deps, lines, sent } = harness({
      deliveries: [
        { channel: 'sns' },
        { channel: 'telegram', error: new NotifyError('telegram', 'sendMessage failed: chat 1: blocked') },
      ],
    });
    const counts = await afterRun(
      deps,
      run({ operation: 'killSwitch', outcome: { result: { operation: 'killSwitch', ok: true } } }),
    );
    expect(counts).toEqual({ notifyFailures: 1, stateFailures: 0 });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.deadline).toBe(UNTIL);
    const subject = sent[0]?.message.subject;
    const notes = lines.filter((l) => String(l.message).startsWith('notification'));
    expect(notes.map((l) => [l.level, l.message, l.kind, l.channel, l.subject])).toEqual([
      ['info', 'notification sent', 'killSwitch', 'sns', subject],
      ['error', 'notification failed', 'killSwitch', 'telegram', subject],
    ]);
    expect(notes[1]).toMatchObject({ errorType: 'NotifyError' });
    expect(String(notes[1]?.errorMessage)).toContain('sendMessage failed: chat 1: blocked');
  });

  it('turns a bug in its own steps into one counted, logged failure, never a throw', async () => {
    const { deps, lines } = harness({ sendThrows: new TypeError('boom') });
    const counts = await afterRun(
      deps,
      run({ operation: 'killSwitch', outcome: { result: { operation: 'killSwitch', ok: true } } }),
    );
    expect(counts).toEqual({ notifyFailures: 0, stateFailures: 1 });
    expect(lines.filter((l) => l.message === 'reporting failed')).toEqual([
      expect.objectContaining({ level: 'error', errorType: 'TypeError', errorMessage: 'boom' }),
    ]);
  });

  it('writes nothing without a table and sends nothing without a channel, but still logs the report', async () => {
    const { deps, lines, written, sent, reads } = harness({ stateEnabled: false, notifierEnabled: false });
    const counts = await afterRun(
      deps,
      run({ operation: 'drill', outcome: { result: { operation: 'drill', ok: true, accounts: [] } } }),
    );
    expect(counts).toEqual({ notifyFailures: 0, stateFailures: 0 });
    expect([written.length, sent.length, reads.length]).toEqual([0, 0, 0]);
    expect(lines.map((l) => l.message)).toEqual(['report']);
  });

  it('gives the table and the secrets the run’s end as their deadline', async () => {
    const { deps, state, secrets } = harness();
    await afterRun(deps, run({}));
    expect(state.deadline).toBe(UNTIL);
    expect(secrets.deadline).toBe(UNTIL);
  });
});

describe('afterRun: which runs send a message', () => {
  const kinds = async (finished: FinishedRun, options: Options = {}) => {
    const h = harness(options);
    // A message that could not be made would show as a counted failure, not as "no message".
    expect(await afterRun(h.deps, finished)).toEqual({ notifyFailures: 0, stateFailures: 0 });
    return { kinds: h.sent.map((s) => s.message.kind), reads: h.reads, written: h.written };
  };

  it('tells of a reset that changed something or failed, not of one that found nothing halted', async () => {
    expect((await kinds(resetRun(true, []))).kinds).toEqual([]);
    expect(
      (
        await kinds(
          resetRun(true, [{ account: 'a', restored: ['BOTK…02'], leftAlone: [], failed: [], cleared: true }]),
        )
      ).kinds,
    ).toEqual(['reset']);
    expect((await kinds(resetRun(false, []))).kinds).toEqual(['resetFailed']);
    const noAccounts = run({ operation: 'reset', outcome: { result: { operation: 'reset', ok: true } } });
    expect((await kinds(noAccounts)).kinds).toEqual([]);
  });

  it('tells of a failed drill, without reading the last drill first', async () => {
    const failed = await kinds(
      run({ operation: 'drill', outcome: { result: { operation: 'drill', ok: false, accounts: [] } } }),
      { previousDrill: { ok: false, at: 'x' } as RunRecord },
    );
    expect(failed.kinds).toEqual(['drillFailed']);
    expect(failed.reads).toEqual([]);
  });

  it('reads the last drill for a passing one, and tells nothing when there was none', async () => {
    const first = await kinds(
      run({ operation: 'drill', outcome: { result: { operation: 'drill', ok: true, accounts: [] } } }),
    );
    expect(first.kinds).toEqual([]);
    expect(first.reads.map((k) => [k.pk, k.sk])).toEqual([['last', 'drill']]);
  });

  it('tells of an IP ban on a run that sends nothing else, and nothing on a quiet run', async () => {
    expect((await kinds(run({ ipRefusal: new Error('HTTP 403') }))).kinds).toEqual(['ipBan']);
    expect((await kinds(run({}))).kinds).toEqual([]);
  });
});

describe('afterRun: the record', () => {
  const recordOf = async (finished: FinishedRun) => {
    const h = harness();
    expect(await afterRun(h.deps, finished)).toEqual({ notifyFailures: 0, stateFailures: 0 });
    return h.written;
  };

  it('records a webhook run with its duration on the clock, origin and reason from the report, cut to 500', async () => {
    const reason = 'r'.repeat(600);
    const written = await recordOf(
      run({
        outcome: { result: { operation: 'sweep', ok: true, origin: 'tradingview', reason } },
      }),
    );
    expect(written.map((w) => [w.key.pk, w.key.sk, w.ttlSeconds])).toEqual([['last', 'sweep', undefined]]);
    expect(written[0]?.value).toEqual({
      operation: 'sweep',
      ok: true,
      at: '2026-12-05T10:00:00.000Z',
      durationMs: 1234,
      requestId: 'req-9',
      trigger: 'webhook',
      origin: 'tradingview',
      reason: 'r'.repeat(500),
      functionName: 'bybit-cancel-prod-sweep',
      logGroup: '/aws/lambda/bybit-cancel-prod-sweep',
      report: { operation: 'sweep', ok: true, origin: 'tradingview', reason },
    });
  });

  it('records a kill switch without an event id under its request id, origin from the event detail', async () => {
    const written = await recordOf(
      run({
        trigger: {
          type: 'killSwitch',
          detail: { origin: 'risk-engine', reason: '' },
        } as FinishedRun['trigger'],
        event: { id: '' },
        operation: 'killSwitch',
        outcome: { result: { operation: 'killSwitch', ok: true, confirmed: false } },
      }),
    );
    expect(written.map((w) => [w.key.pk, w.key.sk])).toEqual([
      ['last', 'killSwitch'],
      ['event#req-9', 'report'],
    ]);
    expect(written[0]?.value).toMatchObject({ ok: false, trigger: 'eventBridge', origin: 'risk-engine' });
    expect(written[0]?.value).not.toHaveProperty('reason');
    expect(written[0]?.value).not.toHaveProperty('eventId');
  });

  it('records an error without a report by its name and message, cut to 1000', async () => {
    const error = new RangeError('x'.repeat(1200));
    const written = await recordOf(
      run({ trigger: { type: 'schedule' } as FinishedRun['trigger'], outcome: { error } }),
    );
    expect(written[0]?.value).toEqual({
      operation: 'sweep',
      ok: false,
      at: '2026-12-05T10:00:00.000Z',
      durationMs: 1234,
      requestId: 'req-9',
      trigger: 'schedule',
      functionName: 'bybit-cancel-prod-sweep',
      logGroup: '/aws/lambda/bybit-cancel-prod-sweep',
      error: { type: 'RangeError', message: 'x'.repeat(1000) },
    });
  });
});

describe('afterRun: a thrown value without a name', () => {
  it('records it as an Error with its message', async () => {
    const h = harness();
    await afterRun(h.deps, run({ outcome: { error: { message: 'plain object thrown' } } }));
    expect(h.written[0]?.value).toMatchObject({
      ok: false,
      error: { type: 'Error', message: 'plain object thrown' },
    });
  });
});

describe('fitted: a report no cut can fit', () => {
  it('keeps only the operation and the verdict, marked truncated', () => {
    const report = { operation: 'killSwitch', ok: false, note: 'n'.repeat(500), scopes: [1, 2, 3] };
    expect(fitted(report, 100)).toEqual({ operation: 'killSwitch', ok: false, truncated: true });
  });

  it('cuts to the widest list length that fits', () => {
    const report = { operation: 'sweep', ok: true, ids: Array.from({ length: 50 }, (_, i) => i) };
    const cut = fitted(report, 150);
    expect(cut).toEqual({
      operation: 'sweep',
      ok: true,
      ids: Array.from({ length: 20 }, (_, i) => i),
      idsOmitted: 30,
      truncated: true,
    });
  });
});

describe('afterRun: what the log says', () => {
  it('logs the report itself as a field of the report line', async () => {
    const { deps, lines } = harness();
    const result = { operation: 'sweep', ok: true, cancelled: 2 };
    await afterRun(deps, run({ outcome: { result } }));
    expect(lines.filter((l) => l.message === 'report').map((l) => l.report)).toEqual([result]);
  });

  it('logs each failed table call with what it was for and its error, and counts each', async () => {
    const error = new StateError('PutItem', 't-state', 'the table does not exist');
    const failures = async (finished: FinishedRun) => {
      const h = harness({ stateThrows: error });
      const counts = await afterRun(h.deps, finished);
      const logged = h.lines.filter((l) => l.message === 'state table call failed');
      for (const line of logged) expect(line).toMatchObject({ level: 'error', errorType: 'StateError' });
      return { counts, what: logged.map((l) => l.what).sort() };
    };
    const killSwitch = await failures(
      run({
        trigger: { type: 'killSwitch', detail: {} } as FinishedRun['trigger'],
        event: { id: 'evt-7' },
        operation: 'killSwitch',
        outcome: { result: { operation: 'killSwitch', ok: true } },
      }),
    );
    expect(killSwitch).toEqual({
      counts: { notifyFailures: 0, stateFailures: 2 },
      what: ['the event record', 'the last killSwitch'],
    });
    const drill = await failures(
      run({ operation: 'drill', outcome: { result: { operation: 'drill', ok: true, accounts: [] } } }),
    );
    expect(drill).toEqual({
      counts: { notifyFailures: 0, stateFailures: 3 },
      what: ['read the last drill', 'the drill history', 'the last drill'],
    });
  });
});

describe('afterRun: runs that are not drills', () => {
  it('reads no last drill for a passing run of another kind', async () => {
    const h = harness({ previousDrill: { ok: false, at: 'x' } as RunRecord });
    await afterRun(h.deps, run({}));
    expect(h.reads).toEqual([]);
    expect(h.sent).toEqual([]);
  });

  it('sends no drill message for a failed run of another kind', async () => {
    const h = harness();
    const counts = await afterRun(h.deps, run({ outcome: { result: { operation: 'sweep', ok: false } } }));
    expect(counts).toEqual({ notifyFailures: 0, stateFailures: 0 });
    expect(h.sent).toEqual([]);
    expect(h.written[0]?.value).toMatchObject({ operation: 'sweep', ok: false });
  });

  it('takes an event id only from a kill-switch event, never from a scheduled one', async () => {
    const h = harness();
    await afterRun(
      h.deps,
      run({ trigger: { type: 'schedule' } as FinishedRun['trigger'], event: { id: 'evt-schedule-1' } }),
    );
    expect(h.written.map((w) => [w.key.pk, w.key.sk])).toEqual([['last', 'sweep']]);
    expect(h.written[0]?.value).not.toHaveProperty('eventId');
  });

  it('takes the origin and reason from the event detail when the report gives them empty', async () => {
    const h = harness();
    await afterRun(
      h.deps,
      run({
        trigger: {
          type: 'killSwitch',
          detail: { origin: 'risk-engine', reason: 'drawdown' },
        } as FinishedRun['trigger'],
        event: { id: 'evt-8' },
        operation: 'killSwitch',
        outcome: { result: { operation: 'killSwitch', ok: true, origin: '', reason: '' } },
      }),
    );
    expect(h.written[0]?.value).toMatchObject({
      origin: 'risk-engine',
      reason: 'drawdown',
      eventId: 'evt-8',
    });
    expect(h.sent[0]?.message.body).toContain('Fired by: risk-engine\nReason: drawdown\n');
  });
});

describe('fitted: at the limit', () => {
  it('keeps whole a report exactly as long as the limit', () => {
    const report = { operation: 'sweep', ok: true, ids: [1, 2, 3] };
    expect(fitted(report, JSON.stringify(report).length)).toEqual(report);
  });

  it('keeps a cut exactly as long as the limit, and counts only the lists it cut', () => {
    const ids = Array.from({ length: 150 }, (_, i) => i);
    const names = Array.from({ length: 100 }, (_, i) => `n${i}`);
    const report = { operation: 'sweep', ok: true, note: 'abc', accounts: ['a'], names, ids };
    const cut = {
      operation: 'sweep',
      ok: true,
      note: 'abc',
      accounts: ['a'],
      names,
      ids: ids.slice(0, 100),
      idsOmitted: 50,
      truncated: true,
    };
    expect(fitted(report, JSON.stringify(cut).length)).toEqual(cut);
  });
});
