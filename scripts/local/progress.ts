// Progress for a person watching: each wait shows what it waits for and for how long (a spinner on a
// terminal, dots in a log), then how long it took.

export interface Reporter {
  /** Prints `label`, shows progress until `work` settles, then the time taken (✔) or ✘. */
  wait<T>(label: string, work: () => Promise<T>): Promise<T>;
  line(text?: string): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPIN_MS = 100;
const DOT_MS = 2000;

export function createReporter(out: NodeJS.WriteStream = process.stdout): Reporter {
  const tty = out.isTTY === true;
  return {
    line: (text = '') => {
      out.write(`${text}\n`);
    },
    async wait(text, work) {
      // The mark takes the place of the last two characters of the indentation.
      const indent = /^\s*/.exec(text)?.[0] ?? '';
      const label = text.trimStart();
      const lead = indent.slice(0, Math.max(0, indent.length - 2));
      const started = performance.now();
      const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
      let frame = 0;
      const timer = tty
        ? setInterval(
            () => out.write(`\r${lead}${FRAMES[frame++ % FRAMES.length]} ${label} ${elapsed()}`),
            SPIN_MS,
          )
        : setInterval(() => out.write('.'), DOT_MS);
      if (!tty) out.write(`${indent}${label} …`);
      const finish = (mark: string) => {
        clearInterval(timer);
        out.write(tty ? `\r\x1b[2K${lead}${mark} ${label} (${elapsed()})\n` : ` ${mark} ${elapsed()}\n`);
      };
      try {
        const result = await work();
        finish('✔');
        return result;
      } catch (error) {
        finish('✘');
        throw error;
      }
    },
  };
}
