import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type SecretsFault,
  type SecretsManagerEndpoint,
  startSecretsManager,
} from '../support/secrets-manager.ts';

const REGION = 'ap-southeast-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const SECRET_NAME = 'bybit/main';
const SECRET_VALUE = { apiKey: 'test-key', apiSecret: 'test-secret' };
// The SDK's default retry strategy makes this many attempts in all.
const DEFAULT_MAX_ATTEMPTS = 3;

describe('Secrets Manager endpoint', () => {
  let endpoint: SecretsManagerEndpoint;
  let client: SecretsManagerClient;

  beforeAll(async () => {
    endpoint = await startSecretsManager({ region: REGION, secrets: { [SECRET_NAME]: SECRET_VALUE } });
    client = new SecretsManagerClient({ region: REGION, endpoint: endpoint.url, credentials: CREDENTIALS });
  });

  afterAll(async () => {
    client.destroy();
    await endpoint.close();
  });

  beforeEach(() => {
    endpoint.reset();
  });

  const read = (secretId: string) => client.send(new GetSecretValueCommand({ SecretId: secretId }));

  it('returns the secret and its metadata when read by name', async () => {
    // Act
    const secret = await read(SECRET_NAME);

    // Assess
    expect(JSON.parse(secret.SecretString ?? '')).toEqual(SECRET_VALUE);
    expect(secret.Name).toBe(SECRET_NAME);
    expect(secret.ARN).toMatch(
      /^arn:aws:secretsmanager:ap-southeast-1:\d{12}:secret:bybit\/main-[A-Za-z0-9]{6}$/,
    );
    expect(secret.VersionStages).toEqual(['AWSCURRENT']);
    expect(secret.VersionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(secret.CreatedDate).toBeInstanceOf(Date);
    expect(endpoint.reads(SECRET_NAME)).toBe(1);
    expect(endpoint.reads()).toBe(1);
  });

  it('returns the same secret when read by full or partial ARN', async () => {
    // Prepare
    const { ARN: arn = '' } = await read(SECRET_NAME);
    const partialArn = arn.replace(/-[A-Za-z0-9]{6}$/, '');

    // Act
    const byArn = await read(arn);
    const byPartialArn = await read(partialArn);

    // Assess
    expect(byArn.Name).toBe(SECRET_NAME);
    expect(byArn.ARN).toBe(arn);
    expect(byPartialArn.SecretString).toBe(byArn.SecretString);
    expect(endpoint.reads(SECRET_NAME)).toBe(3);
  });

  it('stores strings verbatim and replaces the value, keeping the ARN, on a second put', async () => {
    // Prepare
    endpoint.put('plain', 'not json');
    const first = await read('plain');

    // Act
    endpoint.put('plain', { rotated: true });
    const second = await read('plain');

    // Assess
    expect(first.SecretString).toBe('not json');
    expect(second.SecretString).toBe('{"rotated":true}');
    expect(second.ARN).toBe(first.ARN);
    expect(second.VersionId).not.toBe(first.VersionId);
    expect(endpoint.reads('plain')).toBe(2);
  });

  it('throws ResourceNotFoundException for an unknown or deleted secret', async () => {
    // Prepare
    endpoint.put('short-lived', 'x');
    endpoint.delete('short-lived');

    // Act
    const unknown = read('never-created').catch((error: unknown) => error);
    const deleted = read('short-lived').catch((error: unknown) => error);

    // Assess
    await expect(unknown).resolves.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(deleted).resolves.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(endpoint.reads('never-created')).toBe(1);
    expect(endpoint.reads()).toBe(2);
  });

  it.each<{ fault: SecretsFault; errorName: string; status: number; attempts: number }>([
    { fault: 'notFound', errorName: 'ResourceNotFoundException', status: 400, attempts: 1 },
    { fault: 'accessDenied', errorName: 'AccessDeniedException', status: 400, attempts: 1 },
    { fault: 'decryptionFailure', errorName: 'DecryptionFailure', status: 400, attempts: 1 },
    // Retryable: the SDK tries again until its attempts run out.
    { fault: 'throttling', errorName: 'ThrottlingException', status: 400, attempts: DEFAULT_MAX_ATTEMPTS },
    { fault: 'internal', errorName: 'InternalServiceError', status: 500, attempts: DEFAULT_MAX_ATTEMPTS },
  ])(
    'surfaces the $fault fault as $errorName after $attempts attempt(s)',
    async ({ fault, errorName, status, attempts }) => {
      // Prepare
      endpoint.failNext(fault, attempts);

      // Act
      const error = await read(SECRET_NAME).catch((caught: unknown) => caught);

      // Assess
      expect(error).toMatchObject({ name: errorName, $metadata: { httpStatusCode: status, attempts } });
      expect(endpoint.reads(SECRET_NAME)).toBe(attempts);
      await expect(read(SECRET_NAME)).resolves.toMatchObject({ Name: SECRET_NAME });
      expect(endpoint.reads(SECRET_NAME)).toBe(attempts + 1);
    },
  );

  it('succeeds after throttling when the default retry strategy tries again', async () => {
    // Prepare
    endpoint.failNext('throttling', DEFAULT_MAX_ATTEMPTS - 1);

    // Act
    const secret = await read(SECRET_NAME);

    // Assess
    expect(JSON.parse(secret.SecretString ?? '')).toEqual(SECRET_VALUE);
    expect(secret.$metadata.attempts).toBe(DEFAULT_MAX_ATTEMPTS);
    expect(endpoint.reads(SECRET_NAME)).toBe(DEFAULT_MAX_ATTEMPTS);
  });

  it('applies a fault scoped to one secret only to that secret', async () => {
    // Prepare
    endpoint.put('other', 'x');
    endpoint.failNext('accessDenied', 1, 'other');

    // Act
    const untouched = await read(SECRET_NAME);
    const denied = await read('other').catch((error: unknown) => error);

    // Assess
    expect(untouched.Name).toBe(SECRET_NAME);
    expect(denied).toMatchObject({ name: 'AccessDeniedException' });
    expect(endpoint.reads(SECRET_NAME)).toBe(1);
    expect(endpoint.reads('other')).toBe(1);
    expect(endpoint.reads()).toBe(2);
  });

  it('creates and updates secrets through CreateSecret and PutSecretValue', async () => {
    // Act
    const created = await client.send(new CreateSecretCommand({ Name: 'local/created', SecretString: 'v1' }));
    const updated = await client.send(
      new PutSecretValueCommand({ SecretId: created.ARN, SecretString: 'v2' }),
    );
    const secret = await read('local/created');
    const duplicate = client
      .send(new CreateSecretCommand({ Name: 'local/created', SecretString: 'v3' }))
      .catch((error: unknown) => error);

    // Assess
    expect(created.Name).toBe('local/created');
    expect(updated).toMatchObject({ ARN: created.ARN, VersionStages: ['AWSCURRENT'] });
    expect(secret).toMatchObject({ SecretString: 'v2', VersionId: updated.VersionId });
    await expect(duplicate).resolves.toMatchObject({ name: 'ResourceExistsException' });
  });

  it('refuses a request without an Authorization header and does not count it as a read', async () => {
    // Act
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body: JSON.stringify({ SecretId: SECRET_NAME }),
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(await response.json()).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
    expect(endpoint.reads()).toBe(0);
  });
});

describe('Secrets Manager endpoint through AWS_ENDPOINT_URL_SECRETS_MANAGER', () => {
  let endpoint: SecretsManagerEndpoint;

  beforeAll(async () => {
    endpoint = await startSecretsManager({ region: REGION, secrets: { [SECRET_NAME]: SECRET_VALUE } });
  });

  afterAll(async () => {
    await endpoint.close();
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('is used by a client configured without an endpoint', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', endpoint.url);
    vi.stubEnv('AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', undefined);
    const client = new SecretsManagerClient({ region: REGION, credentials: CREDENTIALS });

    // Act
    const secret = await client.send(new GetSecretValueCommand({ SecretId: SECRET_NAME }));
    client.destroy();

    // Assess
    expect(JSON.parse(secret.SecretString ?? '')).toEqual(SECRET_VALUE);
    expect(endpoint.reads(SECRET_NAME)).toBe(1);
  });
});
