// What the heartbeat reads and keeps in the state table: the dead man's switch's order (`dead-mans-switch` /
// `turn`: the last heartbeat or disarm applied to the schedule, its time the item's version, and a lease held by
// the one heartbeat moving the schedule now, until its deadline plus a margin; a heartbeat made before the
// version is stale, one that finds the lease held waits), the account names, and the halts. The table not
// answering never stops a heartbeat: it goes on unordered and unchecked, and the failure is logged and counted
// (StateFailures, the state-failed alarm).

import type { AppliedHeartbeat, HeartbeatTurns, KnownAccounts, Turn } from '../cancel/dead-mans-switch.ts';
import type { HaltRecord } from '../cancel/halt.ts';
import { knownAccountNames } from './accounts.ts';
import type { StateHaltStore } from './halts.ts';
import { recordKeys } from './records.ts';
import type { StateStore } from './state.ts';

/** Hears a state-table call that failed (the app logs and counts it). */
export type StateFailure = (what: string, error: unknown) => void;

export class StateHeartbeatTurns implements HeartbeatTurns {
  private readonly state: StateStore;
  private readonly holder: string;
  private readonly failed: StateFailure;

  /** `holder` names this heartbeat in the lease (its request id). */
  constructor(state: StateStore, holder: string, failed: StateFailure) {
    this.state = state;
    this.holder = holder;
    this.failed = failed;
  }

  async take(at: number, until: number): Promise<Turn> {
    // Without a table (a local run that names none) there is no order to keep.
    if (!this.state.enabled) return { kind: 'unordered' };
    try {
      const lease = await this.state.lease<AppliedHeartbeat>(
        recordKeys.heartbeatTurn(),
        this.holder,
        until,
        at,
      );
      if (lease.taken) return { kind: 'taken' };
      if (lease.why === 'stale') return { kind: 'stale', newerAt: lease.version ?? at };
      return { kind: 'busy' };
    } catch (error) {
      this.failed("take the dead man's switch's turn (the heartbeat went on unordered)", error);
      return { kind: 'unordered' };
    }
  }

  async end(applied?: AppliedHeartbeat): Promise<void> {
    try {
      const commit = applied ? { version: applied.at, value: applied } : undefined;
      const ours = await this.state.release(recordKeys.heartbeatTurn(), this.holder, commit);
      if (!ours) this.failed("end the dead man's switch's turn", new Error('the turn had run out'));
    } catch (error) {
      this.failed("end the dead man's switch's turn", error);
    }
  }
}

/** The account names recorded by the functions that read the exchange secret (accounts.ts). */
export class RecordedAccounts implements KnownAccounts {
  private readonly state: StateStore;
  private readonly failed: StateFailure;

  constructor(state: StateStore, failed: StateFailure) {
    this.state = state;
    this.failed = failed;
  }

  async names(): Promise<string[] | undefined> {
    if (!this.state.enabled) return undefined;
    try {
      return await knownAccountNames(this.state);
    } catch (error) {
      this.failed('read the account names (the heartbeat went on unchecked)', error);
      return undefined;
    }
  }
}

/** The halts standing now, for the heartbeat to refuse a halted account; undefined when they cannot be read. */
export function recordedHalts(halts: StateHaltStore, state: StateStore, failed: StateFailure) {
  return async (): Promise<HaltRecord[] | undefined> => {
    if (!state.enabled) return [];
    try {
      return await halts.list();
    } catch (error) {
      failed('read the halts (the heartbeat went on unchecked)', error);
      return undefined;
    }
  };
}
