// Removing a stage. Steps:
//   1. read the deployed stack's template (CloudFormation GetTemplate): what it holds and what will stay;
//   2. disarm the dead man's switch: its schedule is created at run time by the heartbeat function, not by
//      CloudFormation, so removing the stack leaves it behind, and it would fire into a later deploy of
//      the same stage (or, during the removal, cancel everything);
//   3. remove the stack (`serverless remove`, which also empties its deployment bucket);
//   4. disarm again: a heartbeat that arrived while the stack was going may have armed it once more; then
//      make sure no schedule is left;
//   5. say what stays: the secrets, whatever the template retains, and how the rest goes.

import { CloudFormationClient, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { loadConfig } from '../../lib/lambda/config.ts';
import { EventBridgeSchedule } from '../../lib/lambda/scheduler.ts';

interface Sender {
  // biome-ignore lint/suspicious/noExplicitAny: one shape for the SDK clients' send, whatever the command
  send(command: any): Promise<any>;
}

export interface UninstallClients {
  cloudformation: Sender;
  scheduler: Sender;
}

export function defaultUninstallClients(region: string): UninstallClients {
  return { cloudformation: new CloudFormationClient({ region }), scheduler: new SchedulerClient({ region }) };
}

export interface UninstallOptions {
  service: string;
  stage: string;
  region: string;
  /** Removes the stack and resolves once it is gone (`serverless remove` in production). */
  removeStack: () => Promise<void>;
  /** Progress, one line at a time. */
  say?: (line: string) => void;
}

export interface UninstallReport {
  stackFound: boolean;
  /** Schedules deleted: before the removal, and after it (a late heartbeat). */
  disarmed: { before: boolean; after: boolean };
  /** What the removal leaves in the account, one line each. */
  stays: string[];
  /** What goes with the stack but not at once, or not for free. */
  goes: string[];
}

type Json = Record<string, unknown>;
const RETAINED = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);

/** Disarms the dead man's switch, removes the stack, disarms again, and says what stays. */
export async function uninstall(
  options: UninstallOptions,
  clients: UninstallClients,
): Promise<UninstallReport> {
  const say = options.say ?? (() => undefined);
  const stackName = `${options.service}-${options.stage}`;
  const { scheduleName, groupName } = loadConfig({ STAGE: options.stage }).deadMansSwitch;
  const schedule = new EventBridgeSchedule({
    client: clients.scheduler,
    name: scheduleName,
    groupName,
    // Only disarm is used: nothing is armed from here.
    busArn: '',
    roleArn: '',
    source: '',
    detailType: '',
  });

  const template = await deployedTemplate(clients.cloudformation, stackName);
  say(
    template
      ? `Stack ${stackName} found in ${options.region}.`
      : `No stack ${stackName} in ${options.region}.`,
  );

  const before = await schedule.disarm();
  say(
    before
      ? `Dead man's switch ${scheduleName} disarmed.`
      : `Dead man's switch ${scheduleName} was not armed.`,
  );

  if (template) {
    say(`Removing ${stackName} (serverless remove; a VPC's network interfaces can take 20 minutes to go)…`);
    await options.removeStack();
    say(`Stack ${stackName} removed.`);
  }

  const after = await schedule.disarm();
  if (after) say(`Dead man's switch armed again during the removal (a late heartbeat): disarmed.`);
  await assertNoSchedule(clients.scheduler, scheduleName, groupName);

  const { stays, goes } = leftovers(template, options);
  return { stackFound: template !== undefined, disarmed: { before, after }, stays, goes };
}

async function deployedTemplate(client: Sender, stackName: string): Promise<Json | undefined> {
  try {
    const { TemplateBody } = await client.send(new GetTemplateCommand({ StackName: stackName }));
    return JSON.parse(String(TemplateBody));
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

async function assertNoSchedule(client: Sender, name: string, groupName: string): Promise<void> {
  try {
    await client.send(new GetScheduleCommand({ Name: name, GroupName: groupName }));
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return;
    throw error;
  }
  throw new Error(
    `the dead man's switch ${name} is still there: delete it with aws scheduler delete-schedule --name ${name}`,
  );
}

/** What stays after the stack is gone, and what goes later, from the deployed template. */
function leftovers(
  template: Json | undefined,
  options: UninstallOptions,
): { stays: string[]; goes: string[] } {
  const resources = (template?.Resources ?? {}) as Record<
    string,
    { Type: string; DeletionPolicy?: string; Properties?: Json }
  >;
  const secretIds = new Set<string>();
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const env = ((resource.Properties?.Environment as Json | undefined)?.Variables ?? {}) as Json;
    for (const name of ['BYBIT_SECRET_ID', 'WEBHOOK_SECRET_ID']) {
      if (typeof env[name] === 'string' && env[name] !== '') secretIds.add(env[name] as string);
    }
  }
  if (secretIds.size === 0) {
    // No template to read them from: the default names.
    for (const kind of ['exchange-keys', 'webhook'])
      secretIds.add(`${options.service}/${options.stage}/${kind}`);
  }
  const stays = [...secretIds].map(
    (id) =>
      `Secret ${id}: created by you, not by the stack. Delete it when no stage needs it: aws secretsmanager delete-secret --region ${options.region} --secret-id ${id} (it can be restored during its 7 to 30 day recovery window).`,
  );
  const goes: string[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    const name = describeResource(id, resource);
    if (RETAINED.has(resource.DeletionPolicy ?? '')) {
      stays.push(
        `${name}: retained by the template (DeletionPolicy ${resource.DeletionPolicy}); delete it by hand when you no longer need it.`,
      );
    } else if (resource.Type === 'AWS::Logs::LogGroup') {
      goes.push(`${name}: deleted with the stack, with its logs (export them first if you need them).`);
    } else if (resource.Type === 'AWS::KMS::Key') {
      goes.push(
        `${name}: scheduled for deletion by AWS after its waiting period (30 days), not billed meanwhile.`,
      );
    } else if (resource.Type === 'AWS::EC2::EIP') {
      goes.push(
        `${name}: released; a new deploy gets a new address, and the Bybit keys must be bound to it again.`,
      );
    }
  }
  return { stays, goes };
}

function describeResource(id: string, resource: { Type: string; Properties?: Json }): string {
  const properties = resource.Properties ?? {};
  const named = [
    properties.LogGroupName,
    properties.TableName,
    properties.QueueName,
    properties.TopicName,
  ].find((value) => typeof value === 'string');
  return `${resource.Type} ${named ?? id}`;
}
