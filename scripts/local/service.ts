// What serverless.yml says about the deployed service, read from the file so that it is said in one place.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './state.ts';

/** serverless.yml's region when none is given, should the file stop saying: the documented default. */
const FALLBACK_REGION = 'ap-southeast-1';

function serverlessYml(): string {
  return readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
}

/** The service name (deployed function names, secret ids and the failure queue start with it). */
export function serviceName(): string {
  const match = /^service:\s*([\w-]+)\s*$/m.exec(serverlessYml());
  if (!match?.[1]) throw new Error('serverless.yml has no "service:" line');
  return match[1];
}

/** The region `serverless deploy` uses without --region (provider.region's default). */
export function defaultRegion(): string {
  return /^\s+region:\s*\$\{opt:region,\s*'([a-z0-9-]+)'\}/m.exec(serverlessYml())?.[1] ?? FALLBACK_REGION;
}
