// Property-based tests of both HTTP entry points (POST /cancel, POST /cancel-all) with generated requests:
// REST 1.0 and HTTP API 2.0 events, random headers, bodies (JSON, text, bytes, up to beyond 16 KiB), encodings
// (base64 or not, and mislabelled) and signatures (valid, forged, missing, stale, from the future, wrong key,
// body changed after signing). Properties:
//   - never a 5xx: the exchange is healthy, so every answer is the caller's (4xx) or a success;
//   - a body over MAX_BODY_BYTES is a 413, answered before any secret is read;
//   - unless the request is signed, recent and valid: a 401 (or 413), no exchange request, no read of the
//     exchange secret;
//   - a signed, recent, valid request is never refused as unauthenticated.
// Secrets are read on every invocation (cache TTL 0), so that "no read of the exchange secret" means something.
// FUZZ_RUNS scales the number of cases, FUZZ_SEED replays a run.

import type { APIGatewayProxyResult } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webhookSignature } from '../../lib/lambda/webhook-auth.ts';
import { type AnyEvent, lambdaContext, loadEvent } from '../support/events.ts';
import { quietLogs } from '../support/secret-hygiene.ts';
import { type LocalStack, startStack } from '../support/stack.ts';

const RUNS = positiveInteger(process.env.FUZZ_RUNS, 1_000);
const SEED = positiveInteger(process.env.FUZZ_SEED, 7_001);
const MAX_BODY_BYTES = 16 * 1024;
const SKEW_MS = 300_000;

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

let stack: LocalStack;
let handlers: Record<'cancel' | 'cancelAll', Handler>;
const cases = { requests: 0, authentic: 0, oversized: 0, shapes: 0 };

beforeAll(async () => {
  quietLogs();
  stack = await startStack({ accounts: ['main'], env: { SECRET_CACHE_TTL_SECONDS: '0', LOG_LEVEL: 'warn' } });
  Object.assign(process.env, stack.env);
  handlers = {
    cancel: (await import('../../handlers/cancel.ts')).handler as Handler,
    cancelAll: (await import('../../handlers/cancel-all.ts')).handler as Handler,
  };
});
afterAll(async () => {
  await stack?.close();
  const total = cases.requests + cases.oversized + cases.shapes;
  console.log(
    `fuzzed webhook: ${total} cases (${cases.requests} requests of which ${cases.authentic} signed and valid, ` +
      `${cases.oversized} oversized, ` +
      `${cases.shapes} malformed events), seed ${SEED}`,
  );
});
beforeEach(() => {
  stack.emulator.reset();
  stack.secrets.reset();
});

// ---- generators ----------------------------------------------------------------------------------------------

const EVENTS = {
  cancel: { v2: 'http-v2-cancel.json', v1: 'http-v1-cancel.json' },
  cancelAll: { v2: 'http-v2-cancel-all.json', v1: 'http-v1-cancel-all.json' },
} as const;

const SIGNATURE_MODES = [
  'valid',
  'forged hex',
  'garbage',
  'uppercase hex',
  'no headers',
  'no signature',
  'no timestamp',
  'stale',
  'future',
  'timestamp in seconds',
  'non-numeric timestamp',
  'wrong key',
  'body changed after signing',
] as const;
type SignatureMode = (typeof SIGNATURE_MODES)[number];

/** How the body travels: as text, base64 (isBase64Encoded), or labelled the wrong way round. */
const ENCODINGS = ['text', 'base64', 'base64 label on text', 'text label on base64'] as const;
type Encoding = (typeof ENCODINGS)[number];

const category = fc.constantFrom('linear', 'inverse', 'spot', 'option', 'futures', 'LINEAR', '');
const symbol = fc.constantFrom('BTCUSDT', 'ETHUSDT', 'BTCUSD', 'btcusdt', 'BTC-27DEC26-100000-C', '');
const orderId = fc.oneof(fc.uuid(), fc.string({ maxLength: 70 }), fc.integer());

/** Something close to a real request, so that signed cases also reach validation and the exchange. */
const plausibleRequest = fc.record(
  {
    category,
    symbol,
    orderId,
    orderLinkId: fc.string({ maxLength: 70 }),
    settleCoin: fc.constantFrom('USDT', 'USDC', 'usdt'),
    baseCoin: fc.constantFrom('BTC', 'ETH'),
    orderFilter: fc.constantFrom('Order', 'tpslOrder', 'StopOrder', 'OcoOrder', 'nope'),
    account: fc.constantFrom('main', 'other', '../main'),
    reason: fc.string({ maxLength: 40 }),
    passphrase: fc.string({ maxLength: 40 }),
  },
  { requiredKeys: [] },
);

/** The bytes the sender means to send. */
const payload: fc.Arbitrary<Buffer> = fc.oneof(
  plausibleRequest.map((r) => Buffer.from(JSON.stringify(r))),
  fc.json().map((text) => Buffer.from(text)),
  fc.string({ unit: 'binary', maxLength: 300 }).map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 600 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.alloc(0)),
  // Around and beyond the size limit.
  fc
    .tuple(
      plausibleRequest,
      fc.oneof(fc.integer({ min: 0, max: 24_576 }), fc.integer({ min: 16_250, max: 16_450 })),
    )
    .map(([r, pad]) => Buffer.from(JSON.stringify({ ...r, orderLinkId: 'x'.repeat(pad) }))),
);

const HEADER_NAME = /^[A-Za-z0-9-]{1,40}$/;
/** Noise headers: anything but the two the signature lives in. */
const extraHeaders = fc.dictionary(
  fc
    .string({ minLength: 1, maxLength: 40 })
    .filter((n) => HEADER_NAME.test(n) && !/^x-(signature|timestamp)$/i.test(n)),
  fc.string({ maxLength: 200 }),
  { maxKeys: 6 },
);

interface RequestCase {
  target: 'cancel' | 'cancelAll';
  shape: 'v1' | 'v2';
  body: Buffer;
  encoding: Encoding;
  signature: SignatureMode;
  headerCase: 'lower' | 'title' | 'upper';
  headers: Record<string, string>;
  /** Milliseconds beyond the allowed skew, for stale and future timestamps. */
  beyondSkew: number;
}

const requestCase: fc.Arbitrary<RequestCase> = fc.record({
  target: fc.constantFrom('cancel', 'cancelAll'),
  shape: fc.constantFrom('v1', 'v2'),
  body: payload,
  encoding: fc.oneof(
    { arbitrary: fc.constantFrom<Encoding>('text', 'base64'), weight: 4 },
    { arbitrary: fc.constantFrom(...ENCODINGS), weight: 1 },
  ),
  // Half the cases signed correctly, so that both sides of the property are well explored.
  signature: fc.oneof(fc.constant<SignatureMode>('valid'), fc.constantFrom(...SIGNATURE_MODES)),
  headerCase: fc.constantFrom('lower', 'title', 'upper'),
  headers: extraHeaders,
  beyondSkew: fc.integer({ min: 1_000, max: 10 * 365 * 86_400_000 }),
});

// ---- building an event the way API Gateway would deliver it ------------------------------------------------

function headerName(name: 'x-signature' | 'x-timestamp', style: RequestCase['headerCase']): string {
  if (style === 'upper') return name.toUpperCase();
  if (style === 'title')
    return name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
  return name;
}

/** The event, and whether the function must treat it as signed, recent and valid. */
function buildEvent(c: RequestCase): { event: AnyEvent; authentic: boolean; oversized: boolean } {
  const event = loadEvent(EVENTS[c.target][c.shape]);
  const now = Date.now();
  let timestamp: string | undefined = String(now);
  let signedBody: Buffer = c.body;
  let key = stack.webhookSecret;
  switch (c.signature) {
    case 'stale':
      timestamp = String(now - SKEW_MS - c.beyondSkew);
      break;
    case 'future':
      timestamp = String(now + SKEW_MS + c.beyondSkew);
      break;
    case 'timestamp in seconds':
      timestamp = String(Math.floor(now / 1000));
      break;
    case 'non-numeric timestamp':
      timestamp = `${now}.5`;
      break;
    case 'wrong key':
      key = `not-the-webhook-key-${c.beyondSkew}`;
      break;
    case 'body changed after signing':
      signedBody = Buffer.concat([c.body, Buffer.from(' ')]);
      break;
  }
  let signature: string | undefined = webhookSignature(key, timestamp, signedBody);
  if (c.signature === 'forged hex') signature = webhookSignature('forged', timestamp, String(c.beyondSkew));
  if (c.signature === 'garbage') signature = `sig-${c.beyondSkew}`;
  if (c.signature === 'uppercase hex') signature = signature.toUpperCase();
  if (c.signature === 'no headers' || c.signature === 'no signature') signature = undefined;
  if (c.signature === 'no headers' || c.signature === 'no timestamp') timestamp = undefined;

  // API Gateway hands over text bodies as strings and binary ones in base64.
  const base64 = c.body.toString('base64');
  const text = c.body.toString('utf8');
  const [body, isBase64Encoded] = {
    text: [text, false],
    base64: [base64, true],
    'base64 label on text': [text, true],
    'text label on base64': [base64, false],
  }[c.encoding] as [string, boolean];
  // The bytes the body stands for, as its label says: only when they are the sender's can the signature hold.
  const received = Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8');

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers as Record<string, string>)) {
    if (!/^x-(signature|timestamp)$/i.test(name)) headers[name] = value;
  }
  Object.assign(headers, c.headers);
  if (timestamp !== undefined) headers[headerName('x-timestamp', c.headerCase)] = timestamp;
  if (signature !== undefined) headers[headerName('x-signature', c.headerCase)] = signature;
  event.headers = headers;
  if (c.shape === 'v1') {
    event.multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([n, v]) => [n, [v]]));
  }
  event.body = body;
  event.isBase64Encoded = isBase64Encoded;

  const oversized = received.length > MAX_BODY_BYTES;
  const authentic = c.signature === 'valid' && received.equals(c.body) && !oversized;
  return { event, authentic, oversized };
}

// ---- the properties ------------------------------------------------------------------------------------------

async function invoke(target: keyof typeof handlers, event: AnyEvent): Promise<APIGatewayProxyResult> {
  return (await handlers[target](event, lambdaContext(30_000))) as APIGatewayProxyResult;
}

/** Every answer is JSON with a status the caller can act on; never a 5xx while the exchange is healthy. */
function expectWellFormed(response: APIGatewayProxyResult): void {
  expect(Number.isInteger(response.statusCode)).toBe(true);
  expect(response.statusCode).toBeGreaterThanOrEqual(200);
  expect(response.statusCode).toBeLessThan(500);
  expect(response.headers?.['content-type']).toBe('application/json');
  expect(() => JSON.parse(response.body)).not.toThrow();
}

const options = (numRuns: number) => ({ numRuns, seed: SEED, endOnFailure: true });

describe('fuzzed webhook requests', () => {
  it('never answer 5xx, and reach the exchange or its secret only when signed, recent and valid', async () => {
    await fc.assert(
      fc.asyncProperty(requestCase, async (c) => {
        cases.requests++;
        stack.emulator.resetRequests();
        stack.secrets.reset();
        const { event, authentic, oversized } = buildEvent(c);
        if (authentic) cases.authentic++;
        const response = await invoke(c.target, event);
        expectWellFormed(response);
        if (oversized) expect(response.statusCode).toBe(413);
        if (authentic) {
          expect(response.statusCode).not.toBe(401);
        } else {
          expect([401, 413]).toContain(response.statusCode);
          expect(stack.emulator.requests).toHaveLength(0);
          expect(stack.secrets.reads(stack.exchangeSecretId)).toBe(0);
        }
      }),
      options(RUNS),
    );
    // The generators reach both sides of the property.
    expect(cases.requests).toBe(RUNS);
    expect(cases.authentic).toBeGreaterThan(RUNS / 5);
    expect(cases.authentic).toBeLessThan(RUNS * 0.8);
  });

  it('answer 413 to any body over 16 KiB before reading a secret, however it is signed', async () => {
    const oversizedCase = fc.record({
      target: fc.constantFrom('cancel' as const, 'cancelAll' as const),
      shape: fc.constantFrom('v1' as const, 'v2' as const),
      size: fc.integer({ min: MAX_BODY_BYTES + 1, max: 256 * 1024 }),
      filler: fc.constantFrom('x', 'é', '€', '😀'),
      encoding: fc.constantFrom('text' as const, 'base64' as const),
      signature: fc.constantFrom('valid' as const, 'garbage' as const, 'no headers' as const),
    });
    await fc.assert(
      fc.asyncProperty(oversizedCase, async ({ size, filler, ...rest }) => {
        cases.oversized++;
        stack.secrets.reset();
        const body = Buffer.from(filler.repeat(Math.ceil(size / Buffer.byteLength(filler))));
        const { event } = buildEvent({ ...rest, body, headerCase: 'lower', headers: {}, beyondSkew: 1_000 });
        const response = await invoke(rest.target, event);
        expect(response.statusCode).toBe(413);
        expect(stack.secrets.reads()).toBe(0);
        expect(stack.emulator.requests).toHaveLength(0);
      }),
      options(Math.max(20, Math.round(RUNS / 8))),
    );
  });

  it('never answer 5xx to a malformed API Gateway event, nor reach the exchange', async () => {
    const junk = fc.oneof(
      fc.constant(null),
      fc.integer(),
      fc.boolean(),
      fc.string({ maxLength: 50 }),
      fc.object(),
    );
    const malformed = fc.record({
      target: fc.constantFrom('cancel' as const, 'cancelAll' as const),
      shape: fc.constantFrom('v1' as const, 'v2' as const),
      headers: fc.oneof(junk, fc.dictionary(fc.string({ maxLength: 20 }), junk, { maxKeys: 5 })),
      body: junk,
      isBase64Encoded: junk,
    });
    await fc.assert(
      fc.asyncProperty(malformed, async ({ target, shape, ...fields }) => {
        cases.shapes++;
        stack.emulator.resetRequests();
        stack.secrets.reset();
        const event = { ...loadEvent(EVENTS[target][shape]), ...fields };
        const response = await invoke(target, event);
        expectWellFormed(response);
        expect([400, 401, 413]).toContain(response.statusCode);
        expect(stack.emulator.requests).toHaveLength(0);
        expect(stack.secrets.reads(stack.exchangeSecretId)).toBe(0);
      }),
      options(Math.max(20, Math.round(RUNS / 4))),
    );
  });
});

function positiveInteger(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`expected a positive integer, got "${value}"`);
  return parsed;
}
