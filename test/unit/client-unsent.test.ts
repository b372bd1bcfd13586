// A request that never leaves the machine: node:http refuses a header value no HTTP message can carry (an
// API key with a line break or a character outside Latin-1) before it opens a socket. That attempt is final,
// and the IP unit it took is given back at once: Bybit never counted it.

import { describe, expect, it } from 'vitest';
import { BybitClient } from '../../lib/bybit/client.ts';
import { IpBudget } from '../../lib/bybit/ip-budget.ts';
import { nodeTransport } from '../../lib/bybit/transport.ts';
import { RequestNotSentError } from '../../lib/errors.ts';

function client(apiKey: string, ipBudget: IpBudget) {
  // Port 9 (discard) is never reached: Node refuses the request while building it.
  return new BybitClient({
    credentials: { apiKey, apiSecret: 's'.repeat(36) },
    baseUrl: 'http://127.0.0.1:9',
    transport: nodeTransport,
    ipBudget,
    maxAttempts: 5,
  });
}

describe('a request Node refuses to send', () => {
  it.each([
    ['a trailing newline', 'abcDEF123456\n'],
    ['a zero-width space', 'abc\u200bDEF'],
  ])(
    '(%s in the key) fails at the first attempt, final, and frees its IP unit at once',
    async (_, apiKey) => {
      const ipBudget = new IpBudget({ requestsPer5s: 1 });
      const error = await client(apiKey, ipBudget)
        .cancelAll({ category: 'linear', settleCoin: 'USDT' }, { deadline: Date.now() + 5_000 })
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(RequestNotSentError);
      expect(error).toMatchObject({
        endpoint: 'cancel-all',
        message: 'cancel-all: the request could not be sent (Node refused it: ERR_INVALID_CHAR)',
      });
      expect(ipBudget.sent).toBe(0);
      // A budget of one request per 5 s grants the next unit now: the first was given back, not held.
      const ticket = await ipBudget.acquire('next', 'routine', Date.now() + 200);
      expect(ticket.released).toBe(false);
      expect(ipBudget.sent).toBe(1);
    },
  );
});
