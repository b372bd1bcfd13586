// A markdown pipe table, padded so that it also reads well on a terminal.

export type Align = 'left' | 'right';

/** Renders `rows` under `header`; `align` per column (default left). Pipes inside cells are escaped. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[] = [],
): string {
  const width = header.length;
  for (const row of rows) {
    if (row.length !== width)
      throw new Error(`row has ${row.length} cells, the header ${width}: ${row.join(' | ')}`);
  }
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const cells = [header, ...rows].map((row) => row.map(escapeCell));
  const widths = header.map((_, c) => Math.max(3, ...cells.map((row) => (row[c] as string).length)));
  const pad = (cell: string, c: number) =>
    align[c] === 'right' ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number);
  const line = (row: string[]) => `| ${row.map(pad).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (align[c] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  const [head, ...body] = cells as string[][];
  return [line(head as string[]), rule, ...body.map(line)].join('\n');
}
