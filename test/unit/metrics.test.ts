import { describe, expect, it } from 'vitest';
import { IncompleteCancelError } from '../../lib/errors.ts';
import { json } from '../../lib/lambda/http.ts';
import { emfLine, METRIC_NAMES, metricsOf, requestedCancelAll } from '../../lib/lambda/metrics.ts';

describe('metricsOf', () => {
  it('reads a kill-switch report', () => {
    const report = { operation: 'killSwitch', ok: true, cancelled: 1500, remaining: 0 };
    expect(metricsOf({ result: report }, 420, 'unknown')).toEqual({
      operation: 'killSwitch',
      ordersCancelled: 1500,
      ordersLeftOpen: 0,
      failed: false,
      durationMs: 420,
    });
  });

  it('counts a failed kill switch and what it left open, from the error it throws', () => {
    const error = new IncompleteCancelError({
      operation: 'killSwitch',
      cancelled: 10,
      remaining: 3,
      failedScopes: ['main: option'],
    });
    expect(metricsOf({ error }, 5000, 'unknown')).toMatchObject({
      operation: 'killSwitch',
      ordersLeftOpen: 3,
      failed: true,
    });
  });

  it('reads the report inside an HTTP answer and treats 5xx as a failure, 4xx as not ours', () => {
    const ok = json(200, { operation: 'cancel', orderId: 'x' });
    expect(metricsOf({ result: ok }, 30, 'unknown')).toMatchObject({
      operation: 'cancel',
      ordersCancelled: 1,
      failed: false,
    });
    expect(metricsOf({ result: json(400, { error: 'ValidationError' }) }, 1, 'unknown').failed).toBe(false);
    expect(metricsOf({ result: json(503, { error: 'ExchangeUnavailableError' }) }, 1, 'unknown').failed).toBe(
      true,
    );
  });

  it('counts a refusal (4xx) under the operation it names, as a refusal and not a run', () => {
    const refused = metricsOf(
      { result: json(409, { error: 'StaleHeartbeatError', operation: 'heartbeat' }) },
      3,
      'unknown',
    );
    expect(refused).toMatchObject({ operation: 'heartbeat', failed: false, refused: true });
    const line = JSON.parse(emfLine('n', refused, 1));
    expect(line).toMatchObject({ Operation: 'heartbeat', Runs: 0, Refusals: 1, Failures: 0 });
    // A direct heartbeat's answer carries its status the same way; a 200 is a run, not a refusal.
    const direct = metricsOf({ result: { statusCode: 400, operation: 'heartbeat' } }, 3, 'unknown');
    expect(direct.refused).toBe(true);
    const served = metricsOf(
      { result: { statusCode: 200, operation: 'heartbeat', armed: true } },
      3,
      'unknown',
    );
    expect(served).not.toHaveProperty('refused');
    expect(JSON.parse(emfLine('n', served, 1))).toMatchObject({ Runs: 1 });
    expect(JSON.parse(emfLine('n', served, 1))).not.toHaveProperty('Refusals');
  });

  it('falls back to the operation the trigger implies when the work failed before reporting', () => {
    expect(metricsOf({ error: new Error('secret unreadable') }, 9, 'killSwitch')).toMatchObject({
      operation: 'killSwitch',
      failed: true,
    });
  });
});

describe('emfLine', () => {
  it('declares every metric under the Operation dimension', () => {
    const line = JSON.parse(
      emfLine(
        'BybitCancel/prod',
        metricsOf({ result: { operation: 'sweep', cancelled: 4, remaining: 1 } }, 10, 'unknown'),
        1,
      ),
    );
    expect(line._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'BybitCancel/prod',
      Dimensions: [['Operation']],
    });
    expect(line._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual([
      'Runs',
      'OrdersCancelled',
      'OrdersLeftOpen',
      'Failures',
      'Duration',
    ]);
    expect(line).toMatchObject({
      Operation: 'sweep',
      Runs: 1,
      OrdersCancelled: 4,
      OrdersLeftOpen: 1,
      Failures: 0,
      Duration: 10,
    });
    // What did not happen is not written (each metric with data costs a month): no budget or stack metrics.
    expect(line._aws.CloudWatchMetrics).toHaveLength(1);
    expect('IpBudgetWaits' in line || 'NotifyFailures' in line).toBe(false);
  });

  it('declares the notification and state-table failures once for the whole stack, without a dimension', () => {
    const metrics = {
      ...metricsOf({ result: { operation: 'killSwitch', ok: true } }, 10, 'unknown'),
      notifyFailures: 2,
      stateFailures: 1,
      ipBudgetWaits: 7,
      ipRefusals: 1,
    };
    const line = JSON.parse(emfLine('BybitCancel/prod', metrics, 1));
    expect(line._aws.CloudWatchMetrics[1]).toEqual({
      Namespace: 'BybitCancel/prod',
      Dimensions: [[]],
      Metrics: [
        { Name: 'NotifyFailures', Unit: 'Count' },
        { Name: 'StateFailures', Unit: 'Count' },
      ],
    });
    expect(line).toMatchObject({ NotifyFailures: 2, StateFailures: 1, IpBudgetWaits: 7, IpRefusals: 1 });
    expect(line._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toContain(
      'IpRefusals',
    );
  });

  it('names in METRIC_NAMES every metric a line declares, and no other', () => {
    const drill = { operation: 'drill', ok: true, accounts: [] };
    const metrics = {
      ...metricsOf({ result: drill }, 1, 'unknown'),
      refused: true,
      ipBudgetWaits: 1,
      ipRefusals: 1,
      notifyFailures: 1,
    };
    const line = JSON.parse(emfLine('n', metrics, 1));
    const declared = line._aws.CloudWatchMetrics.flatMap((d: { Metrics: { Name: string }[] }) =>
      d.Metrics.map((m) => m.Name),
    );
    expect([...declared].sort()).toEqual([...METRIC_NAMES].sort());
  });
});

describe('drill metrics', () => {
  const drillReport = {
    operation: 'drill',
    ok: false,
    accounts: [
      { account: 'a', problems: [{ code: 'readOnly' }], warnings: [{ code: 'noIpBound' }] },
      { account: 'b', problems: [{ code: 'keyExpiresSoon' }, { code: 'listingFailed' }], warnings: [] },
      { account: 'c', problems: [], warnings: [{ code: 'notUnified' }] },
    ],
  };

  it('counts problems and warnings over every account, from the report a failed drill carries', () => {
    const metrics = metricsOf({ error: { report: drillReport } }, 50, 'unknown');
    expect(metrics).toMatchObject({ operation: 'drill', failed: true, drillProblems: 3, drillWarnings: 2 });
    const line = JSON.parse(emfLine('BybitCancel/prod', metrics, 1));
    expect(line).toMatchObject({ Operation: 'drill', Failures: 1, DrillProblems: 3, DrillWarnings: 2 });
    expect(line._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual([
      'Runs',
      'OrdersCancelled',
      'OrdersLeftOpen',
      'Failures',
      'Duration',
      'DrillProblems',
      'DrillWarnings',
    ]);
  });

  it('reads a passing drill from its 200 answer, and adds no drill metrics to other operations', () => {
    const passed = { ...drillReport, ok: true, accounts: [drillReport.accounts[2]] };
    expect(metricsOf({ result: json(200, passed) }, 5, 'unknown')).toMatchObject({
      failed: false,
      drillProblems: 0,
      drillWarnings: 1,
    });
    const sweep = JSON.parse(emfLine('n', metricsOf({ result: { operation: 'sweep' } }, 1, 'unknown'), 1));
    expect('DrillProblems' in sweep).toBe(false);
  });
});

describe('the EMF document, field by field', () => {
  const base = {
    operation: 'killSwitch',
    ordersCancelled: 3,
    ordersLeftOpen: 1,
    failed: true,
    durationMs: 42,
  } as const;

  it('names every metric with its unit, under Operation, and per origin when there is one', () => {
    const plain = JSON.parse(emfLine('BybitCancel-prod', base, 1_700_000_000_000, 'req-1'));
    expect(plain).toEqual({
      requestId: 'req-1',
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'BybitCancel-prod',
            Dimensions: [['Operation']],
            Metrics: [
              { Name: 'Runs', Unit: 'Count' },
              { Name: 'OrdersCancelled', Unit: 'Count' },
              { Name: 'OrdersLeftOpen', Unit: 'Count' },
              { Name: 'Failures', Unit: 'Count' },
              { Name: 'Duration', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      Operation: 'killSwitch',
      Runs: 1,
      OrdersCancelled: 3,
      OrdersLeftOpen: 1,
      Failures: 1,
      Duration: 42,
    });
    const fired = JSON.parse(emfLine('N', { ...base, failed: false, origin: 'deadMansSwitch' }, 0));
    expect(fired._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Operation'], ['Operation', 'Origin']]);
    expect(fired).toMatchObject({ Origin: 'deadMansSwitch', Failures: 0 });
  });

  it('adds the drill metrics when either drill count is there, with 0 for the other', () => {
    for (const counts of [{ drillProblems: 2 }, { drillWarnings: 5 }]) {
      const line = JSON.parse(emfLine('N', { ...base, operation: 'drill', ...counts }, 0));
      expect(line._aws.CloudWatchMetrics[0].Metrics.slice(5)).toEqual([
        { Name: 'DrillProblems', Unit: 'Count' },
        { Name: 'DrillWarnings', Unit: 'Count' },
      ]);
      expect(line).toMatchObject({
        DrillProblems: counts.drillProblems ?? 0,
        DrillWarnings: counts.drillWarnings ?? 0,
      });
    }
  });
});

describe('metricsOf, edges', () => {
  it('keeps the origin a report names, and counts a 500 answer as failed but a 499 not', () => {
    const report = { operation: 'killSwitch', origin: 'deadMansSwitch', cancelled: 2, remaining: 0 };
    expect(metricsOf({ result: report }, 1, 'unknown')).toMatchObject({ origin: 'deadMansSwitch' });
    expect(metricsOf({ result: { ...report, origin: 7 } }, 1, 'unknown')).not.toHaveProperty('origin');
    expect(metricsOf({ result: json(500, { error: 'InternalError' }) }, 1, 'cancel').failed).toBe(true);
    expect(metricsOf({ result: json(499, { error: 'x' }) }, 1, 'cancel').failed).toBe(false);
  });

  it('reads no report from an HTTP answer whose body is not JSON', () => {
    const answer = { statusCode: 502, body: 'not json' };
    expect(metricsOf({ result: answer }, 1, 'cancelAll')).toEqual({
      operation: 'cancelAll',
      ordersCancelled: 0,
      ordersLeftOpen: 0,
      failed: true,
      durationMs: 1,
    });
  });

  it('counts drill problems over accounts, skipping entries that are not accounts', () => {
    const report = { operation: 'drill', accounts: [null, { problems: ['a', 'b'] }, { warnings: 'x' }] };
    expect(metricsOf({ result: report }, 1, 'unknown')).toMatchObject({ drillProblems: 2, drillWarnings: 0 });
  });
});

describe('requestedCancelAll', () => {
  it('counts a drill handed to the drill function apart from drill runs (the drill-missing alarm counts those)', () => {
    const started = { operation: 'drillStart', started: true, function: 'bybit-cancel-prod-drill' };
    expect(metricsOf({ result: started }, 1, 'unknown')).toMatchObject({ operation: 'drillStart' });
    expect(metricsOf({ result: started }, 1, 'unknown')).not.toHaveProperty('drillProblems');
  });

  it('tells a drill hand-over, a scope and the kill switch apart by the body', () => {
    expect(requestedCancelAll({ drill: true })).toBe('drillStart');
    expect(requestedCancelAll({ drill: 'true', category: 'linear' })).toBe('cancelAll');
    expect(requestedCancelAll({ category: 'spot' })).toBe('cancelAll');
    expect(requestedCancelAll({})).toBe('killSwitch');
    expect(requestedCancelAll(undefined)).toBe('killSwitch');
    expect(requestedCancelAll(null)).toBe('killSwitch');
  });
});

describe('the EMF document, the occasional and stack metrics', () => {
  const base = {
    operation: 'sweep',
    ordersCancelled: 0,
    ordersLeftOpen: 0,
    failed: false,
    durationMs: 5,
  } as const;

  it('declares a refusal as a count, like every other occasional metric', () => {
    const line = JSON.parse(emfLine('N', { ...base, refused: true, ipBudgetWaits: 2 }, 0));
    expect(line._aws.CloudWatchMetrics[0].Metrics.slice(5)).toEqual([
      { Name: 'Refusals', Unit: 'Count' },
      { Name: 'IpBudgetWaits', Unit: 'Count' },
    ]);
    expect(line).toMatchObject({ Runs: 0, Refusals: 1, IpBudgetWaits: 2 });
  });

  it('declares the stack series for a state-table failure alone', () => {
    const line = JSON.parse(emfLine('N', { ...base, stateFailures: 1 }, 0));
    expect(line._aws.CloudWatchMetrics[1]).toEqual({
      Namespace: 'N',
      Dimensions: [[]],
      Metrics: [
        { Name: 'NotifyFailures', Unit: 'Count' },
        { Name: 'StateFailures', Unit: 'Count' },
      ],
    });
    expect(line).toMatchObject({ NotifyFailures: 0, StateFailures: 1 });
  });
});

describe('metricsOf, a 500 answer', () => {
  it('counts a 500 answer as a failed run, never as a refusal', () => {
    const metrics = metricsOf({ result: json(500, { error: 'InternalError' }) }, 1, 'cancel');
    expect(metrics).toEqual({
      operation: 'cancel',
      ordersCancelled: 0,
      ordersLeftOpen: 0,
      failed: true,
      durationMs: 1,
    });
  });
});
