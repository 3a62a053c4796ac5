import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errors } from '../errors/catalog.js';
import { runStages, type Stage } from './pipeline.js';
import { testContext } from './testing/context.js';

describe('the pipeline', () => {
  it('runs stages in order and records last', async () => {
    const seen: string[] = [];
    const step =
      (name: string): Stage =>
      () =>
        void seen.push(name);
    await runStages(testContext(), [step('a'), step('b')], step('record'), { error: assert.fail }, () => 0);
    assert.deepEqual(seen, ['a', 'b', 'record']);
  });

  it("ends the client's answer only once the record has run, even when the record throws", async () => {
    for (const fails of [false, true]) {
      const ctx = testContext();
      const order: string[] = [];
      const relayLike: Stage = (c) => {
        c.res.write('data: last event\n\n');
        c.endAnswer = () => {
          order.push('answer ended');
          c.res.end();
        };
      };
      const record: Stage = (c) => {
        order.push(c.res.writableEnded ? 'record after the end' : 'record');
        if (fails) throw new Error('journal full');
      };
      await runStages(ctx, [relayLike], record, { error: () => undefined }, () => 0).catch(() => undefined);
      assert.deepEqual(order, ['record', 'answer ended'], fails ? 'record throws' : 'record succeeds');
      assert.ok(ctx.res.writableEnded);
    }
  });

  it('a coded error ends the request with its answer, and the record still runs', async () => {
    const ctx = testContext();
    let recorded = false;
    const later: Stage = () => assert.fail('no stage after the error');
    await runStages(
      ctx,
      [
        () => {
          throw errors.missingKey();
        },
        later,
      ],
      () => void (recorded = true),
      { error: assert.fail },
      () => 0,
    );
    assert.ok(recorded);
    assert.equal(ctx.res.statusCode, 401);
    assert.equal(JSON.parse(ctx.res.text).error.type, 'authentication_error');
    assert.deepEqual([ctx.record.status, ctx.record.errorType], [401, 'authentication_error']);
  });

  it('an unexpected error is logged and answered as an internal error naming the request', async () => {
    const ctx = testContext();
    const logged: unknown[] = [];
    await runStages(
      ctx,
      [
        () => {
          throw new TypeError('bug');
        },
      ],
      null,
      { error: (f) => void logged.push(f) },
      () => 0,
    );
    assert.equal(ctx.res.statusCode, 500);
    assert.equal(
      JSON.parse(ctx.res.text).error.message,
      `Sluice failed to handle this request (logged as ${ctx.id}). Try again; if it persists, tell the gateway's administrator.`,
    );
    assert.deepEqual(logged, [{ id: ctx.id, err: 'TypeError' }]);
  });
});
