import { describe, expect, it } from 'vitest';
import {
  ms,
  renderReport,
  SECTION_BEGIN,
  SECTION_END,
  verdict,
  withReport,
} from '../../scripts/bench/report.ts';
import { markdownTable } from '../../scripts/bench/table.ts';

describe('verdict', () => {
  it('says met when an upper limit holds, including equality', () => {
    expect(verdict(1.3, 1.3, 'atMost')).toBe('met');
  });

  it('says by how much an upper limit is missed', () => {
    expect(verdict(0.82, 0.5, 'atMost')).toBe('missed by 0.32× (0.82× > 0.50×)');
  });

  it('says by how much a lower limit is missed, in the unit given', () => {
    expect(verdict(3.5, 5, 'atLeast')).toBe('missed by 1.50× (3.50× < 5.00×)');
    expect(verdict(180, 150, 'atMost', ' KiB')).toBe('missed by 30.0 KiB (180.0 KiB > 150.0 KiB)');
  });
});

describe('ms', () => {
  it('picks a unit a reader takes in at a glance', () => {
    expect([0.77, 173.4, 1584, 51_470].map(ms)).toEqual(['0.8 ms', '173 ms', '1.58 s', '51.5 s']);
  });
});

describe('markdownTable', () => {
  it('pads columns, right-aligns where asked and escapes pipes', () => {
    const table = markdownTable(
      ['name', 'n'],
      [
        ['a|b', '1'],
        ['c', '22'],
      ],
      ['left', 'right'],
    );
    expect(table.split('\n')).toEqual([
      '| name |   n |',
      '| ---- | --: |',
      '| a\\|b |   1 |',
      '| c    |  22 |',
    ]);
  });

  it('refuses a row with the wrong number of cells', () => {
    expect(() => markdownTable(['a', 'b'], [['only one']])).toThrow(/1 cells, the header 2/);
  });
});

describe('renderReport', () => {
  it('marks a measurement that failed as not measured instead of leaving it out', () => {
    const report = renderReport(
      { warm: { error: 'stopped after 60.0 s' } },
      { totalMs: 1000, node: '22.0.0', cpus: 2, cpuModel: 'test CPU', date: '2026-01-01' },
    );
    expect(report).toContain('## The last run');
    expect(report).toMatch(/\| Warm overhead +\|.*not measured: stopped after 60\.0 s/);
    expect(report).toMatch(/\| Kill-switch latency +\|.*not measured: not run/);
  });

  it('compares a confirmed cancel with one bare cancel request of the same run, against 2.2×', () => {
    const row = (latencyMs: number, confirmedMs: number, bareMs: number) => ({
      latencyMs,
      confirmedMs,
      bareMs,
      requestsPerCancel: 2,
      confirmed: 100,
      failures: 0,
    });
    const report = renderReport(
      { 'confirmed-cancel': { samples: 100, warmup: 10, rows: [row(5, 11, 5.5), row(50, 125, 50)] } },
      { totalMs: 1000, node: '22.0.0', cpus: 2, cpuModel: 'test CPU', date: '2026-01-01' },
    );
    expect(report).toMatch(/5 ms per request.*confirmed\/bare 2\.00× \| ≤ 2\.2× one bare cancel \| met/);
    expect(report).toMatch(/50 ms per request.*confirmed\/bare 2\.50× .*missed by 0\.30×/);
  });

  it('compares the pre-initialised kill switch with the warm one of the same run, against 1.1×', () => {
    const result = (preInitialisedMs: number, warmMs: number) => ({
      runs: 7,
      latencyMs: 50,
      accounts: 3,
      ordersPerRun: 900,
      fresh: { ms: [400], medianMs: 400, importMedianMs: 150 },
      preInitialised: { ms: [preInitialisedMs], medianMs: preInitialisedMs, initMedianMs: 300 },
      warm: { ms: [warmMs], medianMs: warmMs },
      warmAfterIdle: { ms: [warmMs + 20], medianMs: warmMs + 20 },
      failures: [],
    });
    const run = { totalMs: 1000, node: '22.0.0', cpus: 2, cpuModel: 'test CPU', date: '2026-01-01' };
    expect(renderReport({ 'hot-kill-switch': result(210, 200) }, run)).toMatch(
      /400 ms \/ 210 ms \/ 200 ms \(220 ms\) .*pre-initialised\/warm 1\.05× \| ≤ 1\.1× warm +\| met/,
    );
    expect(renderReport({ 'hot-kill-switch': result(240, 200) }, run)).toMatch(
      /pre-initialised\/warm 1\.20× .*missed by 0\.10×/,
    );
  });
});

describe('withReport', () => {
  it('replaces only the generated section of the docs page, keeping the hand-written text around it', () => {
    const page = ['# Benchmarks', 'intro', SECTION_BEGIN, '', 'old table', '', SECTION_END, '', 'notes'].join(
      '\n',
    );
    const next = withReport(page, '## The last run\n\nnew table\n');
    expect(next).toBe(
      [
        '# Benchmarks',
        'intro',
        SECTION_BEGIN,
        '',
        '## The last run',
        '',
        'new table',
        '',
        SECTION_END,
        '',
        'notes',
      ].join('\n'),
    );
    expect(withReport(next, '## The last run\n\nnew table\n')).toBe(next);
  });

  it('refuses a page without the markers instead of overwriting it', () => {
    expect(() => withReport('# Benchmarks\nnotes\n', 'table')).toThrow(/no generated section/);
  });

  it('finds the markers in docs/development/benchmarks.md', async () => {
    const { readFile } = await import('node:fs/promises');
    const page = await readFile(new URL('../../docs/development/benchmarks.md', import.meta.url), 'utf8');
    expect(() => withReport(page, 'table')).not.toThrow();
  });
});
