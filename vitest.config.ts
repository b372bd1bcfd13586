import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/package-once.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests bind loopback ports and measure request counts: keep files isolated.
    pool: 'forks',
    // Checks every log line, response and error of every test file for secrets (see the file).
    setupFiles: ['test/support/secret-hygiene.ts'],
  },
});
