// Quiet test output (a vitest setup file, listed before secret-hygiene.ts). The functions write their JSON log
// and EMF lines straight to process.stdout, as Lambda expects, and a test file's in-process handlers would put
// hundreds of them on the terminal of a passing run. Here every line written to stdout or stderr becomes a
// console line of the test (or hook) that wrote it, so vitest keeps it with that test: with `silent:
// 'passed-only'` (vitest.config.ts) it is printed under the test's name when the test, its suite or its file
// fails, and dropped when they pass. secret-hygiene.ts wraps this, so it still reads every line first.

const STATE = Symbol.for('bybit-cancel.test.quiet-output');

interface State {
  hooked: boolean;
  /** Set while a line is handed to the console: a console that writes to the stream goes straight through. */
  forwarding: boolean;
}

function state(): State {
  const global = globalThis as { [STATE]?: State };
  global[STATE] ??= { hooked: false, forwarding: false };
  return global[STATE];
}

function hook(stream: NodeJS.WriteStream, toConsole: (line: string) => void): void {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  let pending = '';
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const s = state();
    if (s.forwarding) return write(chunk, ...rest);
    const text = pending + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    const lines = text.split('\n');
    pending = lines.pop() ?? '';
    s.forwarding = true;
    try {
      for (const line of lines) toConsole(line);
    } finally {
      s.forwarding = false;
    }
    const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
}

const s = state();
if (!s.hooked) {
  s.hooked = true;
  // The console is looked up at each line: vitest gives every test file a console of its own.
  hook(process.stdout, (line) => globalThis.console.log(line));
  hook(process.stderr, (line) => globalThis.console.error(line));
}
