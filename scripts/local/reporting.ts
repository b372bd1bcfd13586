// Where the local stack's reports go: the state table in an in-memory DynamoDB (dynalite), the reports topic
// on an SNS endpoint and a demo Telegram bot on a Bot API endpoint, all on loopback and named as the stage
// names them when deployed (bybit-cancel-<stage>-state, -reports). The demo prints what a person would
// receive. The demo bot's chat takes commands from one demo trader (the Telegram step).

import { randomBytes } from 'node:crypto';
import { parseTelegramCommandSecret, type TelegramCommandSecret } from '../../lib/lambda/secrets.ts';
import { stateTableDefinition } from '../../lib/lambda/state.ts';
import { type DynamoEndpoint, startDynamo } from '../../test/support/dynamodb.ts';
import type { SecretsManagerEndpoint } from '../../test/support/secrets-manager.ts';
import { type PublishedMessage, type SnsEndpoint, startSns } from '../../test/support/sns.ts';
import { startTelegram, type TelegramEndpoint } from '../../test/support/telegram.ts';
import type { Reporter } from './progress.ts';
import { serviceName } from './service.ts';

/** The demo bot's chat (a group id, as Telegram gives them). */
const DEMO_CHAT = '-1001000000001';
/** The person in it who may command the demo stack (the secret's userIds). */
export const DEMO_TRADER = { chatId: DEMO_CHAT, userId: 5550001, firstName: 'Dana', username: 'demo_trader' };

export interface LocalReporting {
  dynamo: DynamoEndpoint;
  sns: SnsEndpoint;
  telegram: TelegramEndpoint;
  tableName: string;
  topicArn: string;
  telegramSecretId: string;
  /** The Telegram secret as the functions read it (the demo bot's token, its chat, who may command). */
  telegramSecret: TelegramCommandSecret;
  /** Stage parameters that point the functions at them. */
  params: Record<string, string>;
  /** Environment of the functions (the SDK's endpoint settings). */
  env: Record<string, string>;
  /** How many messages the topic has had so far: pass it to `messagesSince`. */
  mark(): { sns: number; telegram: number };
  /** The messages published after `mark`, and how many Telegram copies were sent. */
  messagesSince(mark: { sns: number; telegram: number }): { messages: PublishedMessage[]; telegram: number };
  close(): Promise<void>;
}

/** Starts the three endpoints, creates the table and the topic, and puts the Telegram secret. */
export async function startLocalReporting(
  stage: string,
  region: string,
  secrets: SecretsManagerEndpoint,
): Promise<LocalReporting> {
  const service = serviceName();
  const tableName = `${service}-${stage}-state`;
  const dynamo = await startDynamo({ tables: [stateTableDefinition(tableName)] });
  const sns = await startSns({ region }).catch(async (error: unknown) => {
    await dynamo.close();
    throw error;
  });
  const botToken = `1000000001:${randomBytes(27).toString('base64url')}`;
  const telegram = await startTelegram({ bots: [{ token: botToken, chats: [DEMO_CHAT] }] }).catch(
    async (error: unknown) => {
      await Promise.all([dynamo.close(), sns.close()]);
      throw error;
    },
  );
  const topicArn = sns.createTopic(`${service}-${stage}-reports`);
  const telegramSecretId = `${service}/${stage}/telegram`;
  const telegramSecret = parseTelegramCommandSecret(telegramSecretId, {
    botToken,
    chatIds: [DEMO_CHAT],
    webhookToken: randomBytes(32).toString('base64url'),
    userIds: [String(DEMO_TRADER.userId)],
  });
  secrets.put(telegramSecretId, telegramSecret);
  return {
    dynamo,
    sns,
    telegram,
    tableName,
    topicArn,
    telegramSecretId,
    telegramSecret,
    params: {
      STATE_TABLE: tableName,
      REPORTS_TOPIC_ARN: topicArn,
      TELEGRAM_SECRET_ID: telegramSecretId,
      TELEGRAM_API_URL: telegram.url,
    },
    env: { AWS_ENDPOINT_URL_DYNAMODB: dynamo.url, AWS_ENDPOINT_URL_SNS: sns.url },
    mark: () => ({ sns: sns.published().length, telegram: telegram.sent().length }),
    messagesSince: (mark) => ({
      messages: sns.published().slice(mark.sns),
      telegram: telegram.sent().length - mark.telegram,
    }),
    async close() {
      await Promise.all([dynamo.close(), sns.close(), telegram.close()]);
    },
  };
}

/** Prints what a person received: each message's subject, and its body unless `subjectOnly`. */
export function printMessages(
  report: Reporter,
  received: { messages: PublishedMessage[]; telegram: number },
  subjectOnly = false,
): void {
  const copies = received.telegram ? ` (and ${received.telegram} Telegram message(s))` : '';
  if (received.messages.length === 0) report.line('      no message reached the reports topic');
  for (const message of received.messages) {
    report.line(`      message on the reports topic${copies}:`);
    report.line(`      │ ${message.subject}`);
    if (subjectOnly) continue;
    report.line('      │');
    for (const line of message.message.split('\n')) report.line(`      │ ${line}`.trimEnd());
  }
}
