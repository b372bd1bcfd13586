import { describe, expect, it } from 'vitest';
import { PARTITIONS, RECORD_TTL_SECONDS, recordKeys } from '../../lib/lambda/records.ts';

describe('recordKeys', () => {
  it('keeps each kind of record under its own named partition', () => {
    expect(recordKeys.event('ev-1')).toEqual({ pk: 'event#ev-1', sk: 'report' });
    expect(recordKeys.last('drill')).toEqual({ pk: 'last', sk: 'drill' });
    expect(recordKeys.drill('2026-12-06T01:00:00.000Z', 'req-1')).toEqual({
      pk: 'drills',
      sk: '2026-12-06T01:00:00.000Z#req-1',
    });
    expect(recordKeys.signature('ab12')).toEqual({ pk: 'signature#ab12', sk: 'seen' });
    expect(recordKeys.accounts()).toEqual({ pk: 'accounts', sk: 'names' });
    expect(recordKeys.heartbeatTurn()).toEqual({ pk: 'dead-mans-switch', sk: 'turn' });
    expect(recordKeys.halt('sub-1')).toEqual({ pk: 'halt', sk: 'sub-1' });
    expect(recordKeys.haltKey('sub-1', 'f0')).toEqual({ pk: 'halt', sk: 'sub-1#key#f0' });
  });

  it('keys a Telegram update by its id, and a confirmation and its use by the nonce', () => {
    expect(recordKeys.telegramUpdate(123456789)).toEqual({ pk: 'telegram-update#123456789', sk: 'update' });
    expect(recordKeys.confirmation('n0nce')).toEqual({ pk: 'nonce#n0nce', sk: 'confirmation' });
    expect(recordKeys.confirmationUsed('n0nce')).toEqual({ pk: 'nonce#n0nce', sk: 'used' });
  });

  it('names the partitions an IAM condition may list', () => {
    expect(PARTITIONS).toEqual({
      event: 'event#',
      last: 'last',
      drills: 'drills',
      signature: 'signature#',
      accounts: 'accounts',
      deadMansSwitch: 'dead-mans-switch',
      halt: 'halt',
      telegramUpdate: 'telegram-update#',
      nonce: 'nonce#',
    });
  });

  it('keeps a kill switch record and a drill 30 days', () => {
    expect(RECORD_TTL_SECONDS).toBe(2_592_000);
  });
});
