// One structured logger: a JSON line per event, with the Lambda request id. Facts go in fields. Values under
// key names that could hold credentials are replaced, as a last line of defence: callers never pass them.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Fields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  /** Adds fields (request id, trigger, …) to every later line of this logger. */
  append(fields: Fields): void;
  /** Forgets what `append` added (a new invocation starts). */
  reset(fields?: Fields): void;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SENSITIVE =
  /secret|private|passphrase|signature|^sign$|x-bapi-sign|authorization|apikey|api_key|password|token/i;

export interface LoggerOptions {
  level?: LogLevel;
  service?: string;
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const base: Fields = options.service ? { service: options.service } : {};
  let context: Fields = {};

  const log =
    (level: LogLevel) =>
    (message: string, fields: Fields = {}) => {
      if (LEVELS[level] < threshold) return;
      const line = { level, time: now().toISOString(), message, ...base, ...context, ...fields };
      write(JSON.stringify(line, redact));
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    append(fields) {
      context = { ...context, ...fields };
    },
    reset(fields = {}) {
      context = { ...fields };
    },
  };
}

/** The loggable facts of an error: its type and message, plus the exchange's codes; never headers or requests. */
export function describeError(error: unknown): Fields {
  if (!(error instanceof Error)) return { errorType: typeof error };
  const facts: Fields = { errorType: error.name, errorMessage: error.message };
  for (const key of [
    'endpoint',
    'retCode',
    'retMsg',
    'field',
    'secretId',
    'attempts',
    'httpStatus',
  ] as const) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (value !== undefined) facts[key] = value;
  }
  if (error.cause instanceof Error) facts.cause = `${error.cause.name}: ${error.cause.message}`.slice(0, 300);
  return facts;
}

/** Names that match SENSITIVE but hold a reference, not a secret: the operator needs them to act. */
const REFERENCES = new Set(['secretId']);

function redact(key: string, value: unknown): unknown {
  if (key && SENSITIVE.test(key) && !REFERENCES.has(key) && typeof value !== 'object') return '[redacted]';
  return value;
}
