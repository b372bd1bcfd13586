import { describe, expect, it } from 'vitest';
import { AccountNames, knownAccountNames } from '../../lib/lambda/accounts.ts';
import type { StateKey, StateStore } from '../../lib/lambda/state.ts';

const NOW = Date.parse('2026-12-06T01:30:00.000Z');
const NAMES = { pk: 'accounts', sk: 'names' };

/** The state table's `accounts` record in memory, with the calls it took. */
function fakeState(stored?: unknown, enabled = true) {
  const calls: unknown[][] = [];
  let value = stored;
  const state = {
    enabled,
    get: async (key: StateKey) => {
      calls.push(['get', key]);
      return value === undefined ? undefined : { ...key, value };
    },
    put: async (key: StateKey, written: unknown) => {
      calls.push(['put', key, written]);
      value = written;
    },
  } as unknown as StateStore;
  return { state, calls };
}

describe('AccountNames.sync', () => {
  it('writes nothing before a secret was parsed', async () => {
    const { state, calls } = fakeState();

    await new AccountNames().sync(state, NOW);

    expect(calls).toEqual([]);
  });

  it('writes nothing without a table', async () => {
    const { state, calls } = fakeState(undefined, false);
    const names = new AccountNames();
    names.parsed(['main']);

    await names.sync(state, NOW);

    expect(calls).toEqual([]);
  });

  it('writes the names and the time when there is no record', async () => {
    const { state, calls } = fakeState();
    const names = new AccountNames();
    names.parsed(['main', 'sub-1']);

    await names.sync(state, NOW);

    expect(calls).toEqual([
      ['get', NAMES],
      ['put', NAMES, { names: ['main', 'sub-1'], at: '2026-12-06T01:30:00.000Z' }],
    ]);
  });

  it('writes when the record holds other names', async () => {
    const { state, calls } = fakeState({ names: ['main'], at: 'earlier' });
    const names = new AccountNames();
    names.parsed(['main', 'sub-1']);

    await names.sync(state, NOW);

    expect(calls.map((c) => c[0])).toEqual(['get', 'put']);
  });

  it('writes when the record has no names', async () => {
    const { state, calls } = fakeState({ at: 'earlier' });
    const names = new AccountNames();
    names.parsed(['main']);

    await names.sync(state, NOW);

    expect(calls.at(-1)).toEqual(['put', NAMES, { names: ['main'], at: '2026-12-06T01:30:00.000Z' }]);
  });

  it('reads but does not write when the record holds the same names in another order, with repeats', async () => {
    const { state, calls } = fakeState({ names: ['sub-1', 'main', 'main'], at: 'earlier' });
    const names = new AccountNames();
    names.parsed(['main', 'sub-1']);

    await names.sync(state, NOW);

    expect(calls).toEqual([['get', NAMES]]);
  });

  it('reads the record once per parsed set of names, and again when the names change', async () => {
    const { state, calls } = fakeState();
    const names = new AccountNames();
    names.parsed(['main']);

    await names.sync(state, NOW);
    await names.sync(state, NOW + 1);
    names.parsed(['main']);
    await names.sync(state, NOW + 2);
    names.parsed(['main', 'sub-2']);
    await names.sync(state, NOW + 3);

    expect(calls.map((c) => c[0])).toEqual(['get', 'put', 'get', 'put']);
    expect(calls.at(-1)).toEqual([
      'put',
      NAMES,
      { names: ['main', 'sub-2'], at: new Date(NOW + 3).toISOString() },
    ]);
  });
});

describe('knownAccountNames', () => {
  it('answers the recorded names', async () => {
    const { state, calls } = fakeState({ names: ['main', 'sub-1'], at: 'x' });

    expect(await knownAccountNames(state)).toEqual(['main', 'sub-1']);
    expect(calls).toEqual([['get', NAMES]]);
  });

  it.each([
    ['no record', undefined],
    ['a record without names', { at: 'x' }],
    // StateStore reads an item without a value attribute as null.
    ['a record that holds no value', null],
    ['names that are not a list', { names: 'main' }],
    ['a name that is not a string', { names: ['main', 7] }],
  ])('answers undefined for %s', async (_what, stored) => {
    expect(await knownAccountNames(fakeState(stored).state)).toBeUndefined();
  });

  it('answers an empty list as recorded', async () => {
    expect(await knownAccountNames(fakeState({ names: [] }).state)).toEqual([]);
  });
});
