// The project's vitest configuration, on the quiet-output fixture only, without packaging the service.

import { defineConfig } from 'vitest/config';
import project from '../../../vitest.config.ts';

export default defineConfig({
  ...project,
  test: { ...project.test, include: ['test/support/quiet-output/fixture.ts'], globalSetup: [] },
});
