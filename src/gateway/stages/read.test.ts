import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SluiceError } from '../../errors/catalog.js';
import { BodyMemory } from '../body.js';
import { authorizedContext, testConfig } from '../testing/context.js';
import { read } from './read.js';

const body = (text: string) =>
  JSON.stringify({
    model: 'claude-test',
    max_tokens: 9,
    stream: true,
    messages: [{ role: 'user', content: text }],
  });

describe('stage read', () => {
  it('reads model and stream onto the record and keeps the bytes as sent', async () => {
    const ctx = authorizedContext({ body: body('hello') });
    await read(new BodyMemory(1 << 20))(ctx);
    assert.equal(ctx.record.model, 'claude-test');
    assert.equal(ctx.record.stream, true);
    assert.equal(ctx.body?.toString(), body('hello'));
    assert.equal(ctx.message?.content.length, 1);
  });

  it('refuses bodies over server.maxBodyBytes, by header or by what arrives', async () => {
    const config = testConfig();
    config.server.maxBodyBytes = 10;
    for (const headers of [{ 'content-length': '11' }, {}]) {
      const ctx = authorizedContext({ body: body('x'), headers, config });
      await assert.rejects(Promise.resolve(read(new BodyMemory(1 << 20))(ctx)), (e: SluiceError) => {
        assert.equal(e.code, 'too_large');
        assert.equal(
          e.message,
          'The request body is larger than this gateway accepts (10 bytes). Shorten the conversation (/compact or /clear).',
        );
        return true;
      });
    }
  });

  it('tells malformed JSON from JSON that is not a Messages request', async () => {
    const stage = read(new BodyMemory(1 << 20));
    await assert.rejects(
      Promise.resolve(stage(authorizedContext({ body: '{"model":' }))),
      (e: SluiceError) =>
        e.code === 'malformed_json' && /not valid JSON \(unexpected end of input at byte 9\)/.test(e.message),
    );
    await assert.rejects(
      Promise.resolve(stage(authorizedContext({ body: '{"model":"m"}' }))),
      (e: SluiceError) =>
        e.code === 'not_a_messages_request' &&
        e.message === 'The request body is not a Messages request: "messages" must be an array.',
    );
  });

  it("resumes from the conversation's previous body", async () => {
    const stage = read(new BodyMemory(1 << 20));
    const first = JSON.stringify({
      model: 'm',
      messages: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'two' },
      ],
    });
    const second = JSON.stringify({
      model: 'm',
      messages: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: 'two' },
        { role: 'user', content: 'three' },
      ],
    });
    const headers = { 'x-claude-code-session-id': 's1' };
    await stage(authorizedContext({ body: first, headers }));
    const ctx = authorizedContext({ body: second, headers });
    await stage(ctx);
    assert.ok(ctx.message?.previous, 'the previous read was taken over');
    assert.equal(ctx.message?.content.length, 3);
  });
});
