// A virtual clock for code that takes `now` and `sleep`: its timers run only when a test advances it.

/** A clock starting at `start` (ms); `advance` runs the timers that come due, in order, settling between. */
export function virtualTime(start: number) {
  let clock = start;
  const timers: { at: number; resolve: () => void }[] = [];
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    now: () => clock,
    sleep: (ms: number) => new Promise<void>((resolve) => timers.push({ at: clock + ms, resolve })),
    async advance(ms: number) {
      const until = clock + ms;
      for (;;) {
        await settle();
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > until) break;
        timers.shift();
        clock = Math.max(clock, next.at);
        next.resolve();
      }
      clock = until;
      await settle();
    },
  };
}
