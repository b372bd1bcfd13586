// `npm run preflight -- --stage <stage> [--region <region>] [--param="NAME=value"]…`: checks, read-only,
// what would make `serverless deploy` with the same flags fail or deploy something unsafe: credentials,
// region, settings, the Lambda concurrency quota, the IP arithmetic, the secrets, the alarm e-mail, and with
// STATIC_IP the VPC and Elastic IP quotas. Prints one line per check and the fix of each failure; never a
// secret's value. Exit status: 0 all passed, 1 a check failed, 2 wrong arguments.

import { readDeployArgs, runTool } from './deploy/args.ts';
import { type CheckResult, defaultClients, runPreflight } from './deploy/preflight-checks.ts';
import { resolveStage } from './deploy/stage.ts';

const USAGE = `usage: npm run preflight -- --stage <stage> [--region <region>] [--param="NAME=value"]…
  --stage    the stage you are about to deploy
  --region   the region you deploy to (default: serverless.yml's)
  --param    a stage parameter, exactly as you pass it to serverless deploy (repeat for several)
exit status: 0 ready to deploy, 1 a check failed (its fix is printed), 2 wrong arguments`;

const MARK: Record<CheckResult['status'], string> = { pass: '✔', fail: '✘', note: '!', skip: '-' };

async function main(): Promise<void> {
  const args = readDeployArgs(process.argv.slice(2));
  process.stdout.write(`Preflight of stage ${args.stage} in ${args.region} (read-only)\n`);
  const plan = await resolveStage(args);
  const results = await runPreflight(plan, defaultClients(args.region));
  for (const result of results) {
    process.stdout.write(`${MARK[result.status]} ${result.title}: ${result.detail}\n`);
    if (result.fix)
      process.stdout.write(`    ${result.status === 'fail' ? 'Fix' : 'Consider'}: ${result.fix}\n`);
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  process.stdout.write(
    failed === 0
      ? `\nReady: npx serverless deploy --stage ${args.stage} --region ${args.region}${flags(args.params)}\n`
      : `\n${failed} check${failed === 1 ? '' : 's'} failed: fix ${failed === 1 ? 'it' : 'them'} before deploying.\n`,
  );
  process.exitCode = failed === 0 ? 0 : 1;
}

function flags(params: Record<string, string>): string {
  return Object.entries(params)
    .map(([name, value]) => ` --param="${name}=${value}"`)
    .join('');
}

runTool(USAGE, main);
