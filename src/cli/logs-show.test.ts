import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startHarness, type Harness } from '../gateway/testing/harness.js';

const main = resolve('src/cli/main.ts');
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

function sluice(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
    cwd,
    env: { ...process.env, UP: 'x' },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A gateway for org acme, and a sluice.yaml beside its store for the CLI. */
async function setup(org: string): Promise<Harness> {
  const h = await startHarness(org);
  cleanups.push(() => h.close());
  await writeFile(
    join(h.dir, 'sluice.yaml'),
    `storage: sqlite:./gw.db
upstreams:
  anthropic: { provider: anthropic, baseUrl: http://127.0.0.1:1, apiKey: "\${UP}" }
orgs:
  acme: ${org}
`,
  );
  return h;
}

async function ask(h: Harness, content: string): Promise<string> {
  const sdk = new Anthropic({ baseURL: h.gateway.url, apiKey: h.key, maxRetries: 0 });
  const { response } = await sdk.messages
    .create({ model: 'claude-test', max_tokens: 8, messages: [{ role: 'user', content }] })
    .withResponse();
  const id = response.headers.get('x-sluice-request-id');
  assert.ok(id);
  // Read in this process first: the gateway's store commits what it batched before answering the read.
  assert.ok(await h.store.getAudit(id), 'the record is stored');
  return id;
}

describe('sluice logs show <id>', () => {
  it('prints one record with its content as stored: the secret redacted', async () => {
    const h = await setup('{ upstream: anthropic, contentLogging: redacted, guard: { secrets: redact } }');
    const token = 'ghp_' + randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36);
    const id = await ask(h, `my token is ${token} ok`);

    const shown = sluice(h.dir, 'logs', 'show', id);
    assert.equal(shown.code, 0, shown.err);
    assert.ok(!shown.out.includes(token), 'no secret printed');
    assert.match(shown.out, new RegExp(`^id: +${id}$`, 'm'));
    assert.match(shown.out, /^user: +dev@acme\.test$/m);
    assert.match(shown.out, /^guard: +redact \(github-pat ×1\)$/m);
    assert.match(
      shown.out,
      /\nrequest content, as stored \(what the guard redacted is replaced\):\n.*my token is \[REDACTED:/,
    );
    assert.match(
      shown.out,
      /\nresponse content: not kept \(kept only under contentLogging: full, without zdr, until retention clears it\)\n$/,
    );

    const json = sluice(h.dir, 'logs', 'show', id, '--format', 'json');
    assert.equal(json.code, 0, json.err);
    const rec = JSON.parse(json.out) as { id: string; requestContent: string; responseContent: null };
    assert.equal(rec.id, id);
    assert.ok(rec.requestContent.includes('my token is [REDACTED:') && !rec.requestContent.includes(token));
    assert.equal(rec.responseContent, null);
    assert.deepEqual(rec, await h.store.getAudit(id));
  });

  it('says why there is no content when the org keeps none, and names an unknown id', async () => {
    const h = await setup('{ upstream: anthropic }');
    const id = await ask(h, 'hello');
    const shown = sluice(h.dir, 'logs', 'show', id);
    assert.equal(shown.code, 0, shown.err);
    assert.match(
      shown.out,
      /\nrequest content, as stored \(what the guard redacted is replaced\): not kept \(the org's contentLogging is none, or zdr is on, or retention cleared it\)\n/,
    );
    const missing = sluice(h.dir, 'logs', 'show', 'req_nonesuch');
    assert.equal(missing.code, 2);
    assert.equal(
      missing.err,
      'sluice: no audit record req_nonesuch (see sluice logs; retention may have deleted it)\n',
    );
    // The list verb still works beside the new one.
    const listed = sluice(h.dir, 'logs', '--format', 'json');
    assert.equal(listed.code, 0, listed.err);
    assert.equal((JSON.parse(listed.out.trim()) as { id: string }).id, id);
  });
});
