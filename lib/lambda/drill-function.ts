// The drill runs on the drill function, never in cancelAll, whose one container a kill switch needs: a webhook
// drill is handed over as an asynchronous invocation and answered at once. What the drill finds reaches people
// the way the daily drill's findings do (its logs, the drill-failed alarm, the failure queue). The SDK is loaded
// on first use: the other functions share this composition root and must not pay for it at cold start.

import type { LambdaClient } from '@aws-sdk/client-lambda';
import { ConfigError, DrillStartError } from '../errors.ts';
import { DRILL_ACTION } from './triggers.ts';

/** The one method of the SDK client this adapter uses (tests pass their own). */
export type LambdaSender = Pick<LambdaClient, 'send'>;

export interface DrillFunctionOptions {
  /** Defaults to the SDK client, which follows the standard AWS_* endpoint and region settings. */
  client?: LambdaSender;
  /** The drill function's name (DRILL_FUNCTION_NAME); empty where no drill function is deployed. */
  functionName: string;
}

/** The answer to a webhook drill: started on the drill function, not yet run. */
export interface DrillStarted {
  operation: 'drillStart';
  started: true;
  function: string;
  accounts?: string[];
}

const defaults = { maxAttempts: 3, connectionTimeoutMs: 1000, requestTimeoutMs: 3000 };

export class DrillFunction {
  private client: LambdaSender | undefined;
  private readonly functionName: string;

  constructor(options: DrillFunctionOptions) {
    this.client = options.client;
    this.functionName = options.functionName;
  }

  /** Starts the drill (asynchronously, as its schedule does) over every account or the ones named. */
  async start(request: { accounts?: string[] }): Promise<DrillStarted> {
    if (!this.functionName) throw new ConfigError('DRILL_FUNCTION_NAME is not set');
    const sdk = await import('@aws-sdk/client-lambda');
    this.client ??= new sdk.LambdaClient({
      maxAttempts: defaults.maxAttempts,
      requestHandler: {
        connectionTimeout: defaults.connectionTimeoutMs,
        requestTimeout: defaults.requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
    });
    const { accounts } = request;
    // The drill schedule's own input: the drill function reads nothing else as a drill.
    const payload = JSON.stringify({ action: DRILL_ACTION, ...(accounts ? { accounts } : {}) });
    try {
      await this.client.send(
        new sdk.InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: payload }),
      );
    } catch (cause) {
      throw new DrillStartError(this.functionName, (cause as Error)?.name ?? 'Error', { cause });
    }
    return {
      operation: 'drillStart',
      started: true,
      function: this.functionName,
      ...(accounts ? { accounts } : {}),
    };
  }
}
