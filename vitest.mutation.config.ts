// The tests Stryker runs for each mutant of lib/lambda, lib/cancel and lib/bybit (stryker.config.mjs): the
// unit tests (lib/lambda's with fake SDK clients and transports: no sockets).
// The integration tests (emulator, Secrets Manager endpoint, handlers) cover the same code, but each costs
// seconds to start and they cover nearly every mutant of the client: measured at about 17 s a mutant on two
// shared cores (495 mutants of lib/bybit alone: over two hours). They stay in `npm test`, and each planted
// bug of issue 17 has a test there (docs/development/testing.md).

import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  test: {
    ...base.test,
    globalSetup: [],
    // The unit tests, and the wire's own loopback test (transport.ts has no unit to test without a socket).
    include: ['test/unit/**/*.test.ts', 'test/integration/transport.test.ts'],
    // Tests of the packaging scripts and the CloudFormation spec cover nothing under mutation.
    exclude: [...configDefaults.exclude, 'test/unit/cfn-spec.test.ts', 'test/unit/bench-*.test.ts'],
  },
});
