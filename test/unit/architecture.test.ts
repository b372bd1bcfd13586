// The rooms of lib/ and the one direction between them: handlers → lambda → cancel → bybit. The shared
// files (lib/*.ts: errors, log, clock) may be used from anywhere and use no room but the client's types.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** What each room must never import (paths relative to the repository). */
const FORBIDDEN: Record<string, string[]> = {
  'lib/bybit/': ['lib/cancel/', 'lib/lambda/', 'handlers/'],
  'lib/cancel/': ['lib/lambda/', 'handlers/'],
  'lib/lambda/': ['handlers/'],
  'lib/': ['lib/cancel/', 'lib/lambda/', 'handlers/'],
};

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The repository paths a file imports, from its import and export lines (static and dynamic). */
function importsOf(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm)];
  return specifiers
    .map((m) => m[1] as string)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(root, resolve(root, dirname(file), spec)));
}

/** The room a file belongs to: the longest prefix in FORBIDDEN (lib/ itself only for files directly in it). */
function roomOf(file: string): string | undefined {
  if (/^lib\/[^/]+$/.test(file)) return 'lib/';
  return Object.keys(FORBIDDEN).find((room) => room !== 'lib/' && file.startsWith(room));
}

function violations(files: string[], read: (file: string) => string): string[] {
  return files.flatMap((file) => {
    const room = roomOf(file);
    if (!room) return [];
    return importsOf(file, read(file))
      .filter((target) => FORBIDDEN[room]?.some((banned) => target.startsWith(banned)))
      .map((target) => `${file} imports ${target}`);
  });
}

describe('dependency direction', () => {
  it('has no import against handlers → lambda → cancel → bybit', () => {
    const files = [...sources('lib'), ...sources('handlers')];
    expect(files.length).toBeGreaterThan(20);
    expect(violations(files, (file) => readFileSync(join(root, file), 'utf8'))).toEqual([]);
  });

  it('catches a domain file that imports the edge, and a client file that imports the domain', () => {
    const planted: Record<string, string> = {
      'lib/cancel/kill-switch.ts': "import type { Config } from '../lambda/config.ts';",
      'lib/bybit/client.ts': "import { clearScope } from '../cancel/clear-scope.ts';",
      'lib/bybit/pacer.ts': "const lazy = () => import('../lambda/app.ts');",
      'lib/log.ts': "import type { Config } from './lambda/config.ts';",
      'lib/cancel/sweep.ts':
        "import { type Clock } from '../clock.ts';\nimport { x } from '../bybit/types.ts';",
    };
    expect(violations(Object.keys(planted), (file) => planted[file] as string)).toEqual([
      'lib/cancel/kill-switch.ts imports lib/lambda/config.ts',
      'lib/bybit/client.ts imports lib/cancel/clear-scope.ts',
      'lib/bybit/pacer.ts imports lib/lambda/app.ts',
      'lib/log.ts imports lib/lambda/config.ts',
    ]);
  });
});
