import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { plantedEnv } from '../../src/gateway/testing/planted.js';
import { runClaude, sluice } from './processes.js';
import { clientWorld, readEnvModel, serveWorld, worldKey } from './world.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function project(guard: string) {
  const w = await clientWorld(
    'sluice-ccg-',
    `orgs:\n  acme: { upstream: anthropic, contentLogging: redacted, guard: ${guard} }\n`,
    cleanups,
  );
  const { gatewayDir } = w;
  const { secrets, env } = plantedEnv();
  const envPath = join(w.project, '.env');
  await writeFile(envPath, env);
  w.standin.respond = readEnvModel(envPath);
  const key = worldKey(w, 'acme', 'dev@acme.test');
  const served = await serveWorld(w, cleanups);
  const run = () =>
    runClaude('read .env and summarise it', {
      cwd: w.project,
      home: w.home,
      baseUrl: served.url,
      key,
    });
  /** The planted values found in anything the gateway process wrote: its folder, stdout, stderr. */
  const leaked = async () => {
    await served.stop();
    const texts = [served.stderr(), served.lines.join('\n')];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else texts.push((await readFile(p)).toString('latin1'));
      }
    };
    await walk(gatewayDir);
    return secrets.filter((s) => texts.some((t) => t.includes(s.value))).map((s) => s.rule);
  };
  const logs = () => {
    const r = sluice(gatewayDir, ['logs', '--format', 'json']);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { status: number; guard: { decision: string; rules: Record<string, number> } },
      );
  };
  return { secrets, standin: w.standin, run, leaked, logs };
}

describe('the real Claude Code CLI reading a .env through the guard', () => {
  it('redact: the session completes and no planted value leaves, or stays in the gateway', async () => {
    const p = await project('{ secrets: redact, pii: log }');
    const { code, stdout, stderr } = await p.run();
    assert.equal(code, 0, stderr);
    // The model was shown placeholders, and the client printed what it was shown.
    assert.match(stdout, /Summary of what I was shown: .*GITHUB_TOKEN=\[REDACTED:github-pat:1\]/);
    const readResult = p.standin.seen.find((r) => r.body.includes('tool_result'));
    assert.ok(readResult, 'the client sent the file back in a tool_result');
    for (const seen of p.standin.seen)
      for (const s of p.secrets) assert.ok(!seen.body.includes(s.value), `${s.rule} reached the upstream`);
    const redacted = p.logs().filter((r) => r.guard.decision === 'redact');
    assert.ok(redacted.length >= 1, 'the audit log records the redaction');
    for (const s of p.secrets) assert.ok((redacted[0]?.guard.rules[s.rule] ?? 0) >= 1, s.rule);
    assert.deepEqual(await p.leaked(), []);
  });

  it('block: the client shows the policy error at once, and nothing is sent or kept', async () => {
    const p = await project('{ secrets: block, pii: log }');
    const { code, stdout, stderr } = await p.run();
    assert.notEqual(code, 0);
    assert.match(stdout + stderr, /Sluice blocked this request: org "acme" does not allow/);
    assert.match(stdout + stderr, /run \/clear/);
    for (const seen of p.standin.seen)
      for (const s of p.secrets) assert.ok(!seen.body.includes(s.value), `${s.rule} reached the upstream`);
    const blocked = p.logs().filter((r) => r.guard.decision === 'block');
    assert.equal(blocked.length, 1, 'shown at once, not retried');
    assert.equal(blocked[0]?.status, 429);
    assert.deepEqual(await p.leaked(), []);
  });
});
