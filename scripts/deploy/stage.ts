// What a deploy of one stage would create, as far as the deploy tools need it: `serverless print` resolves
// serverless.yml offline (no AWS call, no build) with the same --stage, --region and --param flags a deploy
// takes, and this reads the functions, their settings, reservations and the deploy-time parameters from it.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../local/state.ts';

/** A function as it would be deployed. */
export interface PlannedFunction {
  /** The deployed name: `<service>-<stage>-<function>`. */
  fullName: string;
  /** Reserved concurrency; undefined when the function reserves none. */
  reserved?: number;
  provisioned: number;
  /** Its environment: provider's and its own; values only known at deploy time are `<deploy time>`. */
  env: Record<string, string>;
  /** It calls Bybit (custom.exchangeFunctions): it holds a share of the IP limit. */
  callsExchange: boolean;
}

export interface StagePlan {
  service: string;
  stage: string;
  region: string;
  /** The CloudFormation stack: `<service>-<stage>`. */
  stackName: string;
  functions: Record<string, PlannedFunction>;
  /** Every stage parameter, as the deploy resolves it: --param, then params.<stage>, then params.default. */
  params: Record<string, string>;
}

export interface StageOptions {
  stage: string;
  region: string;
  /** `NAME=value` overrides, as `--param` passes them. */
  params: Record<string, string>;
}

const DEPLOY_TIME = '<deploy time>';
const PRINT_TIMEOUT_MS = 120_000;

/** Resolves serverless.yml for a stage, offline; `print` runs `serverless print` (replaceable in tests). */
export async function resolveStage(options: StageOptions, print = serverlessPrint): Promise<StagePlan> {
  return planOf(await print(options), options);
}

/** The resolved configuration, as `serverless print --format json` writes it. */
export async function serverlessPrint(options: StageOptions): Promise<Record<string, unknown>> {
  const args = ['print', '--format', 'json', '--stage', options.stage, '--region', options.region];
  for (const [name, value] of Object.entries(options.params)) args.push(`--param=${name}=${value}`);
  try {
    const { stdout } = await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'serverless'), args, {
      cwd: ROOT,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
      timeout: PRINT_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout);
  } catch (error) {
    // Serverless writes its own error (an unresolved variable, a wrong value) on stdout.
    const said = (error as { stdout?: string }).stdout?.trim();
    throw new Error(
      `serverless.yml does not resolve for stage ${options.stage}: ${said || (error as Error).message}`,
    );
  }
}

type Json = Record<string, unknown>;

/** The plan of a resolved configuration. */
export function planOf(config: Json, options: StageOptions): StagePlan {
  const service = String(config.service);
  const provider = (config.provider ?? {}) as Json;
  const custom = (config.custom ?? {}) as Json;
  const fileParams = (config.params ?? {}) as Record<string, Json>;
  const params: Record<string, string> = {};
  for (const source of [fileParams.default, fileParams[options.stage], options.params]) {
    for (const [name, value] of Object.entries(source ?? {})) params[name] = text(value);
  }
  const exchange = new Set((custom.exchangeFunctions as string[] | undefined) ?? []);
  // RESERVED_CONCURRENCY=false, as scripts/serverless/reserved-concurrency.cjs applies it.
  const unreserved = params.RESERVED_CONCURRENCY === 'false';
  const functions: Record<string, PlannedFunction> = {};
  for (const [name, fn] of Object.entries((config.functions ?? {}) as Record<string, Json>)) {
    const env = envOf({ ...(provider.environment as Json), ...(fn.environment as Json) });
    if (unreserved && exchange.has(name))
      env.BYBIT_IP_REQUESTS_PER_5S = params.UNRESERVED_IP_REQUESTS_PER_5S ?? '';
    const reserved = unreserved ? undefined : integerOrUndefined(fn.reservedConcurrency);
    functions[name] = {
      fullName: typeof fn.name === 'string' ? fn.name : `${service}-${options.stage}-${name}`,
      ...(reserved === undefined ? {} : { reserved }),
      provisioned: integerOrUndefined(fn.provisionedConcurrency) ?? 0,
      env,
      callsExchange: exchange.has(name),
    };
  }
  return {
    service,
    stage: options.stage,
    region: options.region,
    stackName: `${service}-${options.stage}`,
    functions,
    params,
  };
}

function envOf(values: Json): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      typeof value === 'object' ? DEPLOY_TIME : text(value),
    ]),
  );
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? DEPLOY_TIME : String(value);
}

function integerOrUndefined(value: unknown): number | undefined {
  const number = Number(value);
  return value === undefined || value === null || value === '' || !Number.isInteger(number)
    ? undefined
    : number;
}
