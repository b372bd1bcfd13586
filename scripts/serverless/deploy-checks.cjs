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
    // The functions that send to Bybit (serverless.yml custom.exchangeFunctions).
    const exchange = new Set(service.custom?.exchangeFunctions ?? []);
    const functions = service.getAllFunctions().map((name) => {
      const fn = service.getFunction(name);
      return {
        name,
        environment: { ...(service.provider.environment ?? {}), ...(fn.environment ?? {}) },
        reservedConcurrency: fn.reservedConcurrency,
        sendsToBybit: exchange.has(name),
      };
    });
    // RESERVED_CONCURRENCY=false: no reservation bounds the containers; reserved-concurrency.cjs sizes each
    // one's share and `npm run preflight` checks it against the account's limit instead.
    const reserved = String(service.custom?.reservedConcurrency?.enabled ?? true) !== 'false';
    const problems = deploymentProblems(functions, { ipBudget: reserved });
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `the deployment would not work as configured:\n  - ${problems.join('\n  - ')}`,
      );
    }
  }
}

module.exports = DeployChecks;
