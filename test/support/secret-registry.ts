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
  | 'botToken'
  | 'webhookToken';

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

// What a person is sent (a Telegram message, an edit, a button's answer, an SNS message): the stand-ins hand
// each text here, and the secret-hygiene check, when it runs, reads them like every log line.
const OBSERVER = Symbol.for('bybit-cancel.test.sent-text-observer');

/** Hands a text a person would read to the observer, if one is set (nothing happens outside vitest). */
export function observeText(text: string): void {
  (globalThis as { [OBSERVER]?: (text: string) => void })[OBSERVER]?.(text);
}

/** Sets what reads every text the stand-ins send to a person. */
export function setTextObserver(observer: (text: string) => void): void {
  (globalThis as { [OBSERVER]?: (text: string) => void })[OBSERVER] = observer;
}
