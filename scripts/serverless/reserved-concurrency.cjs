// A local Serverless plugin for RESERVED_CONCURRENCY (serverless.yml, custom.reservedConcurrency). By
// default each function that calls Bybit reserves a few containers, and each container holds a share of
// the IP limit sized for that count (docs/concepts/capacity.md). An account whose Lambda limit is 10 (or
// up to 100) cannot reserve anything: AWS keeps that many unreserved. With `enabled: false` this removes
// every reservation and gives each exchange function's container `unreservedIpRequestsPer5s` instead. Then
// only the account's concurrency limit caps the containers, so limit × share must stay under Bybit's 600:
// `npm run preflight` checks it against the account.
'use strict';

class ReservedConcurrency {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      // A wrong value fails before anything is built.
      'before:package:initialize': () => this.settings(),
      // Before the functions are compiled: the budget is part of a function's configuration (and version).
      'before:package:compileFunctions': () => this.apply(),
    };
  }

  settings() {
    const settings = this.serverless.service.custom?.reservedConcurrency ?? {};
    const ServerlessError = this.serverless.classes.Error;
    const enabled = String(settings.enabled ?? true);
    if (enabled !== 'true' && enabled !== 'false') {
      throw new ServerlessError(`RESERVED_CONCURRENCY is "${enabled}": use true or false`);
    }
    const share = Number(settings.unreservedIpRequestsPer5s);
    if (!Number.isInteger(share) || share < 1 || share > 600) {
      throw new ServerlessError(
        `UNRESERVED_IP_REQUESTS_PER_5S is "${settings.unreservedIpRequestsPer5s}": use an integer from 1 to 600`,
      );
    }
    return {
      reserved: enabled === 'true',
      share,
      exchangeFunctions: new Set(settings.exchangeFunctions ?? []),
    };
  }

  apply() {
    const { service } = this.serverless;
    const { reserved, share, exchangeFunctions } = this.settings();
    if (reserved) return;
    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      delete fn.reservedConcurrency;
      if (exchangeFunctions.has(name))
        fn.environment = { ...fn.environment, BYBIT_IP_REQUESTS_PER_5S: String(share) };
    }
  }
}

module.exports = ReservedConcurrency;
