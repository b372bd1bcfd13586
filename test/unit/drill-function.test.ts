import { describe, expect, it } from 'vitest';
import { ConfigError, DrillStartError, FunctionInvokeError } from '../../lib/errors.ts';
import { DrillFunction } from '../../lib/lambda/drill-function.ts';
import type { LambdaFunctions } from '../../lib/lambda/functions.ts';

const named = (name: string, message = name) => Object.assign(new Error(message), { name });

function fakeFunctions(failure?: unknown) {
  const starts: { name: string; payload: unknown; until: unknown }[] = [];
  const functions = {
    start: async (name: string, payload: unknown, until?: number) => {
      starts.push({ name, payload, until });
      if (failure !== undefined) throw failure;
    },
  } as unknown as LambdaFunctions;
  return { functions, starts };
}

describe('DrillFunction.start', () => {
  it('starts the drill function with the schedule input over every account', async () => {
    const { functions, starts } = fakeFunctions();

    const started = await new DrillFunction(functions, 'bybit-cancel-drill').start({});

    expect(started).toStrictEqual({ operation: 'drillStart', started: true, function: 'bybit-cancel-drill' });
    expect(starts).toStrictEqual([
      { name: 'bybit-cancel-drill', payload: { action: 'drill' }, until: undefined },
    ]);
  });

  it('names the accounts asked for, in the input and the answer', async () => {
    const { functions, starts } = fakeFunctions();

    const started = await new DrillFunction(functions, 'drill-fn').start({ accounts: ['main', 'sub-1'] });

    expect(started).toStrictEqual({
      operation: 'drillStart',
      started: true,
      function: 'drill-fn',
      accounts: ['main', 'sub-1'],
    });
    expect(starts[0]?.payload).toStrictEqual({ action: 'drill', accounts: ['main', 'sub-1'] });
  });

  it('refuses when DRILL_FUNCTION_NAME is not set, invoking nothing', async () => {
    const { functions, starts } = fakeFunctions();

    const error = await new DrillFunction(functions, '').start({}).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe('DRILL_FUNCTION_NAME is not set');
    expect(starts).toHaveLength(0);
  });

  it("names Lambda's own error under an invoke error", async () => {
    const sdkError = named('TooManyRequestsException', 'Rate exceeded');
    const invokeError = new FunctionInvokeError('drill-fn', 'x', { cause: sdkError });
    const { functions } = fakeFunctions(invokeError);

    const error = (await new DrillFunction(functions, 'drill-fn')
      .start({})
      .catch((e: unknown) => e)) as DrillStartError;

    expect(error).toBeInstanceOf(DrillStartError);
    expect(error.message).toBe('the drill function drill-fn could not be invoked (TooManyRequestsException)');
    expect(error.functionName).toBe('drill-fn');
    expect(error.cause).toBe(invokeError);
  });

  it('names any other error by its own name', async () => {
    const { functions } = fakeFunctions(named('ResourceNotFoundException'));

    await expect(new DrillFunction(functions, 'drill-fn').start({})).rejects.toThrow(
      'the drill function drill-fn could not be invoked (ResourceNotFoundException)',
    );
  });

  it("says 'Error' when an invoke error has no cause", async () => {
    const { functions } = fakeFunctions(
      new FunctionInvokeError('drill-fn', 'no function name is configured'),
    );

    await expect(new DrillFunction(functions, 'drill-fn').start({})).rejects.toThrow(
      'the drill function drill-fn could not be invoked (Error)',
    );
  });
});
