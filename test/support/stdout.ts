// What a piece of work writes to stdout (the functions' JSON log lines and EMF metrics), parsed line by line.

// biome-ignore lint/suspicious/noExplicitAny: log and EMF lines are plain JSON read field by field
export async function captureStdout(work: () => Promise<void>): Promise<Record<string, any>[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write;
  try {
    await work();
  } finally {
    process.stdout.write = write;
  }
  return lines
    .flatMap((l) => l.split('\n'))
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
