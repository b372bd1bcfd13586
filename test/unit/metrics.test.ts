import { describe, expect, it } from 'vitest';
import { IncompleteCancelError } from '../../lib/errors.ts';
import { json } from '../../lib/lambda/http.ts';
import { emfLine, METRIC_NAMES, metricsOf } from '../../lib/lambda/metrics.ts';

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
