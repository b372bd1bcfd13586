// The drill's check of the enforced halt's master key, run where the master key may be read. Only the
// functions that halt or reset read the master secret (IAM); the drill function is neither, so the deployed
// drill asks the reset function (`{"check": "master", …}`, a direct invocation: lambda:InvokeFunction on that
// one function is all its role holds for it). A function that may read the key itself (cancelAll, answering
// a webhook drill; a local run) checks in process.

import type { InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import type { CallOptions } from '../bybit/client.ts';
import {
  checkMasterKey,
  type MasterCheck,
  type MasterCheckRequest,
  type MasterCheckResult,
} from '../cancel/drill.ts';
import type { Exchange } from '../cancel/exchange.ts';
import type { Clock } from '../clock.ts';

/** The direct-invocation payload of a master-key check (handlers/reset.ts reads it). */
export const MASTER_CHECK = 'master';

/** The one method of the SDK client this uses (tests pass their own). */
export type LambdaInvoker = Pick<LambdaClient, 'send'>;

export interface MasterCheckSettings {
  exchange: Exchange;
  expiryDays: number;
  clock: Clock;
  /** The function to ask; empty: check in this process. */
  functionName: string;
  lambda?: LambdaInvoker;
}

/** The drill's master check: remote when a function is named, in process otherwise. */
export function masterCheckOf(settings: MasterCheckSettings): MasterCheck {
  if (settings.functionName) return remoteMasterCheck(settings.functionName, settings.lambda);
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
export function remoteMasterCheck(functionName: string, lambda?: LambdaInvoker): MasterCheck {
  let client: Promise<LambdaInvoker> | undefined;
  return async (request: MasterCheckRequest, call: CallOptions): Promise<MasterCheckResult> => {
    const sdk = await import('@aws-sdk/client-lambda');
    client ??= Promise.resolve(lambda ?? new sdk.LambdaClient({ maxAttempts: 1 }));
    const remaining = Math.max(1, (call.deadline ?? Date.now() + 30_000) - Date.now());
    const answer: InvokeCommandOutput = await (await client).send(
      new sdk.InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: JSON.stringify({ check: MASTER_CHECK, ...request }),
      }),
      { abortSignal: AbortSignal.timeout(remaining) },
    );
    const text = new TextDecoder().decode(answer.Payload ?? new Uint8Array());
    let payload: Record<string, unknown>;
    try {
      payload = JSON.parse(text || '{}') as Record<string, unknown>;
    } catch {
      throw new Error(`${functionName} answered something that is not JSON`);
    }
    if (answer.FunctionError) {
      throw new Error(
        `${functionName} failed: ${String(payload.errorType ?? 'Error')}: ${String(payload.errorMessage ?? '')}`,
      );
    }
    if (typeof payload.configured !== 'boolean' || !Array.isArray(payload.accounts))
      throw new Error(`${functionName} answered without the check's fields`);
    return payload as unknown as MasterCheckResult;
  };
}
