// A local Serverless plugin that adds the CloudWatch dashboard `<service>-<stage>` to the packaged template,
// built from what the template holds: the metrics namespace, the alarms (their status widget) and the log
// groups of the functions that write reports. Every metric it shows is one the functions write
// (lib/lambda/metrics.ts METRIC_NAMES; a test checks it). docs/operations/monitoring.md explains each widget.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} here is CloudFormation Fn::Sub syntax, not JavaScript.
'use strict';

/** Operations with their own series (the `Operation` dimension of every metric). */
const OPERATIONS = ['killSwitch', 'cancelAll', 'cancel', 'sweep', 'drill', 'heartbeat', 'status', 'reset'];
/** The operations that send to Bybit, and so wait for the IP budget or meet its 403. */
const EXCHANGE_OPERATIONS = ['killSwitch', 'cancelAll', 'cancel', 'sweep', 'drill', 'reset'];
/** The functions whose `report` lines the table of recent runs reads. */
const REPORTING_FUNCTIONS = ['cancelAll', 'drill', 'cancel', 'reset'];
const FIVE_MINUTES = 300;
const HOUR = 3600;
const RED = '#d62728';

class Dashboard {
  constructor(serverless) {
    this.serverless = serverless;
    // After the resources of serverless.yml (the alarms) are merged in, before the template is written.
    this.hooks = { 'after:aws:package:finalize:mergeCustomProviderResources': () => this.add() };
  }

  add() {
    const { service } = this.serverless;
    const stage = this.serverless.getProvider('aws').getStage();
    const name = `${service.service}-${stage}`;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const namespace = service.provider.environment?.METRICS_NAMESPACE;
    if (typeof namespace !== 'string') return;
    // Alarms that always exist (a conditional one may be left out of the stack).
    const alarms = Object.values(resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && !r.Condition)
      .map((r) => r.Properties.AlarmName)
      .filter((alarm) => typeof alarm === 'string');
    const logGroups = REPORTING_FUNCTIONS.map((fn) => `/aws/lambda/${name}-${fn}`).filter((group) =>
      Object.values(resources).some(
        (r) => r.Type === 'AWS::Logs::LogGroup' && r.Properties.LogGroupName === group,
      ),
    );
    resources.Dashboard = {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardName: name,
        DashboardBody: { 'Fn::Sub': JSON.stringify(body(name, namespace, alarms, logGroups)) },
      },
    };
  }
}

/** The dashboard: widgets two to a row, each 12 wide. */
function body(name, namespace, alarms, logGroups) {
  const metric = (metricName, operation, options = {}, origin) => [
    namespace,
    metricName,
    'Operation',
    operation,
    ...(origin ? ['Origin', origin] : []),
    options,
  ];
  const graph = (title, metrics, extra = {}) => ({
    type: 'metric',
    properties: {
      title,
      region: '${AWS::Region}',
      view: 'timeSeries',
      stat: 'Sum',
      period: FIVE_MINUTES,
      metrics,
      ...extra,
    },
  });
  const widgets = [
    {
      type: 'text',
      width: 24,
      height: 2,
      properties: {
        markdown: `## ${name}\nEvery kill switch, drill and IP ban is also sent to the reports topic. \`npm run kill-switch -- --status --stage <stage>\` says how the stack stands; the table at the bottom lists the last reports.`,
      },
    },
    graph('Kill switches: runs, failures, who fired them', [
      metric('Runs', 'killSwitch', { label: 'kill switches' }),
      metric('Failures', 'killSwitch', { label: 'failed', color: RED }),
      metric('Runs', 'killSwitch', { label: "dead man's switch" }, 'deadMansSwitch'),
      metric('Runs', 'killSwitch', { label: 'npm run kill-switch' }, 'cli'),
    ]),
    graph(
      'Kill-switch duration (ms)',
      [
        metric('Duration', 'killSwitch', { stat: 'Maximum', label: 'longest' }),
        metric('Duration', 'killSwitch', { stat: 'Average', label: 'average' }),
      ],
      { stat: 'Maximum' },
    ),
    graph('Orders cancelled and left open', [
      ...['killSwitch', 'cancelAll', 'sweep'].map((op) =>
        metric('OrdersCancelled', op, { label: `${op} cancelled` }),
      ),
      ...['killSwitch', 'cancelAll', 'sweep'].map((op) =>
        metric('OrdersLeftOpen', op, {
          label: `${op} left open`,
          color: op === 'killSwitch' ? RED : undefined,
        }),
      ),
    ]),
    graph(
      'Failures per operation',
      OPERATIONS.map((op) => metric('Failures', op, { label: op })),
    ),
    graph(
      'Drill: runs, problems, warnings (per hour)',
      [
        metric('Runs', 'drill', { label: 'drills' }),
        metric('DrillProblems', 'drill', { label: 'problems', color: RED }),
        metric('DrillWarnings', 'drill', { label: 'warnings' }),
      ],
      { period: HOUR },
    ),
    graph("Dead man's switch: heartbeats and firings", [
      metric('Runs', 'heartbeat', { label: 'heartbeats' }),
      metric('Failures', 'heartbeat', { label: 'failed heartbeats', color: RED }),
      metric('Refusals', 'heartbeat', { label: 'refused heartbeats' }),
      metric('Runs', 'killSwitch', { label: 'fired' }, 'deadMansSwitch'),
    ]),
    graph('IP budget: requests that waited, and 403 refusals', [
      ...EXCHANGE_OPERATIONS.map((op) => metric('IpBudgetWaits', op, { label: `${op} waited` })),
      ...EXCHANGE_OPERATIONS.map((op) => metric('IpRefusals', op, { label: `${op} 403`, color: RED })),
    ]),
    graph('Reports not sent, records not written', [
      [namespace, 'NotifyFailures', { label: 'notifications failed', color: RED }],
      [namespace, 'StateFailures', { label: 'state table failures' }],
    ]),
    {
      type: 'alarm',
      properties: {
        title: 'Alarms',
        alarms: alarms.map(
          (alarm) => `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${alarm}`,
        ),
      },
    },
  ];
  if (logGroups.length > 0) {
    widgets.push({
      type: 'log',
      width: 24,
      height: 8,
      properties: {
        title: 'The last 20 reports (kill switches, drills, sweeps, cancels, resets)',
        region: '${AWS::Region}',
        view: 'table',
        query: `${logGroups.map((group) => `SOURCE '${group}'`).join(' | ')} | filter message = "report" | fields @timestamp, report.operation as operation, report.ok as ok, report.origin as origin, report.cancelled as cancelled, report.remaining as remaining, requestId | sort @timestamp desc | limit 20`,
      },
    });
  }
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const widget of widgets) {
    widget.width ??= 12;
    widget.height ??= 6;
    if (x + widget.width > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    Object.assign(widget, { x, y });
    x += widget.width;
    rowHeight = Math.max(rowHeight, widget.height);
  }
  return { widgets };
}

module.exports = Dashboard;
