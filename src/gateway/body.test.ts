import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BodyError, commonPrefix, readMessagesBody, type MessagesBody } from './body.js';

/**
 * The reference: the strings the model reads, found by walking the parsed request with the rules
 * the reader implements on bytes (see body.ts).
 */
function referenceContent(request: unknown): string[] {
  const out: string[] = [];
  const any = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(any);
    else if (v && typeof v === 'object') Object.values(v).forEach(any);
  };
  const contentValue = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(block);
  };
  const block = (b: unknown): void => {
    if (!b || typeof b !== 'object' || Array.isArray(b)) return;
    for (const [k, v] of Object.entries(b)) {
      if ((k === 'text' || k === 'title' || k === 'context') && typeof v === 'string') out.push(v);
      else if (k === 'content') contentValue(v);
      else if (k === 'input') any(v);
      else if (k === 'source' && v && typeof v === 'object' && !Array.isArray(v)) {
        const src = v as Record<string, unknown>;
        for (const [sk, sv] of Object.entries(src)) {
          if (sk === 'data' && typeof sv === 'string' && src.type !== 'base64' && src.type !== 'url')
            out.push(sv);
          else if (sk === 'content') contentValue(sv);
        }
      }
    }
  };
  const r = request as Record<string, unknown>;
  for (const [k, v] of Object.entries(r)) {
    if (k === 'system') contentValue(v);
    if (k === 'messages' && Array.isArray(v))
      for (const m of v)
        if (m && typeof m === 'object' && !Array.isArray(m))
          for (const [mk, mv] of Object.entries(m)) if (mk === 'content') contentValue(mv);
  }
  return out;
}

function decoded(body: Buffer): string[] {
  return readMessagesBody(body, true).content.map(
    (s) => JSON.parse(body.toString('utf8', s.start, s.end)) as string,
  );
}

const text = fc.string({ unit: 'binary', maxLength: 40 });
const block = fc.oneof(
  fc.record({ type: fc.constant('text'), text }),
  fc.record({ type: fc.constant('thinking'), thinking: text, signature: text }),
  fc.record({ type: fc.constant('redacted_thinking'), data: text }),
  fc.record({
    type: fc.constant('tool_use'),
    id: text,
    name: text,
    input: fc.jsonValue({ maxDepth: 3 }),
  }),
  fc.record({
    type: fc.constant('tool_result'),
    tool_use_id: text,
    content: fc.oneof(text, fc.array(fc.record({ type: fc.constant('text'), text }), { maxLength: 3 })),
  }),
  fc.record({
    type: fc.constant('document'),
    title: text,
    source: fc.oneof(
      fc.record({ type: fc.constant('text'), media_type: fc.constant('text/plain'), data: text }),
      fc.record({ data: text, media_type: fc.constant('application/pdf'), type: fc.constant('base64') }),
      fc.record({ type: fc.constant('url'), url: text }),
    ),
  }),
  fc.record({ type: fc.constant('image'), source: fc.record({ type: fc.constant('base64'), data: text }) }),
);
const request = fc.record({
  model: fc.string({ minLength: 1, maxLength: 10 }),
  max_tokens: fc.nat(),
  stream: fc.boolean(),
  system: fc.oneof(text, fc.array(fc.record({ type: fc.constant('text'), text }), { maxLength: 3 })),
  tools: fc.array(fc.record({ name: text, description: text, input_schema: fc.jsonValue({ maxDepth: 2 }) }), {
    maxLength: 2,
  }),
  messages: fc.array(
    fc.record({
      role: fc.constantFrom('user', 'assistant'),
      content: fc.oneof(text, fc.array(block, { maxLength: 4 })),
    }),
    { maxLength: 5 },
  ),
  metadata: fc.record({ user_id: text }),
});

describe('readMessagesBody', () => {
  it('finds exactly the strings a walk of the parsed request finds, in order, however the JSON is laid out', () => {
    fc.assert(
      fc.property(request, fc.constantFrom(undefined, 2, '\t'), (r, indent) => {
        const body = Buffer.from(JSON.stringify(r, null, indent));
        assert.deepEqual(decoded(body), referenceContent(JSON.parse(body.toString('utf8'))));
        const parsed = readMessagesBody(body, true);
        assert.equal(parsed.model, r.model);
        assert.equal(parsed.stream, r.stream);
      }),
      { numRuns: 400 },
    );
  });

  it('a source whose type comes after its data is still judged by its type', () => {
    const body = Buffer.from(
      JSON.stringify({
        model: 'm',
        messages: [
          {
            role: 'user',
            content: [
              { source: { data: 'AAAA', type: 'base64' }, type: 'image' },
              { source: { data: 'plain text', media_type: 'text/plain', type: 'text' }, type: 'document' },
            ],
          },
        ],
      }),
    );
    assert.deepEqual(decoded(body), ['plain text']);
  });

  it('refuses what is not JSON, naming where, and what is not a Messages request, naming what', () => {
    const cases: [string, boolean, RegExp][] = [
      ['', true, /unexpected end of input at byte 0/],
      ['{not json', true, /expected a key at byte 1/],
      ['{"model":"m","messages":[}', true, /unexpected character '}' at byte 25/],
      ['{"model":"m","messages":[]', true, /expected ',' or '}' at byte 26/],
      ['{"model":"m","messages":[]} x', true, /unexpected data after the value at byte 28/],
      ['{"model":"m","messages":["unterminated]}', true, /unterminated string/],
      ['{"model":"m","messages":[],"n":01.}', true, /bad number/],
      ['{"model":"m","messages":[],"b":tru}', true, /unexpected character/],
      ['[1,2]', false, /expected a JSON object/],
      ['{"model":"m"}', false, /"messages" must be an array/],
      ['{"model":"","messages":[]}', false, /"model" must be a non-empty string/],
      ['{"model":"m","messages":[],"max_tokens":"9"}', false, /"max_tokens" must be a number/],
      ['['.repeat(300) + ']'.repeat(300), true, /nesting too deep/],
    ];
    for (const [input, malformed, message] of cases) {
      assert.throws(
        () => readMessagesBody(Buffer.from(input), true),
        (err: unknown) =>
          err instanceof BodyError && err.malformed === malformed && message.test(err.message),
        input.slice(0, 60),
      );
    }
  });

  it('never throws anything but BodyError, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 60 }), (bytes, s) => {
        for (const input of [Buffer.from(bytes), Buffer.from(`{"model":"m","messages":[${s}]}`)]) {
          try {
            readMessagesBody(input, true);
          } catch (err) {
            assert.ok(err instanceof BodyError, String(err));
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reading with the previous body of the conversation gives exactly the same result as without', () => {
    const same = (a: MessagesBody, b: MessagesBody) => {
      assert.deepEqual(a.content, b.content);
      assert.deepEqual([a.model, a.stream, [...a.fields]], [b.model, b.stream, [...b.fields]]);
      assert.deepEqual(a.resume.marks, b.resume.marks);
    };
    const outcome = (body: Buffer, previous?: MessagesBody['resume']) => {
      try {
        return readMessagesBody(body, true, previous);
      } catch (err) {
        return err instanceof BodyError ? err.message : `not a BodyError: ${String(err)}`;
      }
    };
    fc.assert(
      fc.property(
        request,
        fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: text }), { maxLength: 3 }),
        fc.nat(),
        fc.nat({ max: 40 }),
        fc.uint8Array({ maxLength: 3 }),
        (r, more, at, cut, insert) => {
          const first = Buffer.from(JSON.stringify(r));
          const previous = readMessagesBody(first, true).resume;
          // The next turn: the same history and more messages (as Claude Code sends it).
          const next = Buffer.from(JSON.stringify({ ...r, messages: [...r.messages, ...more] }));
          same(readMessagesBody(next, true, previous), readMessagesBody(next, true));
          // Any edit anywhere: the result (or the error) is what a fresh read gives.
          const p = at % (first.length + 1);
          const edited = Buffer.concat([
            first.subarray(0, p),
            insert,
            first.subarray(Math.min(first.length, p + cut)),
          ]);
          const fresh = outcome(edited);
          const reused = outcome(edited, previous);
          if (typeof fresh === 'string' || typeof reused === 'string') assert.equal(reused, fresh);
          else same(reused, fresh);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the previous body of the conversation saves reading what is unchanged: later elements only', () => {
    const turn = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i}` }));
    const b1 = Buffer.from(JSON.stringify({ model: 'm', system: 's', messages: turn(5) }));
    const b2 = Buffer.from(JSON.stringify({ model: 'm', system: 's', messages: turn(7) }));
    const r1 = readMessagesBody(b1, true);
    assert.equal(r1.resume.marks.length, 10, 'one mark (position, spans before) per message');
    const r2 = readMessagesBody(b2, true, r1.resume);
    // The spans of messages 0-3 are the previous read's own objects: taken, not read again.
    assert.equal(r2.content[1], r1.content[1]);
    assert.equal(r2.content[4], r1.content[4]);
    assert.notEqual(r2.content[5], r1.content[5], 'the last old message is read again');
    assert.deepEqual(
      r2.content.map((sp) => b2.toString('utf8', sp.start, sp.end)),
      ['"s"', ...turn(7).map((m) => `"${m.content}"`)],
    );
  });

  it('commonPrefix finds the first differing byte at any position', () => {
    const a = Buffer.alloc(200_000, 1);
    for (const at of [0, 1, 65535, 65536, 65537, 131072, 199_999]) {
      const b = Buffer.from(a);
      b[at] = 2;
      assert.equal(commonPrefix(a, b), at);
    }
    assert.equal(commonPrefix(a, a.subarray(0, 1234)), 1234);
    assert.equal(commonPrefix(a, Buffer.from(a)), a.length);
  });

  it('accepts every valid Messages request JSON.parse accepts', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (extra) => {
        const body = Buffer.from(JSON.stringify({ model: 'm', messages: [], extra }));
        assert.doesNotThrow(() => readMessagesBody(body, true));
      }),
    );
  });
});
