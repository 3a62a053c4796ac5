/** Every catalog rule proves itself: its worked example must apply it and give the expected outcome. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluate, FLOW_IDS } from '../engine.js';
import type { Rule } from '../rule.js';
import { catalog } from './index.js';

const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;

function appliedRules(rule: Rule): Set<string> {
  const r = evaluate(rule.example.profile, catalog, rule.example.at);
  return new Set([
    ...r.flows.flatMap((f) => f.rules),
    ...r.warnings.flatMap((w) => w.rules),
    ...r.disabledFeatures.flatMap((f) => f.rules),
    ...[...r.assumptions, ...r.notes, ...r.checks].flatMap((x) => x.rules),
  ]);
}

test('rule ids are unique kebab-case', () => {
  const ids = catalog.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, 'duplicate rule id');
  for (const id of ids) assert.match(id, KEBAB);
});

for (const rule of catalog) {
  test(`rule ${rule.id}: worked example`, () => {
    assert.ok(rule.summary.length > 0);
    assert.ok(rule.sources.length > 0, 'cites at least one source');
    for (const s of rule.sources) {
      assert.match(s.seed, /\.md$/);
      assert.ok(s.section.length > 0);
      assert.match(s.url, /^https:\/\//);
    }
    assert.ok(rule.effects.length > 0);
    const { profile, at, expect } = rule.example;
    assert.ok(appliedRules(rule).has(rule.id), `example does not trigger ${rule.id}`);
    const result = evaluate(profile, catalog, at);
    for (const [id, want] of Object.entries(expect.flows ?? {})) {
      const flow = result.flows.find((f) => f.id === id);
      assert.ok(flow, `flow ${id}`);
      for (const [field, value] of Object.entries(want)) {
        assert.deepEqual(flow[field as keyof typeof flow], value, `${id}.${field}`);
      }
    }
    const warnings = result.warnings.map((w) => w.id);
    for (const w of expect.warnings ?? []) assert.ok(warnings.includes(w), `warning ${w} in ${warnings}`);
    const features = result.disabledFeatures.map((f) => f.id);
    for (const f of expect.disabledFeatures ?? []) assert.ok(features.includes(f), `disabled feature ${f}`);
    for (const [kind, want] of [
      ['assumptions', expect.assumptions],
      ['notes', expect.notes],
      ['checks', expect.checks],
    ] as const) {
      const got = result[kind].map((x) => x.id);
      for (const id of want ?? []) assert.ok(got.includes(id), `${kind}: ${id} in ${got}`);
    }
  });
}

test('every flow is decided by some rule for every example', () => {
  for (const rule of catalog) {
    const r = evaluate(rule.example.profile, catalog, rule.example.at);
    assert.deepEqual(
      r.flows.map((f) => f.id),
      [...FLOW_IDS],
    );
  }
});
