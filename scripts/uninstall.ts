// `npm run uninstall -- --stage <stage> [--region <region>] [--yes]`: removes a deployed stage. It disarms the
// dead man's switch (its schedule outlives `serverless remove`), removes the stack with `serverless remove`,
// disarms again in case a late heartbeat armed it meanwhile, and lists what stays in the account (the
// secrets, anything the template retains) and what goes later. Asks for the stage name unless --yes.
// Exit status: 0 removed, 1 failed, 2 wrong arguments or not confirmed.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { readDeployArgs, runTool, UsageError } from './deploy/args.ts';
import { defaultUninstallClients, uninstall } from './deploy/uninstall.ts';
import { serviceName } from './local/service.ts';
import { ROOT } from './local/state.ts';

const USAGE = `usage: npm run uninstall -- --stage <stage> [--region <region>] [--yes]
  --stage    the stage to remove, as deployed (serverless deploy --stage …)
  --region   the region it is deployed in (default: serverless.yml's)
  --yes      do not ask for the stage name
Stop the bots that send heartbeats to this stage first.
exit status: 0 removed, 1 failed, 2 wrong arguments or not confirmed`;

async function main(): Promise<void> {
  const { stage, region, params, flags } = readDeployArgs(process.argv.slice(2), ['yes']);
  if (Object.keys(params).length > 0)
    throw new UsageError('--param is for deploys; uninstall needs only --stage and --region');
  if (!flags.yes) await confirm(stage, region);
  const report = await uninstall(
    {
      service: serviceName(),
      stage,
      region,
      removeStack: () => serverlessRemove(stage, region),
      say: (line) => process.stdout.write(`${line}\n`),
    },
    defaultUninstallClients(region),
  );
  process.stdout.write('\nWhat stays in the account:\n');
  for (const line of report.stays) process.stdout.write(`  - ${line}\n`);
  if (report.goes.length > 0) {
    process.stdout.write('What the stack took with it, or will:\n');
    for (const line of report.goes) process.stdout.write(`  - ${line}\n`);
  }
}

async function confirm(stage: string, region: string): Promise<void> {
  if (!process.stdin.isTTY)
    throw new UsageError('not a terminal: pass --yes to remove the stage without asking');
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const answer = await prompt.question(
    `This removes stage ${stage} in ${region}: its kill switch, webhooks and dead man's switch stop working.\nType the stage name to go on: `,
  );
  prompt.close();
  if (answer.trim() !== stage) throw new UsageError('not confirmed: nothing was removed');
}

function serverlessRemove(stage: string, region: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'serverless'),
      ['remove', '--stage', stage, '--region', region],
      {
        cwd: ROOT,
        stdio: 'inherit',
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
      },
    );
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`serverless remove exited with ${code}: the stack may be partly removed`)),
    );
  });
}

runTool(USAGE, main);
