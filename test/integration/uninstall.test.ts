// Uninstalling a stage leaves no dead man's switch behind: the real Scheduler and CloudFormation SDK clients
// against the loopback Scheduler (test/support/scheduler.ts) and a loopback account holding the packaged
// template as the deployed stack; the stack removal (`serverless remove`) is a stand-in. The schedule's
// name and the stage come from the packaged template.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { armPlan } from '../../lib/cancel/dead-mans-switch.ts';
import { EventBridgeSchedule } from '../../lib/lambda/scheduler.ts';
import { type UninstallClients, uninstall } from '../../scripts/deploy/uninstall.ts';
import { type AwsAccount, startAwsAccount } from '../support/aws-account.ts';
import { type SchedulerEndpoint, startScheduler } from '../support/scheduler.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const REGION = 'ap-southeast-1';
const credentials = { accessKeyId: 'AKIDLOCALUNINSTALL', secretAccessKey: 'local-uninstall-not-a-secret' };
type Json = Record<string, unknown>;

const template = inject('packaged').template as {
  Resources: Record<string, { Type: string; Properties?: Json }>;
};
const envOf = (id: string) =>
  (template.Resources[id]?.Properties?.Environment as { Variables?: Json } | undefined)?.Variables ?? {};
const stage = envOf('HeartbeatLambdaFunction').STAGE as string;
/** The one schedule the heartbeat's role may create: `…:schedule/default/<name>`. */
const scheduleName = (() => {
  const text = JSON.stringify(template.Resources.HeartbeatRole);
  const match = /schedule\/default\/([\w.-]+)"/.exec(text);
  if (!match?.[1]) throw new Error("no schedule in the heartbeat's role");
  return match[1];
})();
const stackName = `bybit-cancel-${stage}`;

let scheduler: SchedulerEndpoint;
let account: AwsAccount;
let clients: UninstallClients;
const removals: { schedulerCallsBefore: number }[] = [];

beforeAll(async () => {
  [scheduler, account] = await Promise.all([startScheduler({ region: REGION }), startAwsAccount()]);
  clients = {
    scheduler: new SchedulerClient({ region: REGION, endpoint: scheduler.url, credentials }),
    cloudformation: new CloudFormationClient({ region: REGION, endpoint: account.url, credentials }),
  };
});
afterAll(() => Promise.all([scheduler.close(), account.close()]));
beforeEach(() => {
  scheduler.reset();
  removals.length = 0;
  account.state.stacks = { [stackName]: template };
});

/** Arms the dead man's switch the way the heartbeat function does, far enough ahead not to fire. */
function heartbeat(): Promise<unknown> {
  const schedule = new EventBridgeSchedule({
    client: clients.scheduler,
    name: scheduleName,
    groupName: 'default',
    busArn: `arn:aws:events:${REGION}:123456789012:event-bus/default`,
    roleArn: 'arn:aws:iam::123456789012:role/scheduler',
    source: 'bybit.killswitch',
    detailType: 'Kill Switch',
  });
  return schedule.arm(armPlan({ ttlSeconds: 3600, disarm: false }, new Date()));
}

/** `serverless remove`, standing in: the stack goes; `during` runs while it does. */
function removeStack(during: () => Promise<unknown> = async () => undefined) {
  return async () => {
    removals.push({ schedulerCallsBefore: scheduler.calls.length });
    await during();
    delete account.state.stacks[stackName];
  };
}

describe('uninstall', () => {
  it("disarms the dead man's switch before removing the stack, and leaves no schedule behind", async () => {
    await heartbeat();
    expect(scheduler.get(scheduleName)).toBeDefined();
    const report = await uninstall(
      { service: 'bybit-cancel', stage, region: REGION, removeStack: removeStack() },
      clients,
    );
    expect(scheduler.get(scheduleName)).toBeUndefined();
    expect(account.state.stacks[stackName]).toBeUndefined();
    expect(report).toMatchObject({ stackFound: true, disarmed: { before: true, after: false } });
    // The schedule was deleted before the removal started.
    const deletedAt = scheduler.calls.findIndex((c) => c.operation === 'DeleteSchedule' && c.status === 200);
    expect(deletedAt).toBeGreaterThanOrEqual(0);
    expect(removals).toHaveLength(1);
    expect(deletedAt).toBeLessThan(removals[0]?.schedulerCallsBefore as number);
  });

  it('disarms again when a late heartbeat armed it while the stack was being removed', async () => {
    await heartbeat();
    const report = await uninstall(
      { service: 'bybit-cancel', stage, region: REGION, removeStack: removeStack(heartbeat) },
      clients,
    );
    expect(report.disarmed).toEqual({ before: true, after: true });
    expect(scheduler.get(scheduleName)).toBeUndefined();
  });

  it('removes a schedule left behind by an earlier `serverless remove`, with no stack to remove', async () => {
    await heartbeat();
    delete account.state.stacks[stackName];
    const report = await uninstall(
      { service: 'bybit-cancel', stage, region: REGION, removeStack: removeStack() },
      clients,
    );
    expect(report).toMatchObject({ stackFound: false, disarmed: { before: true } });
    expect(removals).toEqual([]);
    expect(scheduler.get(scheduleName)).toBeUndefined();
  });

  it('leaves no schedule even when the removal fails', async () => {
    await heartbeat();
    const failing = async () => {
      throw new Error('serverless remove exited with 1');
    };
    await expect(
      uninstall({ service: 'bybit-cancel', stage, region: REGION, removeStack: failing }, clients),
    ).rejects.toThrow(/exited with 1/);
    expect(scheduler.get(scheduleName)).toBeUndefined();
  });

  it('lists what stays (the secrets the functions read) and what goes with the stack (log groups, the KMS key)', async () => {
    const report = await uninstall(
      { service: 'bybit-cancel', stage, region: REGION, removeStack: removeStack() },
      clients,
    );
    const env = envOf('CancelAllLambdaFunction');
    for (const id of [env.BYBIT_SECRET_ID, env.WEBHOOK_SECRET_ID] as string[]) {
      expect(
        report.stays.some((line) => line.startsWith(`Secret ${id}:`) && line.includes('delete-secret')),
      ).toBe(true);
    }
    const logGroups = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Logs::LogGroup')
      .map((r) => r.Properties?.LogGroupName as string);
    expect(logGroups.length).toBeGreaterThan(0);
    for (const group of logGroups) expect(report.goes.some((line) => line.includes(group))).toBe(true);
    expect(report.goes.some((line) => line.startsWith('AWS::KMS::Key'))).toBe(true);
  });

  it('names a resource the template retains among what stays', async () => {
    const retained = structuredClone(template) as typeof template & { Resources: Record<string, Json> };
    retained.Resources.StateTable = {
      Type: 'AWS::DynamoDB::Table',
      DeletionPolicy: 'Retain',
      Properties: { TableName: `bybit-cancel-${stage}-state` },
    };
    account.state.stacks[stackName] = retained;
    const report = await uninstall(
      { service: 'bybit-cancel', stage, region: REGION, removeStack: removeStack() },
      clients,
    );
    expect(report.stays).toContain(
      `AWS::DynamoDB::Table bybit-cancel-${stage}-state: retained by the template (DeletionPolicy Retain); delete it by hand when you no longer need it.`,
    );
  });
});

describe('npm run uninstall', () => {
  it('removes nothing without confirmation when it cannot ask (no terminal)', async () => {
    const failure = await promisify(execFile)(
      process.execPath,
      [join(root, 'scripts', 'uninstall.ts'), '--stage', stage],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? '', AWS_ENDPOINT_URL_SCHEDULER: scheduler.url },
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2, stderr: expect.stringContaining('pass --yes') });
    expect(scheduler.calls).toEqual([]);
  });
});
