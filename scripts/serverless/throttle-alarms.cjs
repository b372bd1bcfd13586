// A local Serverless plugin: one CloudWatch alarm on Lambda's Throttles for every function of the template,
// this one's and any added later. A throttled webhook is refused at once and is lost for a sender that does
// not retry (TradingView sends an alert once); a throttled asynchronous event waits in Lambda's retries. Either
// way a person must hear of it.
'use strict';

class ThrottleAlarms {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.add() };
  }

  add() {
    const { service } = this.serverless;
    const resources = service.provider.compiledCloudFormationTemplate.Resources;
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    for (const [logicalId, fn] of functions) {
      const name = fn.Properties.FunctionName;
      resources[`${logicalId.replace(/LambdaFunction$/, '')}ThrottlesAlarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: `${name}-throttled`,
          AlarmDescription: `Lambda refused invocations of ${name} (reserved concurrency reached). A webhook caller got an error: TradingView does not resend, so re-send the alert by hand; an EventBridge or dead man's switch event is retried for up to 5 minutes, then goes to the failure queue.`,
          Namespace: 'AWS/Lambda',
          MetricName: 'Throttles',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId } }],
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
        },
      };
    }
  }
}

module.exports = ThrottleAlarms;
