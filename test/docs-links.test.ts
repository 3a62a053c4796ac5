/**
 * Every relative link in the README, docs/ and the folder READMEs under src/ resolves: the file or
 * folder exists, and a `#fragment` names a heading of the linked Markdown file (as GitHub slugs it).
 * Links with a scheme (https:, mailto:) are not followed.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import GithubSlugger from 'github-slugger';
import { Lexer, type Token, type Tokens } from 'marked';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The Markdown files whose links must resolve. */
function documents(): string[] {
  const found = [join(root, 'README.md')];
  const walk = (dir: string, keep: (name: string) => boolean) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, keep);
      else if (keep(name)) found.push(path);
    }
  };
  walk(join(root, 'docs'), (name) => name.endsWith('.md'));
  walk(join(root, 'src'), (name) => name === 'README.md');
  return found;
}

/** Every token of a Markdown token tree, depth first (inline tokens, list items, table cells). */
function* walkTokens(tokens: Token[]): Generator<Token> {
  for (const token of tokens) {
    yield token;
    const t = token as Token & {
      tokens?: Token[];
      items?: Token[];
      header?: { tokens: Token[] }[];
      rows?: { tokens: Token[] }[][];
    };
    if (t.tokens) yield* walkTokens(t.tokens);
    if (t.items) yield* walkTokens(t.items);
    for (const cell of t.header ?? []) yield* walkTokens(cell.tokens);
    for (const row of t.rows ?? []) for (const cell of row) yield* walkTokens(cell.tokens);
  }
}

/** The text a heading shows, which is what GitHub slugs (no link targets, no backticks). */
function shownText(tokens: Token[]): string {
  return tokens
    .map((t) => {
      const inner = (t as { tokens?: Token[] }).tokens;
      return inner ? shownText(inner) : 'text' in t ? String(t.text) : '';
    })
    .join('');
}

/** The anchors GitHub gives the headings of a Markdown text. */
function anchorsOf(markdown: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  for (const token of walkTokens(Lexer.lex(markdown)))
    if (token.type === 'heading') anchors.add(slugger.slug(shownText((token as Tokens.Heading).tokens)));
  return anchors;
}

/** The relative links of `file` (given its text) that do not resolve, as `target: reason`. */
function brokenLinks(file: string, markdown: string): string[] {
  const broken: string[] = [];
  for (const token of walkTokens(Lexer.lex(markdown))) {
    if (token.type !== 'link' && token.type !== 'image') continue;
    const href = (token as Tokens.Link).href;
    if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
    const [path = '', fragment] = href.split('#');
    if (!path) {
      if (fragment !== undefined && !anchorsOf(markdown).has(decodeURIComponent(fragment)))
        broken.push(`${href}: no heading with the anchor #${fragment}`);
      continue;
    }
    const target = resolve(dirname(file), decodeURIComponent(path));
    if (!existsSync(target)) {
      broken.push(`${href}: no such file or folder`);
      continue;
    }
    if (fragment === undefined) continue;
    if (!target.endsWith('.md')) broken.push(`${href}: a fragment on a file that is not Markdown`);
    else if (!anchorsOf(readFileSync(target, 'utf8')).has(decodeURIComponent(fragment)))
      broken.push(`${href}: no heading with the anchor #${fragment}`);
  }
  return broken;
}

/** How many relative links `markdown` has. */
function relativeLinkCount(markdown: string): number {
  return [...walkTokens(Lexer.lex(markdown))].filter(
    (t) => (t.type === 'link' || t.type === 'image') && !/^[a-z][a-z0-9+.-]*:/i.test((t as Tokens.Link).href),
  ).length;
}

describe('links in the documentation', () => {
  it('every relative link in README.md, docs/ and the src/ folder READMEs resolves', () => {
    const files = documents();
    const broken = files.flatMap((file) =>
      brokenLinks(file, readFileSync(file, 'utf8')).map((b) => `${relative(root, file)}: ${b}`),
    );
    assert.deepEqual(broken, []);
    // The check saw the links it vouches for: the README links into docs/, docs/ into each other.
    const counted = files.map((f) => relativeLinkCount(readFileSync(f, 'utf8')));
    assert.ok(counted.reduce((a, b) => a + b, 0) > 100, `only ${counted.join('+')} relative links found`);
  });

  it('reports a missing file, a missing heading (here or there) and a fragment on a non-Markdown file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-docs-links-'));
    try {
      writeFileSync(join(dir, 'other.md'), '# Other page\n\n## The `sluice scan` verb: files\n');
      writeFileSync(join(dir, 'code.ts'), 'export {};\n');
      const page = join(dir, 'page.md');
      const text = [
        '# Page',
        '[ok](other.md#the-sluice-scan-verb-files) [ok](#page) [ok](code.ts) [web](https://example.com/x)',
        '| a | b |',
        '| - | - |',
        '| [gone](missing.md) | [bad anchor](other.md#nothing-here) |',
        '- [code anchor](code.ts#L1) [no such heading here](#nowhere)',
      ].join('\n');
      assert.deepEqual(brokenLinks(page, text), [
        'missing.md: no such file or folder',
        'other.md#nothing-here: no heading with the anchor #nothing-here',
        'code.ts#L1: a fragment on a file that is not Markdown',
        '#nowhere: no heading with the anchor #nowhere',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
