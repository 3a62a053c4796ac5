/**
 * The seeds' statements, the catalog and the out-of-scope list agree: every checkable statement of
 * the five seeds (seed-statements.txt) is implemented by a catalog rule that cites it, or listed as
 * out of scope, with a reason, in docs/policy-fidelity.md.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { catalog } from './index.js';

const SEEDS = [
  'claude-code-data-usage-summary.md',
  'claude-code-docs-data-usage.md',
  'claude-code-docs-zero-data-retention.md',
  'zdr-products-help-article.md',
  'training-risk-by-access-route-article.md',
];

interface Statement {
  id: string;
  seed: string;
  section: string;
  text: string;
  line: number;
}

function statements(): Statement[] {
  const text = readFileSync(new URL('./seed-statements.txt', import.meta.url), 'utf8');
  return text.split('\n').flatMap((raw, i) => {
    if (!raw.trim() || raw.startsWith('#')) return [];
    const parts = raw.split(' | ').map((p) => p.trim());
    assert.equal(parts.length, 4, `line ${i + 1}: expected "id | seed | section | statement"`);
    const [id, seed, section, statement] = parts as [string, string, string, string];
    return [{ id, seed, section, text: statement, line: i + 1 }];
  });
}

/** `| id | reason |` rows under the "## Out of scope" heading of docs/policy-fidelity.md. */
function outOfScope(): Map<string, string> {
  const doc = readFileSync(new URL('../../../docs/policy-fidelity.md', import.meta.url), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('Out of scope'));
  assert.ok(section, 'docs/policy-fidelity.md has an "## Out of scope" section');
  const rows = new Map<string, string>();
  for (const m of section.matchAll(/^\|\s*`([a-z0-9-]+)`\s*\|\s*(.*?)\s*\|$/gm))
    rows.set(m[1] as string, (m[2] as string).trim());
  return rows;
}

test('every statement line names a known seed, a section and a unique kebab-case id', () => {
  const all = statements();
  assert.ok(all.length > 100, `${all.length} statements`);
  const ids = new Set<string>();
  for (const s of all) {
    assert.match(s.id, /^[a-z0-9]+(-[a-z0-9]+)*$/, `line ${s.line}`);
    assert.ok(!ids.has(s.id), `line ${s.line}: duplicate id ${s.id}`);
    ids.add(s.id);
    assert.ok(SEEDS.includes(s.seed), `line ${s.line}: unknown seed ${s.seed}`);
    assert.ok(s.section.length > 0 && s.text.length > 0, `line ${s.line}`);
  }
  assert.deepEqual(new Set(all.map((s) => s.seed)), new Set(SEEDS), 'every seed has statements');
});

test('every statement has a rule citing it or an out-of-scope entry with a reason, not both', () => {
  const cited = new Set(catalog.flatMap((r) => r.statements ?? []));
  const excluded = outOfScope();
  const missing = statements().filter((s) => !cited.has(s.id) && !excluded.has(s.id));
  assert.deepEqual(
    missing.map((s) => `${s.id} (${s.seed}, ${s.section})`),
    [],
    'statements with neither a rule nor an out-of-scope entry',
  );
  const both = statements().filter((s) => cited.has(s.id) && excluded.has(s.id));
  assert.deepEqual(
    both.map((s) => s.id),
    [],
    'cited by a rule and listed out of scope',
  );
  for (const [id, reason] of excluded) assert.ok(reason.length > 20, `${id}: give the reason`);
});

test('rules and the out-of-scope list name only statements that exist', () => {
  const ids = new Set(statements().map((s) => s.id));
  for (const rule of catalog)
    for (const id of rule.statements ?? [])
      assert.ok(ids.has(id), `${rule.id} cites unknown statement ${id}`);
  for (const id of outOfScope().keys()) assert.ok(ids.has(id), `out-of-scope entry ${id} is not a statement`);
});

test('a rule cites each statement together with its passage: that seed and section are among its sources', () => {
  const where = new Map(statements().map((s) => [s.id, s]));
  const gaps = catalog.flatMap((rule) =>
    (rule.statements ?? []).flatMap((id) => {
      const s = where.get(id);
      if (!s) return [];
      const cited = rule.sources.some((src) => src.seed === s.seed && src.section === s.section);
      return cited ? [] : [`${rule.id} cites ${id} without ${s.seed} “${s.section}”`];
    }),
  );
  assert.deepEqual(gaps, []);
});
