// The client's wire: CPU per request of lib/bybit/transport.ts (node:http keep-alive) against global fetch,
// the transport it replaced, on the same requests to the emulator in another process. The kill switch pays
// this CPU between one round's answers and the next round's requests, for every account at once.

import { nodeTransport, type Transport, type WireRequest } from '../../lib/bybit/transport.ts';
import { startRemoteStack } from './remote-stack.ts';
import { median } from './stats.ts';

/** As many at once as a kill switch's first wave over five accounts. */
const CONCURRENCY = 50;
const ROUNDS_PER_SAMPLE = 20;
const SAMPLES = 7;
const CANCEL_ALL = JSON.stringify({ category: 'linear', settleCoin: 'USDT' });

export interface TransportResult {
  concurrency: number;
  requestsPerSample: number;
  samples: number;
  /** Median CPU of this process per request, in ms. */
  oursCpuMs: number;
  fetchCpuMs: number;
}

export async function measureTransport(): Promise<TransportResult> {
  const stack = await startRemoteStack({
    accounts: ['main'],
    emulator: { rateLimits: 1_000_000, ipLimit: false },
  });
  try {
    const base = stack.env.BYBIT_BASE_URL as string;
    // Signed-looking headers: the emulator answers 10003 for the made-up key, with a full envelope.
    const headers = {
      'X-BAPI-API-KEY': 'bench-key',
      'X-BAPI-TIMESTAMP': String(Date.now()),
      'X-BAPI-RECV-WINDOW': '5000',
      'X-BAPI-SIGN-TYPE': '2',
      'X-BAPI-SIGN': 'a'.repeat(64),
    };
    const posted = { ...headers, 'Content-Type': 'application/json' };
    const fetchTransport = globalThis.fetch as unknown as Transport;
    const sample = async (transport: Transport) => {
      const before = process.cpuUsage();
      for (let round = 0; round < ROUNDS_PER_SAMPLE; round++) {
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async (_, i) => {
            // Half listings (GET), half cancel-alls (POST with a body), as in a kill switch.
            const signal = AbortSignal.timeout(5000);
            const listing = i % 2 === 0;
            const url = `${base}/v5/order/${listing ? 'realtime?category=inverse&limit=50' : 'cancel-all'}`;
            const init: WireRequest = listing
              ? { method: 'GET', headers, signal, redirect: 'error' }
              : { method: 'POST', headers: posted, body: CANCEL_ALL, signal, redirect: 'error' };
            const response = await transport(url, init);
            response.headers.get('x-bapi-limit');
            await response.text();
          }),
        );
      }
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1000 / (ROUNDS_PER_SAMPLE * CONCURRENCY);
    };
    // Warm both (sockets open, code compiled), then alternate so neither always goes first.
    await sample(nodeTransport);
    await sample(fetchTransport);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      if (i % 2 === 0) {
        ours.push(await sample(nodeTransport));
        theirs.push(await sample(fetchTransport));
      } else {
        theirs.push(await sample(fetchTransport));
        ours.push(await sample(nodeTransport));
      }
    }
    return {
      concurrency: CONCURRENCY,
      requestsPerSample: CONCURRENCY * ROUNDS_PER_SAMPLE,
      samples: SAMPLES,
      oursCpuMs: median(ours),
      fetchCpuMs: median(theirs),
    };
  } finally {
    await stack.close();
  }
}
