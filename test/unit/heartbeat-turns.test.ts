import { describe, expect, it } from 'vitest';
import type { HaltRecord } from '../../lib/cancel/halt.ts';
import { StateError } from '../../lib/errors.ts';
import type { StateHaltStore } from '../../lib/lambda/halts.ts';
import { RecordedAccounts, recordedHalts, StateHeartbeatTurns } from '../../lib/lambda/heartbeat-turns.ts';
import type { Lease, StateKey, StateStore } from '../../lib/lambda/state.ts';

const AT = 1_800_000_000_000;
const down = () => new StateError('UpdateItem', 'bybit-cancel-test-state', 'no answer in time');

/** A state store whose calls are recorded and answered by the test. */
function fakeState(answers: {
  enabled?: boolean;
  lease?: () => Lease<unknown> | Error;
  release?: () => boolean | Error;
  get?: () => unknown;
}) {
  const calls: unknown[][] = [];
  const answer = <T>(f: (() => T) | undefined): T => {
    const value = f?.();
    if (value instanceof Error) throw value;
    return value as T;
  };
  const state = {
    enabled: answers.enabled ?? true,
    lease: async (...args: unknown[]) => {
      calls.push(['lease', ...args]);
      return answer(answers.lease);
    },
    release: async (...args: unknown[]) => {
      calls.push(['release', ...args]);
      return answer(answers.release);
    },
    get: async (key: StateKey) => {
      calls.push(['get', key]);
      return answer(answers.get);
    },
  } as unknown as StateStore;
  return { state, calls };
}

function failures() {
  const heard: { what: string; error: unknown }[] = [];
  return { heard, failed: (what: string, error: unknown) => heard.push({ what, error }) };
}

const TURN = { pk: 'dead-mans-switch', sk: 'turn' };

describe('StateHeartbeatTurns.take', () => {
  it('goes unordered without a table, calling nothing', async () => {
    const { state, calls } = fakeState({ enabled: false });
    const { heard, failed } = failures();

    expect(await new StateHeartbeatTurns(state, 'req-1', failed).take(AT, AT + 5000)).toEqual({
      kind: 'unordered',
    });
    expect(calls).toEqual([]);
    expect(heard).toEqual([]);
  });

  it("takes the turn's lease under its holder, until the deadline, at its own time as the version", async () => {
    const { state, calls } = fakeState({ lease: () => ({ taken: true }) });
    const { heard, failed } = failures();

    expect(await new StateHeartbeatTurns(state, 'req-1', failed).take(AT, AT + 5000)).toEqual({
      kind: 'taken',
    });
    expect(calls).toEqual([['lease', TURN, 'req-1', AT + 5000, AT]]);
    expect(heard).toEqual([]);
  });

  it('is stale when a newer heartbeat was applied, naming its time', async () => {
    const { state } = fakeState({ lease: () => ({ taken: false, why: 'stale', version: AT + 7 }) });

    expect(await new StateHeartbeatTurns(state, 'r', failures().failed).take(AT, AT + 1)).toEqual({
      kind: 'stale',
      newerAt: AT + 7,
    });
  });

  it('is stale at its own time when the version is not stated', async () => {
    const { state } = fakeState({ lease: () => ({ taken: false, why: 'stale' }) });

    expect(await new StateHeartbeatTurns(state, 'r', failures().failed).take(AT, AT + 1)).toEqual({
      kind: 'stale',
      newerAt: AT,
    });
  });

  it('is busy when another heartbeat holds the lease', async () => {
    const { state } = fakeState({ lease: () => ({ taken: false, why: 'held', version: AT - 1 }) });

    expect(await new StateHeartbeatTurns(state, 'r', failures().failed).take(AT, AT + 1)).toEqual({
      kind: 'busy',
    });
  });

  it('goes on unordered when the table fails, and says so', async () => {
    const error = down();
    const { state } = fakeState({ lease: () => error });
    const { heard, failed } = failures();

    expect(await new StateHeartbeatTurns(state, 'r', failed).take(AT, AT + 1)).toEqual({ kind: 'unordered' });
    expect(heard).toEqual([
      { what: "take the dead man's switch's turn (the heartbeat went on unordered)", error },
    ]);
  });
});

describe('StateHeartbeatTurns.end', () => {
  it('commits what it applied as the version and value', async () => {
    const { state, calls } = fakeState({ release: () => true });
    const { heard, failed } = failures();
    const applied = { at: AT, armed: true, firesAt: '2027-01-15T08:00:00.000Z' };

    await new StateHeartbeatTurns(state, 'req-1', failed).end(applied);

    expect(calls).toEqual([['release', TURN, 'req-1', { version: AT, value: applied }]]);
    expect(heard).toEqual([]);
  });

  it('ends without a commit when nothing was applied', async () => {
    const { state, calls } = fakeState({ release: () => true });
    const { heard, failed } = failures();

    await new StateHeartbeatTurns(state, 'req-1', failed).end();

    expect(calls).toEqual([['release', TURN, 'req-1', undefined]]);
    expect(heard).toEqual([]);
  });

  it('says so when the turn had run out', async () => {
    const { state } = fakeState({ release: () => false });
    const { heard, failed } = failures();

    await new StateHeartbeatTurns(state, 'req-1', failed).end();

    expect(heard).toHaveLength(1);
    expect(heard[0]?.what).toBe("end the dead man's switch's turn");
    expect(heard[0]?.error).toEqual(new Error('the turn had run out'));
  });

  it('says so when the table fails, without throwing', async () => {
    const error = down();
    const { state } = fakeState({ release: () => error });
    const { heard, failed } = failures();

    await new StateHeartbeatTurns(state, 'req-1', failed).end();

    expect(heard).toEqual([{ what: "end the dead man's switch's turn", error }]);
  });
});

describe('RecordedAccounts', () => {
  it('knows no names without a table', async () => {
    const { state, calls } = fakeState({ enabled: false });

    expect(await new RecordedAccounts(state, failures().failed).names()).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('answers the recorded names', async () => {
    const { state, calls } = fakeState({
      get: () => ({ ...TURN, value: { names: ['main', 'sub-1'], at: 'x' } }),
    });
    const { heard, failed } = failures();

    expect(await new RecordedAccounts(state, failed).names()).toEqual(['main', 'sub-1']);
    expect(calls).toEqual([['get', { pk: 'accounts', sk: 'names' }]]);
    expect(heard).toEqual([]);
  });

  it('knows no names when the table fails, and says so', async () => {
    const error = down();
    const { state } = fakeState({ get: () => error });
    const { heard, failed } = failures();

    expect(await new RecordedAccounts(state, failed).names()).toBeUndefined();
    expect(heard).toEqual([{ what: 'read the account names (the heartbeat went on unchecked)', error }]);
  });
});

describe('recordedHalts', () => {
  const halt: HaltRecord = { account: 'sub-1', since: 's', origin: 'deadMansSwitch', keys: [] };
  const haltsListing = (answer: () => HaltRecord[]) => {
    let listed = 0;
    const halts = {
      list: async () => {
        listed += 1;
        return answer();
      },
    } as unknown as StateHaltStore;
    return { halts, listed: () => listed };
  };

  it('answers no halts without a table, reading nothing', async () => {
    const { halts, listed } = haltsListing(() => [halt]);
    const { state } = fakeState({ enabled: false });

    expect(await recordedHalts(halts, state, failures().failed)()).toEqual([]);
    expect(listed()).toBe(0);
  });

  it('answers the halts standing', async () => {
    const { halts } = haltsListing(() => [halt]);
    const { state } = fakeState({});
    const { heard, failed } = failures();

    expect(await recordedHalts(halts, state, failed)()).toEqual([halt]);
    expect(heard).toEqual([]);
  });

  it('answers undefined when they cannot be read, and says so', async () => {
    const error = down();
    const { halts } = haltsListing(() => {
      throw error;
    });
    const { state } = fakeState({});
    const { heard, failed } = failures();

    expect(await recordedHalts(halts, state, failed)()).toBeUndefined();
    expect(heard).toEqual([{ what: 'read the halts (the heartbeat went on unchecked)', error }]);
  });
});
