// A minimal stand-in for the Lambda Node.js runtime, run as its own process: load a handler module (the
// packaged bundle), invoke it with one event, print one JSON line, exit. Used by the bundle tests and the
// cold-start benchmark, so that what is measured is a fresh Node process loading the real artifact.
//
//   node test/support/lambda-runner.ts <module file> <export name> <event file> [remaining ms]

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const started = performance.now();
const [modulePath, exportName = 'handler', eventPath, remaining = '30000'] = process.argv.slice(2);
if (!modulePath || !eventPath) {
  process.stderr.write('usage: lambda-runner <module> <export> <event.json> [remaining ms]\n');
  process.exit(2);
}

const event = JSON.parse(readFileSync(eventPath, 'utf8'));
const end = Date.now() + Number(remaining);
const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'bybit-cancel-bundle',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:ap-southeast-1:123456789012:function:bybit-cancel-bundle',
  memoryLimitInMB: '256',
  awsRequestId: crypto.randomUUID(),
  logGroupName: '/aws/lambda/bybit-cancel-bundle',
  logStreamName: 'local',
  getRemainingTimeInMillis: () => Math.max(0, end - Date.now()),
};

const module = await import(pathToFileURL(modulePath).href);
const loadedMs = performance.now() - started;
const handler = module[exportName];
let outcome: Record<string, unknown>;
try {
  outcome = { result: await handler(event, context) };
} catch (error) {
  // What Lambda reports for a failed invocation: the type and the message.
  outcome = { error: { errorType: (error as Error).name, errorMessage: (error as Error).message } };
}
const answeredMs = performance.now() - started;
process.stdout.write(`${JSON.stringify({ ...outcome, loadedMs, answeredMs })}\n`);
process.exit(0);
