// `serverless package` refuses what would make a deployed stage fail at the moment of need: a malformed
// setting (read by the very rules the functions use) and more IP budget than one IP may spend. Each run
// stops at the plugin, before any bundle is built (so none races the packaging of another test file).

import { describe, expect, inject, it } from 'vitest';
import { packageService } from '../support/bundle.ts';
import { resourcesOfType } from '../support/template.ts';

/** Every function of the default package by its name in serverless.yml (`bybit-cancel-<stage>-<name>`). */
const deployed = resourcesOfType(inject('packaged').template, 'AWS::Lambda::Function')
  .map(([, fn]) => /^bybit-cancel-[a-z0-9]+-(\w+)$/.exec(String(fn.Properties?.FunctionName))?.[1])
  .sort();

/** The error `serverless package` ends with, or undefined when it packaged. */
async function refusal(params: string[]): Promise<string | undefined> {
  try {
    await packageService(params.map((p) => `--param=${p}`));
    return undefined;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return `${stdout}\n${stderr}`;
  }
}

describe('serverless package', () => {
  it.each([
    [
      'WEBHOOK_ALLOWED_SOURCE_IPS=52.89.214.238 34.212.75.30',
      'WEBHOOK_ALLOWED_SOURCE_IPS: "52.89.214.238 34.212.75.30" is not an IP address or CIDR range',
    ],
    [
      'WEBHOOK_ALLOWED_SOURCE_IPS=tradingview.com',
      'WEBHOOK_ALLOWED_SOURCE_IPS: "tradingview.com" is not an IP address or CIDR range',
    ],
    ['WEBHOOK_PASSPHRASE_MODE=on', 'WEBHOOK_PASSPHRASE_MODE: "on" is not true or false'],
    ['WEBHOOK_MAX_SKEW_SECONDS=5m', 'WEBHOOK_MAX_SKEW_SECONDS: "5m" is not an integer from 1 to 3600'],
    ['MAX_BODY_BYTES=128', 'MAX_BODY_BYTES: "128" is not an integer from 256 to 1048576'],
    ['SCOPE_CATEGORIES=linear,futures', 'SCOPE_CATEGORIES: unknown category "futures"'],
  ])(
    'refuses the malformed setting %s, naming it and the functions that get it',
    async (param, message) => {
      const output = await refusal([param]);
      expect(output).toContain('the deployment would not work as configured');
      expect(output).toContain(message);
      // Every function gets these settings: each is named.
      const line = output?.split('\n').find((l) => l.includes(message));
      const named = /\(function ([\w, ]+)\)$/.exec(line ?? '')?.[1];
      expect(named?.split(', ').sort()).toEqual(deployed);
      expect(deployed).toContain('reset');
    },
    120_000,
  );

  it('refuses more IP budget than Bybit allows one IP: two cancelAll containers at the default 400 each', async () => {
    const output = await refusal(['CANCEL_ALL_RESERVED_CONCURRENCY=2']);
    expect(output).toContain(
      "IP budget: cancel 2 × 30 + cancelAll 2 × 400 + drill 1 × 40 + reset 1 × 20 = 920 requests per 5 s, above Bybit's 600 per IP",
    );
  }, 120_000);
});
