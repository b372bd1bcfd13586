// A local Serverless plugin: `serverless package` (and so `deploy`) stops, before anything is built, on what
// lib/lambda/deploy-checks.ts finds: a malformed setting (by the very rules the functions read it with), or
// more IP budget than Bybit allows one IP. A typo must fail the deploy, not the first kill switch.
'use strict';

class DeployChecks {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:initialize': () => this.check() };
  }

  async check() {
    const { deploymentProblems } = await import('../../lib/lambda/deploy-checks.ts');
    const { service } = this.serverless;
    // Functions that never send to Bybit (serverless.yml custom.ipBudgetExempt).
    const exempt = new Set(service.custom?.ipBudgetExempt ?? []);
    const functions = service.getAllFunctions().map((name) => {
      const fn = service.getFunction(name);
      return {
        name,
        environment: { ...(service.provider.environment ?? {}), ...(fn.environment ?? {}) },
        reservedConcurrency: fn.reservedConcurrency,
        sendsToBybit: !exempt.has(name),
      };
    });
    const problems = deploymentProblems(functions);
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `the deployment would not work as configured:\n  - ${problems.join('\n  - ')}`,
      );
    }
  }
}

module.exports = DeployChecks;
