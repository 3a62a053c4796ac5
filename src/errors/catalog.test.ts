import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startHarness } from '../gateway/testing/harness.js';
import { CATALOG, ERROR_CODES, errors, type ErrorCode } from './catalog.js';

/** Every shipped source file (tests and test-only code left out). */
function shipped(dir = 'src'): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'testing' ? [] : shipped(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.suite.ts') ? [path] : [];
  });
}

/** Factory name -> the code it makes, read from the catalog's source. */
function factories(): Map<string, string> {
  const text = readFileSync('src/errors/catalog.ts', 'utf8');
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^ {2}(\w+): \([^)]*\)[^=]*=>\s*new SluiceError\(\s*'(\w+)'/gms))
    out.set(m[1] as string, m[2] as string);
  return out;
}

describe('the error catalog', () => {
  it('every code has a factory, and every factory is used by what ships', () => {
    const made = factories();
    assert.deepEqual(
      [...new Set(made.values())].sort(),
      [...ERROR_CODES].sort(),
      'one factory or more per code',
    );
    const sources = shipped()
      .filter((f) => !f.startsWith(join('src', 'errors')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const name of made.keys())
      assert.match(sources, new RegExp(`errors\\.${name}\\(`), `errors.${name} is never used`);
  });

  it('every error is the Anthropic envelope with its catalog type, and names its code', () => {
    const e = errors.notFound('GET', '/x');
    assert.deepEqual(JSON.parse(e.body()), {
      type: 'error',
      error: { type: 'not_found_error', message: 'This gateway does not serve GET /x.' },
    });
    assert.equal(e.responseHeaders()['x-sluice-error'], 'not_found');
    assert.equal(e.sseEvent(), `event: error\ndata: ${e.body()}\n\n`);
  });
});

describe('every refusal the gateway answers carries a catalog code', () => {
  const TOKEN = 'admin-token-for-catalog-test-0123';
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  it('keys, bodies, routes, policy, guard, admin API and OTLP', async () => {
    const h = await startHarness('{ upstream: anthropic, zdr: true, guard: { secrets: block } }', {
      topLevel: `admin: { tokens: ["${TOKEN}"] }`,
    });
    cleanups.push(() => h.close());
    const key = { 'x-api-key': h.key };
    const msg = (content: string) =>
      JSON.stringify({ model: 'claude-test', max_tokens: 5, messages: [{ role: 'user', content }] });
    const cases: [ErrorCode, RequestInit & { path: string }][] = [
      ['missing_key', { path: '/v1/messages', method: 'POST', body: msg('hi') }],
      [
        'bad_key',
        { path: '/v1/messages', method: 'POST', headers: { 'x-api-key': 'sk-sluice-x' }, body: msg('hi') },
      ],
      ['malformed_json', { path: '/v1/messages', method: 'POST', headers: key, body: '{"model":' }],
      [
        'not_a_messages_request',
        { path: '/v1/messages', method: 'POST', headers: key, body: '{"model":"m"}' },
      ],
      ['not_found', { path: '/v1/nothing', method: 'GET', headers: key }],
      ['zdr_forbidden', { path: '/v1/files', method: 'GET', headers: key }],
      [
        'guard_blocked',
        { path: '/v1/messages', method: 'POST', headers: key, body: msg('key AKIAQYLPMN5HHHFPZAM2') },
      ],
      [
        'telemetry_malformed',
        {
          path: '/v1/metrics',
          method: 'POST',
          headers: { ...key, 'content-type': 'application/json' },
          body: '{',
        },
      ],
      ['admin_unauthenticated', { path: '/admin/v1/orgs', method: 'GET' }],
      [
        'admin_not_found',
        { path: '/admin/v1/orgs/nope/keys', method: 'GET', headers: { authorization: `Bearer ${TOKEN}` } },
      ],
      [
        'admin_forbidden',
        { path: '/admin/v1/admin-log', method: 'GET', headers: { authorization: `Bearer ${h.key}` } },
      ],
      [
        'admin_bad_request',
        {
          path: '/admin/v1/orgs/%E0%A4%A/keys',
          method: 'GET',
          headers: { authorization: `Bearer ${TOKEN}` },
        },
      ],
    ];
    for (const [code, { path, ...init }] of cases) {
      const res = await fetch(`${h.gateway.url}${path}`, init);
      const body = (await res.json()) as { type: string; error: { type: string } };
      assert.equal(res.headers.get('x-sluice-error'), code, `${init.method} ${path}`);
      assert.equal(res.status, CATALOG[code].status, code);
      assert.deepEqual([body.type, body.error.type], ['error', CATALOG[code].type], code);
    }
  });
});
