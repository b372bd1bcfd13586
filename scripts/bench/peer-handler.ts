// The naive peer as a Lambda function, for the cold-start and warm-overhead comparisons: the same shape as
// handlers/cancel.ts on a direct invocation (keys from Secrets Manager, kept while warm; one cancel; middy),
// built on the `bybit-api` client instead of lib/. Bundled exactly as serverless.yml bundles ours.

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import { RestClientV5 } from 'bybit-api';

interface CancelEvent {
  category: 'linear' | 'inverse' | 'spot' | 'option';
  symbol: string;
  orderId?: string;
  orderLinkId?: string;
}

let client: Promise<RestClientV5> | undefined;

async function createClient(): Promise<RestClientV5> {
  const secrets = new SecretsManagerClient({});
  const { SecretString } = await secrets.send(
    new GetSecretValueCommand({ SecretId: process.env.BYBIT_SECRET_ID }),
  );
  const { apiKey, apiSecret } = JSON.parse(SecretString ?? '{}') as { apiKey?: string; apiSecret?: string };
  return new RestClientV5({
    key: apiKey,
    secret: apiSecret,
    baseUrl: process.env.BYBIT_BASE_URL,
    keepAlive: true,
  });
}

async function cancel(event: CancelEvent) {
  client ??= createClient();
  const { category, symbol, orderId, orderLinkId } = event;
  const reply = await (await client).cancelOrder({ category, symbol, orderId, orderLinkId });
  if (reply.retCode !== 0) throw new Error(`cancel refused: ${reply.retCode} ${reply.retMsg}`);
  return reply.result;
}

export const handler = middy(cancel);
