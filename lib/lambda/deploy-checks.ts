// What must hold before a stage is deployed, checked on the functions as serverless.yml resolves them (the
// local plugin scripts/serverless/deploy-checks.cjs runs it at `serverless package`; any other check before a
// deploy can call it too):
//   1. every setting each function gets reads as the function itself would read it (config.ts's rules);
//   2. the IP budget: Bybit allows one IP 600 requests per 5 s, for every key. Each container of a function
//      that sends to Bybit holds its own BYBIT_IP_REQUESTS_PER_5S, so Σ reservedConcurrency × that share over
//      those functions must stay within 600, and each of them needs a reserved concurrency to be counted.

import { IP_LIMIT_PER_5S } from '../bybit/ip-budget.ts';
import { readSettings } from './config.ts';

export interface DeployedFunction {
  /** The function's name in serverless.yml (`cancelAll`). */
  name: string;
  /** Its environment as deployed (provider and function settings); values that are not text are skipped. */
  environment: Record<string, unknown>;
  /** Its reserved concurrency, when set: the most containers it can have at once. */
  reservedConcurrency?: unknown;
  /** False for a function that never sends to Bybit (the heartbeat): left out of the IP arithmetic. */
  sendsToBybit: boolean;
}

/**
 * Everything that must be fixed before a deploy, one sentence each; empty when the deployment may go.
 * `ipBudget: false` leaves out the IP arithmetic (no reservation bounds the containers: RESERVED_CONCURRENCY
 * false, where the account's concurrency limit is what must be checked).
 */
export function deploymentProblems(
  functions: readonly DeployedFunction[],
  { ipBudget = true }: { ipBudget?: boolean } = {},
): string[] {
  const problems: string[] = [];
  // A setting most functions share is named once, with the functions that get it.
  const settings = new Map<string, string[]>();
  const shares: { name: string; containers: number; share: number }[] = [];
  for (const fn of functions) {
    const env = textOnly(fn.environment);
    const { config, problems: malformed } = readSettings(env);
    for (const p of malformed) settings.set(p.message, [...(settings.get(p.message) ?? []), fn.name]);
    if (!fn.sendsToBybit || !ipBudget) continue;
    const containers = Number(fn.reservedConcurrency);
    if (fn.reservedConcurrency === undefined || !Number.isInteger(containers) || containers < 1) {
      problems.push(
        `function ${fn.name}: sends to Bybit without a reserved concurrency, so nothing bounds how many containers (each with ${config.ipRequestsPer5s} requests per 5 s) share the IP`,
      );
      continue;
    }
    shares.push({ name: fn.name, containers, share: config.ipRequestsPer5s });
  }
  const total = shares.reduce((sum, s) => sum + s.containers * s.share, 0);
  if (total > IP_LIMIT_PER_5S) {
    const terms = shares.map((s) => `${s.name} ${s.containers} × ${s.share}`).join(' + ');
    problems.push(
      `IP budget: ${terms} = ${total} requests per 5 s, above Bybit's ${IP_LIMIT_PER_5S} per IP (a ban of 10 minutes or more past it): lower a reserved concurrency or BYBIT_IP_REQUESTS_PER_5S (CANCEL_IP_REQUESTS_PER_5S, DRILL_IP_REQUESTS_PER_5S, RESET_IP_REQUESTS_PER_5S) until the sum is at most ${IP_LIMIT_PER_5S}`,
    );
  }
  const named = [...settings].map(([message, names]) => `${message} (function ${names.join(', ')})`);
  return [...named, ...problems];
}

function textOnly(environment: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(environment)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      env[name] = String(value);
  }
  return env;
}
