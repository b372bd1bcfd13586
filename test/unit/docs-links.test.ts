// The docs hold together: every relative link in README.md and docs/**/*.md points at a file that exists, every
// `#anchor` at a heading (or an explicit id) of the page it names, with GitHub's slugs, and every page opens
// with the line that says who it is for.

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorsOf, brokenLinks, docPages, ROOT, relativeLinks, slug } from '../support/docs.ts';

describe('GitHub heading slugs', () => {
  it('lowercases, drops punctuation and code marks, keeps hyphens and underscores, numbers repeats', () => {
    expect(slug("Dead man's switch")).toBe('dead-mans-switch');
    expect(slug('Is it armed? Disarming by hand')).toBe('is-it-armed-disarming-by-hand');
    expect(slug('npm run kill-switch')).toBe('npm-run-kill-switch');
    expect(slug('Read the `retCode`')).toBe('read-the-retcode');
    expect(slug('Capacity and the IP limit: [fleets](x.md)')).toBe('capacity-and-the-ip-limit-fleets');
    expect(slug('SCOPE_CATEGORIES, 2 × 40')).toBe('scope_categories-2--40');
    expect([...anchorsOf('# A\n## Notes\n```\n# not a heading\n```\n## Notes\n<a id="here"></a>\n')]).toEqual(
      ['a', 'notes', 'notes-1', 'here'],
    );
  });
});

describe('the docs links', () => {
  const pages = docPages();

  it('finds the README and the docs pages, each with relative links to check', () => {
    expect(pages.map((p) => relative(ROOT, p))).toEqual(
      expect.arrayContaining(['README.md', 'docs/getting-started/deploy.md', 'docs/operations/runbook.md']),
    );
    const linked = pages.filter((p) => relativeLinks(readFileSync(p, 'utf8')).length > 0);
    expect(linked.length).toBeGreaterThan(pages.length / 2);
  });

  it('resolves every relative link and every #anchor in README.md and docs/', () => {
    expect(pages.flatMap((page) => brokenLinks(page))).toEqual([]);
  });

  it('opens every page with one line saying who it is for', () => {
    const missing = pages.filter((page) => {
      const lines = readFileSync(page, 'utf8').split('\n');
      const first = lines.findIndex((l, i) => i > 0 && l.trim() !== '');
      return !lines[0]?.startsWith('# ') || !lines[first]?.startsWith('*For ');
    });
    expect(missing.map((p) => relative(ROOT, p))).toEqual([]);
  });
});
