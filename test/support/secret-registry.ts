// The secrets the test stack generates, so that the secret-hygiene check (test/support/secret-hygiene.ts) knows
// what must never appear in a log line, a response or an error. Plain module, no test-runner imports: the stack
// also runs outside vitest (local run, benchmarks), where registering is harmless and nothing reads it.

export type SecretKind =
  | 'apiKey'
  | 'apiSecret'
  | 'privateKey'
  | 'webhookSecret'
  | 'passphrase'
  | 'awsSecretKey'
  | 'botToken';

/** Shorter values would match by chance; the stack's secrets are all far longer. */
const MIN_LENGTH = 8;

// On globalThis: after vi.resetModules() a test can hold a second copy of this module, and both must share one list.
const REGISTRY = Symbol.for('bybit-cancel.test.secret-registry');
type Registry = Map<string, SecretKind>;

function registry(): Registry {
  const global = globalThis as { [REGISTRY]?: Registry };
  global[REGISTRY] ??= new Map();
  return global[REGISTRY];
}

/** Adds a value that must never be printed or returned. */
export function registerSecret(kind: SecretKind, value: string | undefined): void {
  if (value !== undefined && value.length >= MIN_LENGTH) registry().set(value, kind);
}

/** Every registered value with its kind. */
export function registeredSecrets(): ReadonlyMap<string, SecretKind> {
  return registry();
}
