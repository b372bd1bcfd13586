// A cold-start baseline that both functions share: a handler that only reads the exchange secret with the
// AWS SDK (as ours and the peer do on their first invocation) and answers. What a variant costs above it
// is what its own code and its exchange client cost.

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export const handler = async () => {
  const { SecretString } = await new SecretsManagerClient({}).send(
    new GetSecretValueCommand({ SecretId: process.env.BYBIT_SECRET_ID }),
  );
  return { ok: SecretString !== undefined };
};
