// The secret-hygiene check itself (test/support/secret-hygiene.ts): it must catch a leak on each channel it
// watches, through the same wiring that watches the whole suite. Leaks here go to scoped captures, so they are
// counted there and not against this file.

import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { captureScope, fileTally, findSecrets } from '../support/secret-hygiene.ts';
import { registerSecret } from '../support/secret-registry.ts';

const apiSecret = randomBytes(18).toString('hex');
const webhookSecret = randomBytes(24).toString('hex');
const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
registerSecret('apiSecret', apiSecret);
registerSecret('webhookSecret', webhookSecret);
registerSecret('privateKey', privateKey);

describe('secret hygiene', () => {
  it('finds a secret written to stdout as a log line, and masks it in its report', async () => {
    const tally = await captureScope(() => {
      process.stdout.write(`${JSON.stringify({ level: 'info', message: 'signed', key: apiSecret })}\n`);
    });
    expect(tally.log).toBe(1);
    expect(tally.leaks).toMatchObject([{ channel: 'log', kind: 'apiSecret' }]);
    expect(tally.leaks[0]?.excerpt).toContain('[apiSecret]');
    expect(tally.leaks[0]?.excerpt).not.toContain(apiSecret);
  });

  it('finds a secret split over several writes and one on stderr', async () => {
    const tally = await captureScope(() => {
      process.stdout.write(`{"webhook":"${webhookSecret.slice(0, 10)}`);
      process.stdout.write(`${webhookSecret.slice(10)}"}\n`);
      process.stderr.write(`warning: ${apiSecret}\n`);
    });
    expect(tally.leaks.map((l) => l.kind).sort()).toEqual(['apiSecret', 'webhookSecret']);
  });

  it('finds a secret in a response returned by any middy handler', async () => {
    const handler = middy(async () => ({ statusCode: 200, body: JSON.stringify({ echo: webhookSecret }) }));
    const tally = await captureScope(async () => {
      await handler({}, {} as never);
    });
    expect(tally.response).toBe(1);
    expect(tally.leaks).toMatchObject([{ channel: 'response', kind: 'webhookSecret' }]);
  });

  it('finds a private key in the cause of an error a handler throws, even JSON-escaped', async () => {
    const handler = middy(async () => {
      throw new Error('request failed', { cause: new Error(JSON.stringify({ privateKey })) });
    });
    const tally = await captureScope(async () => {
      await expect(handler({}, {} as never)).rejects.toThrow('request failed');
    });
    expect(tally.error).toBe(1);
    expect(tally.leaks.map((l) => [l.channel, l.kind])).toContainEqual(['error', 'privateKey']);
  });

  it('finds a signature by its shape: a hex HMAC-SHA256 and a base64 RSA signature', () => {
    const hmac = createHmac('sha256', 'any key').update('1700000000000.{}').digest('hex');
    const rsa = randomBytes(256).toString('base64');
    expect(findSecrets(`x-signature: ${hmac}`).map((h) => h.kind)).toEqual(['signature']);
    expect(findSecrets(`{"sign":"${rsa}"}`).map((h) => h.kind)).toEqual(['signature']);
  });

  it('lets ordinary output through: ids, ARNs, retCodes, scope labels', () => {
    const line = JSON.stringify({
      requestId: crypto.randomUUID(),
      secretId:
        'arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:bybit-cancel/dev/exchange-keys-AbCdEf',
      retCode: 10003,
      failedScopes: ['main: linear settleCoin=USDT'],
      orderId: '1838591702357416704',
    });
    expect(findSecrets(line)).toEqual([]);
  });

  it('counts nothing of the scoped captures above for the file', () => {
    expect(fileTally()).toMatchObject({ log: 0, response: 0, error: 0, leaks: [] });
  });
});
