// Reading the docs as GitHub renders them: the pages (README.md and docs/**/*.md), their prose outside code
// blocks, heading anchors with GitHub's slugs, and the relative links that must resolve.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** README.md and every Markdown file under docs/. */
export function docPages(root = ROOT): string[] {
  const pages = [join(root, 'README.md')];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) pages.push(path);
    }
  };
  walk(join(root, 'docs'));
  return pages;
}

/** The page without fenced code blocks (their `#` lines are comments, their brackets are code). */
export function prose(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const opener = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && opener) {
      fence = opener;
      return '';
    }
    if (fence !== undefined) {
      if (line.trim().startsWith(fence)) fence = undefined;
      return '';
    }
    return line;
  });
}

/** GitHub's heading id: the rendered text, lowercased, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a page offers: heading slugs (repeats get -1, -2, …) and explicit `id`/`name` attributes. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1] as string);
  }
  return anchors;
}

/** The links of a page that stay inside the repository: `[text](target)` outside code. */
export function relativeLinks(markdown: string): string[] {
  const links: string[] = [];
  for (const line of prose(markdown)) {
    const text = line.replace(/`[^`]*`/g, '');
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1] as string;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push(target);
    }
  }
  return links;
}

/** What is wrong with a page's relative links, one line each. */
export function brokenLinks(page: string, root = ROOT): string[] {
  const problems: string[] = [];
  const name = relative(root, page);
  for (const link of relativeLinks(readFileSync(page, 'utf8'))) {
    const [path = '', anchor] = link.split('#', 2);
    const target = path === '' ? page : resolve(dirname(page), decodeURIComponent(path));
    if (!existsSync(target)) {
      problems.push(`${name}: ${link}: ${relative(root, target)} does not exist`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!target.endsWith('.md')) {
      problems.push(`${name}: ${link}: an anchor into a file that is not Markdown`);
      continue;
    }
    if (!anchorsOf(readFileSync(target, 'utf8')).has(anchor)) {
      problems.push(`${name}: ${link}: no heading "#${anchor}" in ${relative(root, target)}`);
    }
  }
  return problems;
}

/** A page's text, by its path from the repository root. */
export function readDoc(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/** The section of a page under `heading` (any level), up to the next heading of the same or a higher level. */
export function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => /^#{1,6} /.test(l) && l.replace(/^#+ /, '') === heading);
  if (at < 0) throw new Error(`no heading "${heading}"`);
  const level = (lines[at] as string).indexOf(' ');
  const end = lines.findIndex((l, i) => i > at && /^#{1,6} /.test(l) && l.indexOf(' ') <= level);
  return lines.slice(at + 1, end < 0 ? undefined : end).join('\n');
}
