// Who placed an order, when it was not the user: Bybit's strategy orders and bots mark their orders with a
// createType (docs/v5/enum.mdx). The kill switch names leftovers by it and warns of bots; a sweep and a
// scoped cancel-all leave what strategies placed to them.

import type { OpenOrder } from '../bybit/types.ts';

/** Who placed an order, by its createType (docs/v5/enum.mdx), when an exchange feature did. */
export interface Placer {
  kind: 'strategy' | 'bot';
  /** In words: `TWAP strategy`, `futures grid bot`. */
  name: string;
  createType: string;
}

const PLACERS: Record<string, Omit<Placer, 'createType'>> = {
  CreateByTWAP: { kind: 'strategy', name: 'TWAP strategy' },
  CreateByIceBerg: { kind: 'strategy', name: 'iceberg strategy' },
  CreateByChaseOrder: { kind: 'strategy', name: 'chase order strategy' },
  CreateByFGridBot: { kind: 'bot', name: 'futures grid bot' },
  CloseByFGridBot: { kind: 'bot', name: 'futures grid bot' },
  CreateByMartingaleBot: { kind: 'bot', name: 'futures martingale bot' },
  CloseByMartingaleBot: { kind: 'bot', name: 'futures martingale bot' },
};

/**
 * The strategy or bot that placed an order, read from its createType; undefined for the user's own orders
 * and for spot, whose orders carry no createType (open-order.mdx: "Spot does not have this key").
 */
export function placerOf(order: Pick<OpenOrder, 'createType'>): Placer | undefined {
  const { createType } = order;
  if (!createType || !Object.hasOwn(PLACERS, createType)) return undefined;
  return { ...(PLACERS[createType] as Omit<Placer, 'createType'>), createType };
}
