// The tests Stryker runs for each mutant of lib/cancel and lib/bybit (stryker.config.mjs): the unit and
// integration tests that exercise the domain and the client. Left out: the packaged-bundle tests (they test
// the zip, built once, not the mutated source), the emulator's own tests, scripts, the CloudFormation
// checks, the property-based webhook fuzzing and the seeded campaigns of test/reliability
// (`npm run test:faults`).

import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  test: {
    ...base.test,
    globalSetup: [],
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      'test/integration/bundle.test.ts',
      'test/integration/template-security.test.ts',
      'test/integration/start.test.ts',
      'test/integration/scripts.test.ts',
      'test/integration/emulator.test.ts',
      'test/integration/secrets-manager-endpoint.test.ts',
      'test/integration/fuzz-webhook.test.ts',
      'test/unit/cfn-spec.test.ts',
      'test/unit/bench-*.test.ts',
    ],
  },
});
