// Which order statuses mean the order can no longer trade (docs/v5/enum.mdx, orderStatus "closed status").

import { describe, expect, it } from 'vitest';
import { FINAL_ORDER_STATUSES } from '../../lib/bybit/types.ts';

describe('FINAL_ORDER_STATUSES', () => {
  it.each(['Cancelled', 'PartiallyFilledCanceled', 'Filled', 'Deactivated', 'Rejected'])(
    'takes %s for final',
    (status) => {
      expect(FINAL_ORDER_STATUSES.has(status)).toBe(true);
    },
  );

  it.each(['New', 'PartiallyFilled', 'Untriggered', 'Triggered', ''])('takes %j for still open', (status) => {
    expect(FINAL_ORDER_STATUSES.has(status)).toBe(false);
  });
});
