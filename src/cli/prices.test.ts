import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';

const main = resolve('src/cli/main.ts');
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-prices-'));
  await writeFile(
    join(dir, 'sluice.yaml'),
    [
      'upstreams:',
      '  anthropic: { provider: anthropic, baseUrl: "https://api.anthropic.com", apiKey: "${UPSTREAM_KEY}" }',
      'orgs:',
      '  acme: { upstream: anthropic }',
      'prices:',
      '  claude-opus-5-5: { input: 1, output: 2, cacheWrite: 3, cacheRead: 0.4 }',
    ].join('\n'),
  );
});
after(() => rm(dir, { recursive: true, force: true }));

function sluice(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('sluice prices', () => {
  it('lists what applies: overrides first, then the dataset; unknown models at their family price', () => {
    const r = sluice(
      'prices',
      '--model',
      'claude-opus-5-5',
      'claude-haiku-4-5',
      'claude-opus-9',
      '--format',
      'json',
    );
    assert.equal(r.code, 0, r.err);
    const rows = JSON.parse(r.out) as {
      model: string;
      source: string;
      price: Record<string, number>;
      note: string | null;
    }[];
    assert.deepEqual(
      rows.map((x) => [x.model, x.source, x.price.input, x.price.cacheWrite, x.price.cacheRead]),
      [
        ['claude-opus-5-5', 'config', 1, 3, 0.4],
        ['claude-haiku-4-5', 'dataset', 1, 1.25, 0.1],
        ['claude-opus-9', 'family', 15, 18.75, 1.5],
      ],
    );
    assert.match(
      rows[2]?.note ?? '',
      /^model "claude-opus-9" has no known price: charged at the dearest opus price/,
    );
    const table = sluice('prices');
    assert.equal(table.code, 0, table.err);
    assert.match(table.out, /^MODEL +SOURCE +ENTRY +IN +OUT +CACHE W +CACHE R\nclaude-opus-5-5 +config /);
    assert.match(table.out, /\nclaude-sonnet-4-5 +dataset +claude-sonnet-4-5 +3 +15 +3\.75 +0\.3\n/);
  });
});
