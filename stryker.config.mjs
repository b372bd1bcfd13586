// Mutation testing of the three rooms: how AWS reaches us (lib/lambda), the domain (lib/cancel) and the
// Bybit client (lib/bybit): `npm run test:mutation`. The last score is in docs/development/testing.md, and
// every survivor of that run, with its verdict, in docs/development/mutation-survivors.md.
// @ts-check

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  // The checker type-checks lib/ only (tsconfig.mutation.json): with the tests in its program each mutant
  // cost about three times as long to check, and the checker, not the tests, set the pace of a run.
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  mutate: ['lib/lambda/**/*.ts', 'lib/cancel/**/*.ts', 'lib/bybit/**/*.ts'],
  coverageAnalysis: 'perTest',
  // Reruns only test what changed since the last run. The file is a local cache, not committed
  // (see docs/development/testing.md): CI restores it from its own cache when it has one.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // The integration tests bind loopback ports and time real requests: one mutant at a time by default
  // (override with --concurrency on a machine with cores to spare).
  concurrency: 1,
  timeoutMS: 15_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: 85 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
