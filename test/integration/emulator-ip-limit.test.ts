// The emulator's IP limit follows docs/v5/rate-limit/rate-limit.mdx: 600 requests per 5 s per IP by
// default, over every key and path; past it "403, access too frequent", and (here) a ban for the run.

import { RestClientV5 } from 'bybit-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';

let emulator: Emulator;
const account = { uid: '1', apiKey: 'ip-limit-key', apiSecret: 'ip-limit-secret' };

beforeAll(async () => {
  emulator = await startEmulator({ accounts: [account] });
});
afterAll(() => emulator.close());

const time = () => fetch(`${emulator.url}/v5/market/time`);

describe('emulator IP limit', () => {
  it('answers the 601st request of a window with 403 "access too frequent"', async () => {
    emulator.reset();
    // 600 by default; a long window so that a loaded machine sending slowly still fills one.
    emulator.setIpLimit({ windowMs: 600_000 });
    const answers = await Promise.all(Array.from({ length: 600 }, () => time().then((r) => r.status)));
    expect(answers.every((status) => status === 200)).toBe(true);
    const over = await time();
    expect(over.status).toBe(403);
    expect(await over.text()).toMatch(/access too frequent/);
    expect(emulator.ipBannedAt).toBeDefined();
  }, 120_000);

  it('keeps the IP banned for the rest of the run, signed requests of any key included, until reset', async () => {
    emulator.reset();
    emulator.setIpLimit({ requests: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) expect((await time()).status).toBe(200);
    expect((await time()).status).toBe(403);
    const client = new BybitClient({ credentials: account, baseUrl: emulator.url, maxAttempts: 1 });
    await expect(client.openOrders({ category: 'spot' })).rejects.toThrow(/HTTP 403, rate limit/);
    expect(emulator.requests.at(-1)?.httpStatus).toBe(403);
    emulator.reset();
    expect((await time()).status).toBe(200);
  });

  it('speaks the ban to the bybit-api peer as Bybit would: HTTP 403 with the body it documents', async () => {
    emulator.reset();
    emulator.setIpLimit({ requests: 1, windowMs: 60_000 });
    const peer = new RestClientV5({ key: account.apiKey, secret: account.apiSecret, baseUrl: emulator.url });
    await peer.getServerTime();
    const refusal = await peer.getActiveOrders({ category: 'spot' }).catch((e: unknown) => e);
    expect(refusal).toMatchObject({ code: 403, body: expect.stringMatching(/access too frequent/) });
  });

  it('counts nothing when turned off', async () => {
    emulator.reset();
    emulator.setIpLimit({ requests: 1 });
    emulator.setIpLimit(false);
    const answers = await Promise.all(Array.from({ length: 50 }, () => time().then((r) => r.status)));
    expect(answers.filter((status) => status !== 200)).toHaveLength(0);
  });
});
