import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SluiceError } from '../../errors/catalog.js';
import { ScanCache } from '../../guard/cache.js';
import { BodyMemory } from '../body.js';
import { authorizedContext, testConfig, testKey } from '../testing/context.js';
import { authorize } from './authorize.js';
import { inspect } from './inspect.js';
import { read } from './read.js';

const AWS = 'AKIAQYLPMN5HHHFPZAM2';
const body = JSON.stringify({
  model: 'claude-test',
  max_tokens: 9,
  messages: [{ role: 'user', content: `deploy with key=${AWS}` }],
});

async function inspected(org: string, now: () => number = Date.now, groups?: string[]) {
  const warnings: string[] = [];
  const ctx = authorizedContext({ body, config: testConfig(org) });
  if (groups) {
    ctx.key = { ...testKey, groups };
    authorize(ctx);
  }
  await read(new BodyMemory(1 << 20))(ctx);
  const stage = inspect({ cache: new ScanCache(1 << 20), now, warn: (_f, m) => warnings.push(m) });
  return { ctx, run: () => stage(ctx), warnings };
}

describe('stage inspect', () => {
  it('redacts a secret in what is forwarded and in the stored copy', async () => {
    const { ctx, run } = await inspected('{ upstream: anthropic, contentLogging: redacted }');
    await run();
    assert.equal(ctx.record.guard.decision, 'redact');
    assert.deepEqual(ctx.record.guard.rules, { 'aws-access-key-id': 1 });
    assert.ok(!ctx.body?.toString().includes(AWS));
    assert.match(ctx.body?.toString() ?? '', /\[REDACTED:aws-access-key-id:1\]/);
    assert.ok(ctx.storedRequest && !ctx.storedRequest.toString().includes(AWS));
  });

  it('keeps no copy when content logging is off or the org has zero data retention', async () => {
    for (const org of [
      '{ upstream: anthropic, contentLogging: none }',
      '{ upstream: anthropic, zdr: true, contentLogging: full }',
    ]) {
      const { ctx, run } = await inspected(org);
      await run();
      assert.equal(ctx.storedRequest, null, org);
    }
  });

  it('blocks with the rule named and nothing else', async () => {
    const { ctx, run } = await inspected('{ upstream: anthropic, guard: { secrets: block } }');
    assert.throws(run, (e: SluiceError) => {
      assert.equal(e.code, 'guard_blocked');
      assert.match(e.message, /does not allow aws-access-key-id \(1×\) to be sent/);
      assert.ok(!e.message.includes(AWS));
      return true;
    });
    assert.equal(ctx.record.guard.decision, 'block');
  });

  it('fails closed past its time budget, or forwards unscanned where the org fails open', async () => {
    // A clock of 0 puts the deadline in 1970: every scan is already late.
    const closed = await inspected('{ upstream: anthropic, guard: { timeoutMs: 1 } }', () => 0);
    assert.throws(
      closed.run,
      (e: SluiceError) => e.code === 'guard_failed' && /ran past its 1 ms budget/.test(e.message),
    );
    assert.equal(closed.ctx.record.guard.decision, 'error');
    const open = await inspected('{ upstream: anthropic, guard: { timeoutMs: 1, failOpen: true } }', () => 0);
    await open.run();
    assert.equal(open.ctx.record.guard.decision, 'fail-open');
    assert.equal(open.ctx.body?.toString(), body);
    assert.deepEqual(open.warnings, [
      'guard failed open: the scan ran past its 1 ms budget; forwarded unscanned',
    ]);
  });

  it("applies the caller's groups' actions: the strictest group blocks where the org redacts", async () => {
    const org =
      '{ upstream: anthropic, contentLogging: redacted, groups: { contractors: { guard: { secrets: block } }, research: { guard: { secrets: off } } } }';
    const strict = await inspected(org, Date.now, ['research', 'contractors']);
    assert.throws(strict.run, (e: SluiceError) => {
      assert.equal(e.code, 'guard_blocked');
      assert.match(
        e.message,
        /^Sluice blocked this request: group "contractors" of org "acme" does not allow aws-access-key-id \(1×\) to be sent/,
      );
      return true;
    });
    assert.equal(strict.ctx.record.guard.decision, 'block');
    const loose = await inspected(org, Date.now, ['research']);
    await loose.run();
    assert.match(
      loose.ctx.body?.toString() ?? '',
      new RegExp(AWS),
      'guard off for research: forwarded as sent',
    );
    assert.ok(
      loose.ctx.storedRequest && !loose.ctx.storedRequest.toString().includes(AWS),
      'the stored copy still holds no detected value',
    );
    const plain = await inspected(org, Date.now, ['not-configured']);
    await plain.run();
    assert.equal(plain.ctx.record.guard.decision, 'redact', "the org's own action");
  });

  it('keeps no copy for a group whose content logging is none, nor for any group under zdr', async () => {
    for (const [org, groups] of [
      ['{ upstream: anthropic, contentLogging: full, groups: { g: { contentLogging: none } } }', ['g']],
      ['{ upstream: anthropic, zdr: true, groups: { g: { contentLogging: full } } }', ['g']],
    ] as const) {
      const { ctx, run } = await inspected(org, Date.now, [...groups]);
      await run();
      assert.equal(ctx.storedRequest, null, org);
      assert.equal(ctx.record.guard.decision, 'redact');
    }
  });
});
