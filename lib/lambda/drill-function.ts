// The drill runs on the drill function, never in cancelAll, whose one container a kill switch needs: a webhook
// drill is handed over as an asynchronous invocation and answered at once. What the drill finds reaches people
// the way the daily drill's findings do (its logs, the drill-failed alarm, the failure queue).

import { ConfigError, DrillStartError, FunctionInvokeError } from '../errors.ts';
import type { LambdaFunctions } from './functions.ts';
import { DRILL_ACTION } from './triggers.ts';

/** The answer to a webhook drill: started on the drill function, not yet run. */
export interface DrillStarted {
  operation: 'drillStart';
  started: true;
  function: string;
  accounts?: string[];
}

export class DrillFunction {
  private readonly functions: LambdaFunctions;
  private readonly functionName: string;

  /** `functionName`: DRILL_FUNCTION_NAME; empty where no drill function is deployed. */
  constructor(functions: LambdaFunctions, functionName: string) {
    this.functions = functions;
    this.functionName = functionName;
  }

  /** Starts the drill (asynchronously, as its schedule does) over every account or the ones named. */
  async start(request: { accounts?: string[] }): Promise<DrillStarted> {
    if (!this.functionName) throw new ConfigError('DRILL_FUNCTION_NAME is not set');
    const { accounts } = request;
    try {
      // The drill schedule's own input: the drill function reads nothing else as a drill.
      await this.functions.start(this.functionName, {
        action: DRILL_ACTION,
        ...(accounts ? { accounts } : {}),
      });
    } catch (cause) {
      // Lambda's own error (throttled, not found, denied) names the reason; ours wraps it.
      const sdkError = cause instanceof FunctionInvokeError ? cause.cause : cause;
      throw new DrillStartError(this.functionName, (sdkError as Error)?.name ?? 'Error', { cause });
    }
    return {
      operation: 'drillStart',
      started: true,
      function: this.functionName,
      ...(accounts ? { accounts } : {}),
    };
  }
}
