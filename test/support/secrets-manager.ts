// A wire-level AWS Secrets Manager endpoint on loopback, so the real @aws-sdk/client-secrets-manager runs end to
// end in tests and local runs (point AWS_ENDPOINT_URL_SECRETS_MANAGER at `url`). It speaks awsJson1_1:
// `POST /` with `X-Amz-Target: secretsmanager.<Operation>`, and answers GetSecretValue, CreateSecret and
// PutSecretValue for string secrets. Only the current version of a secret is kept.
//
// Signature V4 is NOT verified: any Authorization header is accepted. A request without one is refused the way
// AWS JSON services refuse it, so a client that forgot its credentials still fails here.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsApiError, type Body, listen, parseBody, readBody } from './aws-endpoint.ts';

export type SecretsFault = 'throttling' | 'notFound' | 'accessDenied' | 'internal' | 'decryptionFailure';

export interface SecretsManagerEndpoint {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Creates or replaces a secret; objects are JSON-stringified. */
  put(name: string, value: string | object): void;
  delete(name: string): void;
  /** GetSecretValue calls received (for one secret, or all), failed ones included. */
  reads(name?: string): number;
  /** The next `count` GetSecretValue calls (for `name`, or any secret) fail with `fault`. */
  failNext(fault: SecretsFault, count?: number, name?: string): void;
  /** Clears read counters and pending faults; secrets stay. */
  reset(): void;
  close(): Promise<void>;
}

export interface SecretsManagerOptions {
  port?: number;
  host?: string;
  secrets?: Record<string, string | object>;
  region?: string;
}

const defaults: Required<SecretsManagerOptions> = {
  port: 0, // any free port
  host: '127.0.0.1',
  secrets: {},
  region: 'us-east-1',
};

const ACCOUNT_ID = '123456789012';
const TARGET_PREFIX = 'secretsmanager.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const CURRENT_STAGE = 'AWSCURRENT';
const ARN_SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ARN_SUFFIX_LENGTH = 6;

/** Error types and statuses as AWS sends them (Secrets Manager API reference, "Common Errors"). */
const FAULTS = {
  throttling: { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
  notFound: {
    status: 400,
    type: 'ResourceNotFoundException',
    message: "Secrets Manager can't find the specified secret.",
  },
  accessDenied: {
    status: 400,
    type: 'AccessDeniedException',
    message: 'User is not authorized to perform: secretsmanager:GetSecretValue on this resource',
  },
  internal: { status: 500, type: 'InternalServiceError', message: 'An error occurred on the server side.' },
  decryptionFailure: {
    status: 400,
    type: 'DecryptionFailure',
    message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
  },
} as const satisfies Record<SecretsFault, { status: number; type: string; message: string }>;

interface StoredSecret {
  readonly arn: string;
  readonly createdDate: number;
  value: string;
  versionId: string;
}

interface PendingFault {
  readonly fault: SecretsFault;
  readonly name: string | undefined;
  remaining: number;
}

/** Starts the endpoint; resolves once it listens. */
export async function startSecretsManager(opts: SecretsManagerOptions = {}): Promise<SecretsManagerEndpoint> {
  const options = { ...defaults, ...opts };
  const secrets = new Map<string, StoredSecret>();
  const readCounts = new Map<string, number>();
  let faults: PendingFault[] = [];

  const arnOf = (name: string) =>
    `arn:aws:secretsmanager:${options.region}:${ACCOUNT_ID}:secret:${name}-${arnSuffix(name)}`;

  function store(name: string, value: string, versionId: string = randomUUID()): StoredSecret {
    const existing = secrets.get(name);
    const secret = existing ?? { arn: arnOf(name), createdDate: Date.now() / 1000, value, versionId };
    secret.value = value;
    secret.versionId = versionId;
    secrets.set(name, secret);
    return secret;
  }

  function find(secretId: string): StoredSecret & { name: string } {
    const name = nameOf(secretId, secrets);
    const secret = secrets.get(name);
    if (secret === undefined) {
      throw new AwsApiError(400, FAULTS.notFound.type, FAULTS.notFound.message);
    }
    return { ...secret, name };
  }

  function takeFault(name: string): SecretsFault | undefined {
    const pending = faults.find((entry) => entry.name === undefined || entry.name === name);
    if (pending === undefined) return undefined;
    pending.remaining -= 1;
    faults = faults.filter((entry) => entry.remaining > 0);
    return pending.fault;
  }

  const operations: Record<string, (body: Body) => Body> = {
    GetSecretValue(body) {
      const secretId = requiredString(body, 'SecretId');
      const name = nameOf(secretId, secrets);
      readCounts.set(name, (readCounts.get(name) ?? 0) + 1);
      const fault = takeFault(name);
      if (fault !== undefined) {
        const { status, type, message } = FAULTS[fault];
        throw new AwsApiError(status, type, message);
      }
      const secret = find(secretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.value,
        VersionId: secret.versionId,
        VersionStages: [CURRENT_STAGE],
        CreatedDate: secret.createdDate,
      };
    },
    CreateSecret(body) {
      const name = requiredString(body, 'Name');
      if (secrets.has(name)) {
        throw new AwsApiError(
          400,
          'ResourceExistsException',
          `The operation failed because the secret ${name} already exists.`,
        );
      }
      const secret = store(name, secretString(body), optionalString(body, 'ClientRequestToken'));
      return { ARN: secret.arn, Name: name, VersionId: secret.versionId };
    },
    PutSecretValue(body) {
      const { name } = find(requiredString(body, 'SecretId'));
      const secret = store(name, secretString(body), optionalString(body, 'ClientRequestToken'));
      return { ARN: secret.arn, Name: name, VersionId: secret.versionId, VersionStages: [CURRENT_STAGE] };
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const reply = (status: number, body: Body) => {
      response.writeHead(status, { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': randomUUID() });
      response.end(JSON.stringify(body));
    };
    try {
      const raw = await readBody(request);
      if (request.headers.authorization === undefined) {
        throw new AwsApiError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
      }
      const target = request.headers['x-amz-target'];
      const name =
        typeof target === 'string' && target.startsWith(TARGET_PREFIX)
          ? target.slice(TARGET_PREFIX.length)
          : '';
      const operation =
        request.method === 'POST' && Object.hasOwn(operations, name) ? operations[name] : undefined;
      if (operation === undefined) {
        throw new AwsApiError(400, 'UnknownOperationException', `Unsupported operation: ${String(target)}`);
      }
      reply(200, operation(parseBody(raw, 'SerializationException')));
    } catch (error) {
      const failure =
        error instanceof AwsApiError
          ? error
          : new AwsApiError(500, 'InternalFailure', 'Test endpoint failure');
      reply(failure.status, { __type: failure.type, message: failure.message });
    }
  }

  for (const [name, value] of Object.entries(options.secrets)) store(name, stringify(value));

  const server = await listen(options.host, options.port, handle);

  return {
    url: server.url,
    put: (name, value) => {
      store(name, stringify(value));
    },
    delete: (name) => {
      secrets.delete(name);
    },
    reads: (name) =>
      name === undefined
        ? [...readCounts.values()].reduce((sum, count) => sum + count, 0)
        : (readCounts.get(name) ?? 0),
    failNext: (fault, count = 1, name) => {
      if (count > 0) faults.push({ fault, name, remaining: count });
    },
    reset: () => {
      readCounts.clear();
      faults = [];
    },
    close: () => server.close(),
  };
}

/**
 * The secret name a SecretId refers to: a name, a partial ARN (`…:secret:name`) or a full ARN
 * (`…:secret:name-AbCdEf`). The random suffix, account and region of an ARN are not compared, so ARNs
 * copied from a real account resolve to the secret of the same name here.
 */
function nameOf(secretId: string, secrets: ReadonlyMap<string, unknown>): string {
  const marker = ':secret:';
  const at = secretId.startsWith('arn:') ? secretId.indexOf(marker) : -1;
  if (at < 0) return secretId;
  const rest = secretId.slice(at + marker.length);
  if (secrets.has(rest)) return rest;
  return rest.replace(new RegExp(`-[A-Za-z0-9]{${ARN_SUFFIX_LENGTH}}$`), '');
}

/** AWS appends six random characters to a secret's ARN; derive them from the name so ARNs are stable. */
function arnSuffix(name: string): string {
  const digest = createHash('sha256').update(name).digest();
  return Array.from(
    digest.subarray(0, ARN_SUFFIX_LENGTH),
    (byte) => ARN_SUFFIX_ALPHABET[byte % ARN_SUFFIX_ALPHABET.length],
  ).join('');
}

function stringify(value: string | object): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function requiredString(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new AwsApiError(400, 'InvalidParameterException', `${field} must be a non-empty string`);
  }
  return value;
}

function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function secretString(body: Body): string {
  if (body.SecretBinary !== undefined) {
    throw new AwsApiError(
      400,
      'InvalidRequestException',
      'SecretBinary is not supported by this test endpoint',
    );
  }
  return requiredString(body, 'SecretString');
}
