// A runaway bot: places an order on the exchange every `intervalMs`, whether or not the last one was
// answered, until stopped, and keeps what each attempt got back. It trades with its own key, as a real bot
// would, so only the exchange (a read-only key) can stop it; cancelling its orders does not.

import { BybitClient } from '../../lib/bybit/client.ts';
import type { CreateOrderParams } from '../../lib/bybit/types.ts';
import { BybitApiError } from '../../lib/errors.ts';

export interface BotAttempt {
  /** When it was sent and answered (epoch ms). */
  sentAt: number;
  answeredAt: number;
  /** The order placed, or the retCode that refused it (-1: no exchange answer). */
  orderId?: string;
  retCode?: number;
}

export interface RunawayBot {
  readonly attempts: readonly BotAttempt[];
  /** Stops placing orders and waits for the ones in flight. */
  stop(): Promise<BotAttempt[]>;
}

export interface RunawayBotOptions {
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  intervalMs?: number;
  order?: Partial<CreateOrderParams>;
}

/** Starts the bot; its first order goes out at once. */
export function runawayBot(options: RunawayBotOptions): RunawayBot {
  // One attempt per order: a refused order is the point, not something to retry.
  const client = new BybitClient({
    credentials: { apiKey: options.apiKey, apiSecret: options.apiSecret },
    baseUrl: options.baseUrl,
    maxAttempts: 1,
    requestTimeoutMs: 2000,
  });
  const order: CreateOrderParams = {
    category: 'spot',
    symbol: 'BTCUSDT',
    side: 'Buy',
    orderType: 'Limit',
    qty: '0.001',
    price: '10000',
    ...options.order,
  };
  const attempts: BotAttempt[] = [];
  const inFlight = new Set<Promise<void>>();
  const place = () => {
    const sentAt = Date.now();
    const sent = client
      .createOrder(order, { deadline: sentAt + 3000 })
      .then(
        (placed) => ({ orderId: placed.orderId }),
        (error: unknown) => ({ retCode: error instanceof BybitApiError ? error.retCode : -1 }),
      )
      .then((outcome) => {
        attempts.push({ sentAt, answeredAt: Date.now(), ...outcome });
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  };
  place();
  const timer = setInterval(place, options.intervalMs ?? 50);
  return {
    attempts,
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return [...attempts];
    },
  };
}
