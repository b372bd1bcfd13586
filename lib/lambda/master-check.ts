// The drill's check of the enforced halt's master key, run where the master key may be read. Only the
// functions that halt or reset read the master secret (IAM); the drill function is neither, so the deployed
// drill asks the reset function (`{"check": "master", …}`, a direct invocation: lambda:InvokeFunction on that
// one function is all its role holds for it). A function that may read the key itself (cancelAll, answering
// a webhook drill; a local run) checks in process.

import type { CallOptions } from '../bybit/client.ts';
import {
  checkMasterKey,
  type MasterCheck,
  type MasterCheckRequest,
  type MasterCheckResult,
} from '../cancel/drill.ts';
import type { Exchange } from '../cancel/exchange.ts';
import type { Clock } from '../clock.ts';
import type { LambdaFunctions } from './functions.ts';

/** The direct-invocation payload of a master-key check (handlers/reset.ts reads it). */
export const MASTER_CHECK = 'master';

export interface MasterCheckSettings {
  exchange: Exchange;
  expiryDays: number;
  clock: Clock;
  /** The function to ask; empty: check in this process. */
  functionName: string;
  functions: LambdaFunctions;
}

/** The drill's master check: remote when a function is named, in process otherwise. */
export function masterCheckOf(settings: MasterCheckSettings): MasterCheck {
  if (settings.functionName) return remoteMasterCheck(settings.functionName, settings.functions);
  return (request, call) =>
    checkMasterKey(() => settings.exchange.masterClient(), request, {
      expiryDays: settings.expiryDays,
      deadline: call.deadline as number,
      clock: settings.clock,
    });
}

/**
 * Asks `functionName` (the reset function) for the check, synchronously, once (a check that timed out is
 * reported, not sent again). Its answer is the result; a function error is thrown with its message.
 */
export function remoteMasterCheck(functionName: string, functions: LambdaFunctions): MasterCheck {
  return async (request: MasterCheckRequest, call: CallOptions): Promise<MasterCheckResult> => {
    const answered = await functions.run(
      functionName,
      { check: MASTER_CHECK, ...request },
      call.deadline ?? Date.now() + 30_000,
    );
    if (answered.error)
      throw new Error(`${functionName} failed: ${answered.error.type}: ${answered.error.message}`);
    const payload = (answered.result ?? {}) as Record<string, unknown>;
    if (typeof payload.configured !== 'boolean' || !Array.isArray(payload.accounts))
      throw new Error(`${functionName} answered without the check's fields`);
    return payload as unknown as MasterCheckResult;
  };
}
