// Vitest global setup: package the service once per test run and hand the result to every test file
// (two concurrent `serverless package` runs would race on serverless-esbuild's work folder).

import type { TestProject } from 'vitest/node';
import { type PackagedService, packageService } from './bundle.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    packaged: PackagedService;
  }
}

export default async function setup(project: TestProject) {
  project.provide('packaged', await packageService());
}
