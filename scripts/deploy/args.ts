// The arguments the deploy tools share with `serverless deploy`: --stage, --region and --param="NAME=value".

import { parseArgs } from 'node:util';
import { defaultRegion } from '../local/service.ts';

const STAGE = /^[a-zA-Z0-9-]{1,32}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const PARAM = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** A wrong argument: the tools print the message and their usage, and exit 2. */
export class UsageError extends Error {}

export interface DeployArgs {
  stage: string;
  region: string;
  params: Record<string, string>;
  flags: Record<string, boolean>;
}

/** Reads --stage (required), --region (default: serverless.yml's), --param (repeatable) and the given flags. */
export function readDeployArgs(argv: string[], flags: string[] = []): DeployArgs {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stage: { type: 'string' },
        region: { type: 'string' },
        param: { type: 'string', multiple: true },
        ...Object.fromEntries(flags.map((flag) => [flag, { type: 'boolean' as const }])),
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const stage = checkStage(
    values.stage as string | undefined,
    'the stage you deploy, as serverless deploy --stage',
  );
  const region = checkRegion((values.region as string | undefined) ?? defaultRegion());
  const params: Record<string, string> = {};
  for (const param of (values.param as string[] | undefined) ?? []) {
    const match = PARAM.exec(param);
    if (!match) throw new UsageError(`--param "${param}" is not NAME=value`);
    params[match[1] as string] = match[2] as string;
  }
  return {
    stage,
    region,
    params,
    flags: Object.fromEntries(flags.map((flag) => [flag, values[flag] === true])),
  };
}

/** `--stage`, required: a stage name as serverless takes it; `what` says which stage is meant. */
export function checkStage(stage: string | undefined, what: string): string {
  if (stage === undefined) throw new UsageError(`--stage is required (${what})`);
  if (!STAGE.test(stage)) throw new UsageError(`--stage "${stage}" is not a stage name (letters, digits, -)`);
  return stage;
}

/** `--region`: an AWS region's name. */
export function checkRegion(region: string): string {
  if (!REGION.test(region))
    throw new UsageError(`--region "${region}" is not an AWS region, e.g. ap-southeast-1`);
  return region;
}

/**
 * Runs a deploy tool: `--help` prints the usage; a UsageError exits 2 with its reason and the usage; any other
 * failure exits 1 with its message (the tools' own errors are written for the person at the terminal).
 */
export function runTool(usage: string, main: () => Promise<void>): void {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${usage}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`✘ ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
