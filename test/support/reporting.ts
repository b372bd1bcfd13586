// Where the functions' reports go, on loopback: the state table in a local DynamoDB (dynalite), the reports topic
// on the SNS endpoint and a Telegram bot on the Bot API endpoint, all named as the packaged CloudFormation
// template names them. `env` points the functions at them (add it to a stack's env).

import { randomBytes } from 'node:crypto';
import { type StateItem, StateStore } from '../../lib/lambda/state.ts';
import { type DynamoEndpoint, startDynamo, type TableDefinition } from './dynamodb.ts';
import { registerSecret } from './secret-registry.ts';
import type { SecretsManagerEndpoint } from './secrets-manager.ts';
import { type SnsEndpoint, startSns } from './sns.ts';
import { startTelegram, type TelegramEndpoint } from './telegram.ts';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export interface ReportingStack {
  dynamo: DynamoEndpoint;
  sns: SnsEndpoint;
  telegram: TelegramEndpoint;
  tableName: string;
  topicArn: string;
  stage: string;
  botToken: string;
  chatIds: string[];
  /** Who may command (the secret's userIds): two people of the desk chat. */
  userIds: string[];
  /** What Telegram must send in X-Telegram-Bot-Api-Secret-Token. */
  webhookToken: string;
  telegramSecretId: string;
  /** The table, read as the functions write it. */
  state: StateStore;
  /** Everything recorded under a partition, newest first. */
  items(pk: string): Promise<StateItem[]>;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A function's environment in the packaged template. */
export function functionEnv(template: Record<string, unknown>, logicalId: string): Record<string, unknown> {
  const fn = (template.Resources as Resources)[logicalId];
  return ((fn?.Properties?.Environment as { Variables?: Record<string, unknown> })?.Variables ??
    {}) as Record<string, unknown>;
}

/** The properties of the resource a `{Ref: id}` names. */
export function referenced(template: Record<string, unknown>, ref: unknown): Record<string, unknown> {
  const id = (ref as { Ref?: string } | undefined)?.Ref;
  const resource = id ? (template.Resources as Resources)[id] : undefined;
  if (!resource?.Properties)
    throw new Error(`the packaged template has no resource for ${JSON.stringify(ref)}`);
  return resource.Properties;
}

/** Starts the three endpoints with the template's table and topic, and puts the Telegram secret. */
export async function startReporting(
  template: Record<string, unknown>,
  secrets: SecretsManagerEndpoint,
): Promise<ReportingStack> {
  const env = functionEnv(template, 'CancelAllLambdaFunction');
  // The table and the topic the functions are given (STATE_TABLE and REPORTS_TOPIC_ARN are Refs to them).
  const table = referenced(template, env.STATE_TABLE) as unknown as TableDefinition;
  const topicName = String(referenced(template, env.REPORTS_TOPIC_ARN).TopicName);
  const stage = String(env.STAGE);
  const dynamo = await startDynamo({ tables: [table] });
  const sns = await startSns();
  const topicArn = sns.createTopic(topicName);
  const botToken = `${100_000 + Math.floor(Math.random() * 900_000)}:${randomBytes(27).toString('base64url')}`;
  registerSecret('botToken', botToken);
  const chatIds = ['-1001234567890', '424242'];
  const telegram = await startTelegram({ bots: [{ token: botToken, chats: chatIds }] });
  const telegramSecretId = `bybit-cancel/${stage}/telegram`;
  const userIds = ['424242', '515151'];
  const webhookToken = randomBytes(32).toString('base64url');
  registerSecret('webhookToken', webhookToken);
  secrets.put(telegramSecretId, { botToken, chatIds, webhookToken, userIds });
  const state = new StateStore({ tableName: table.TableName, client: dynamo.client });
  return {
    dynamo,
    sns,
    telegram,
    tableName: table.TableName,
    topicArn,
    stage,
    botToken,
    chatIds,
    userIds,
    webhookToken,
    telegramSecretId,
    state,
    items: (pk) => state.query(pk, { limit: 100 }),
    env: {
      STAGE: stage,
      STATE_TABLE: table.TableName,
      REPORTS_TOPIC_ARN: topicArn,
      TELEGRAM_SECRET_ID: telegramSecretId,
      TELEGRAM_API_URL: telegram.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.url,
      AWS_ENDPOINT_URL_SNS: sns.url,
    },
    async close() {
      await Promise.all([dynamo.close(), sns.close(), telegram.close()]);
    },
  };
}
