import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Package the service once for every file; print the run's secret-hygiene total at the end.
    globalSetup: ['test/support/package-once.ts', 'test/support/hygiene-ledger.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests bind loopback ports and measure request counts: keep files isolated.
    pool: 'forks',
    // quiet-output.ts turns the functions' stdout lines into console lines of the test that wrote them;
    // secret-hygiene.ts (after it, so it wraps it) checks every log line, response and error for secrets.
    setupFiles: ['test/support/quiet-output.ts', 'test/support/secret-hygiene.ts'],
    // A passing test's output is dropped; a failing test's (or hook's) is printed under its name.
    silent: 'passed-only',
  },
});
