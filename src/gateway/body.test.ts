import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { scan } from '../guard/scan.js';
import {
  API_WORDS,
  BodyError,
  BodyMemory,
  commonPrefix,
  readMessagesBody,
  type MessagesBody,
  type Resume,
} from './body.js';
import { isMessagesRequest, missing, modelReads } from './testing/reference-reader.js';

/** The decoded text of each literal the reader lists. */
function decoded(body: Buffer, previous?: MessagesBody['resume'], needsGeneration = true): string[] {
  return readMessagesBody(body, needsGeneration, previous).content.map(
    (s) => JSON.parse(body.toString('utf8', s.start, s.end)) as string,
  );
}

/**
 * JSON as written, not as parsed: an object is its entries in order, a key may repeat, and the
 * serializer escapes each string its own way, so the reader sees what a hostile client can send.
 */
type Json = string | number | boolean | null | Json[] | { entries: [string, Json][] };

/** A seeded stream of choices for the serializer (mulberry32). */
function choices(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) % n) as number;
  };
}

function serialize(j: Json, pick: (n: number) => number): string {
  const ws = () => ['', ' ', '\n  ', '\t', '\r\n'][pick(12)] ?? '';
  const str = (s: string) => {
    const mode = pick(4); // 0, 1: as JSON.stringify writes it; 2: every unit \u-escaped; 3: some
    if (mode < 2) return JSON.stringify(s);
    let out = '"';
    for (let i = 0; i < s.length; i++) {
      const unit = s.charCodeAt(i);
      const hex = unit.toString(16).padStart(4, '0');
      out +=
        mode === 2 || pick(2) ? `\\u${pick(2) ? hex.toUpperCase() : hex}` : JSON.stringify(s[i]).slice(1, -1);
    }
    return out + '"';
  };
  const go = (v: Json): string => {
    if (typeof v === 'string') return str(v);
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    if (Array.isArray(v)) return `[${ws()}${v.map(go).join(`,${ws()}`)}${ws()}]`;
    return `{${ws()}${v.entries.map(([k, x]) => `${str(k)}${ws()}:${ws()}${go(x)}`).join(`,${ws()}`)}${ws()}}`;
  };
  return go(j);
}

/** Does any object of `j` repeat a key? */
function repeatsKeys(j: Json): boolean {
  if (Array.isArray(j)) return j.some(repeatsKeys);
  if (j === null || typeof j !== 'object') return false;
  const keys = j.entries.map(([k]) => k);
  return new Set(keys).size < keys.length || j.entries.some(([, x]) => repeatsKeys(x));
}

/** Keys and values the reader gives a meaning to, so that extra and repeated entries meet its rules. */
const WORDS = [
  'type',
  'content',
  'text',
  'source',
  'data',
  'thinking',
  'signature',
  'id',
  'tool_use_id',
  'input',
  'citations',
  'encrypted_content',
  'encrypted_index',
  'model',
  'messages',
  'system',
  'role',
  'stream',
  'base64',
  'redacted_thinking',
  'url',
  'document',
  'tool_use',
  'tool_result',
  'cited_text',
  '__proto__',
];
const anyText = fc.string({ unit: 'binary', maxLength: 24 });
const str: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: anyText },
  { weight: 1, arbitrary: fc.constantFrom(...WORDS) },
);
const key = fc.oneof(fc.constantFrom(...WORDS), anyText);
const json: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthSize: 'small' },
    str,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 3 }).map((entries) => ({ entries })),
  ),
})).value;
const entry = (k: string, v: fc.Arbitrary<Json>) => v.map((x): [string, Json] => [k, x]);
/** An object with the `known` entries and up to two more, anywhere: unknown keys, or repeats. */
const obj = (...known: fc.Arbitrary<[string, Json]>[]): fc.Arbitrary<Json> =>
  fc
    .tuple(fc.tuple(...known), fc.array(fc.tuple(fc.tuple(key, json), fc.nat()), { maxLength: 2 }))
    .map(([entries, extra]) => {
      const all: [string, Json][] = [...entries];
      for (const [e, at] of extra) all.splice(at % (all.length + 1), 0, e);
      return { entries: all };
    });
const source = (content: fc.Arbitrary<Json>) =>
  obj(
    entry('type', fc.constantFrom('base64', 'text', 'url', 'content')),
    entry('media_type', fc.constantFrom('text/plain', 'image/png', 'application/pdf')),
    entry('data', str),
    entry('content', content),
  );
const blocksOf = (depth: number): fc.Arbitrary<Json> =>
  fc.oneof(str, fc.array(blockAt(depth), { maxLength: 3 }));
const blockAt = (depth: number): fc.Arbitrary<Json> => {
  const content = depth > 0 ? blocksOf(depth - 1) : str;
  return fc.oneof(
    obj(
      entry('type', fc.constant('text')),
      entry('text', str),
      entry(
        'citations',
        fc.array(
          obj(
            entry('type', fc.constant('char_location')),
            entry('cited_text', str),
            entry('encrypted_index', str),
          ),
          { maxLength: 2 },
        ),
      ),
    ),
    obj(entry('type', fc.constant('thinking')), entry('thinking', str), entry('signature', str)),
    obj(entry('type', fc.constant('redacted_thinking')), entry('data', str)),
    obj(entry('type', fc.constant('tool_use')), entry('id', str), entry('name', str), entry('input', json)),
    obj(entry('type', fc.constant('tool_result')), entry('tool_use_id', str), entry('content', content)),
    obj(
      entry('type', fc.constantFrom('document', 'image')),
      entry('title', str),
      entry('source', source(content)),
    ),
    obj(
      entry('type', fc.constant('web_search_tool_result')),
      entry('tool_use_id', str),
      entry(
        'content',
        fc.array(
          obj(
            entry('type', fc.constant('web_search_result')),
            entry('url', str),
            entry('encrypted_content', str),
          ),
          { maxLength: 2 },
        ),
      ),
    ),
    json,
  );
};
const messagesRequest = obj(
  entry('model', fc.string({ minLength: 1, maxLength: 8 })),
  entry('max_tokens', fc.nat()),
  entry(
    'messages',
    fc.array(obj(entry('role', fc.constantFrom('user', 'assistant')), entry('content', blocksOf(2))), {
      maxLength: 4,
    }),
  ),
  entry('system', blocksOf(1)),
  entry(
    'tools',
    fc.array(obj(entry('name', str), entry('description', str), entry('input_schema', json)), {
      maxLength: 2,
    }),
  ),
  entry('metadata', obj(entry('user_id', str))),
  entry('stream', fc.boolean()),
);

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
  it('lists every string the model reads, whatever its escaping, repeats or position (differential, against JSON.parse)', () => {
    fc.assert(
      fc.property(messagesRequest, fc.integer(), (tree, seed) => {
        const text = serialize(tree, choices(seed));
        const parsed = JSON.parse(text) as Record<string, unknown>;
        let read: MessagesBody;
        try {
          read = readMessagesBody(Buffer.from(text), true);
        } catch (err) {
          assert.ok(err instanceof BodyError && !err.malformed, String(err));
          assert.ok(!isMessagesRequest(parsed), `refused a valid request: ${err.message}`);
          return;
        }
        assert.ok(isMessagesRequest(parsed), 'accepted what is not a Messages request');
        assert.deepEqual([read.model, read.stream], [parsed.model, parsed.stream === true]);
        const words = (xs: string[]) => xs.filter((x) => !API_WORDS.has(x));
        const want = words(modelReads(parsed));
        const got = words(
          read.content.map(
            (sp) => JSON.parse(Buffer.from(text).toString('utf8', sp.start, sp.end)) as string,
          ),
        );
        // Every string the upstream's parser keeps is listed; with no repeated key, nothing else is.
        assert.deepEqual(missing(got, want), []);
        if (!repeatsKeys(tree)) assert.deepEqual(got.sort(), want.sort());
      }),
      { numRuns: 600 },
    );
  });

  it('decodes every key of the request, however it is escaped: an escaped `content` or `type` is one', () => {
    const u = (s: string) =>
      [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const body = Buffer.from(
      `{"${u('model')}":"m","${u('max_tokens')}":"9","${u('stream')}":true,"messages":[` +
        `{"role":"user","${u('content')}":"k=secret one"},` +
        `{"role":"user","content":[{"type":"image","source":{"type":"base64","data":"secret two","${u('type')}":"text"}}]},` +
        `{"role":"assistant","content":[{"${u('type')}":"thinking","thinking":"not scanned","signature":"s"}]}]}`,
    );
    assert.throws(
      () => readMessagesBody(body, true),
      /"max_tokens" must be a number/,
      'the escaped max_tokens is read',
    );
    const read = readMessagesBody(body, false);
    assert.equal(read.stream, true);
    assert.deepEqual(decoded(body, undefined, false), ['9', 'k=secret one', 'secret two']);
  });

  it('a repeated key counts as the upstream reads it: the last one', () => {
    const request = (...blocks: string[]) =>
      Buffer.from(`{"model":"a","model":"m","messages":[{"role":"user","content":[${blocks.join(',')}]}]}`);
    const cases: [string, string[]][] = [
      ['{"type":"thinking","thinking":"T","signature":"S","type":"text"}', ['T', 'S']],
      ['{"type":"text","thinking":"T","signature":"S","type":"thinking"}', []],
      ['{"type":"thinking","thinking":"T","type":{"x":1}}', ['T', 'x']],
      ['{"type":"redacted_thinking","data":"D","type":"text"}', ['D']],
      ['{"type":"text","data":"D","type":"redacted_thinking"}', []],
      ['{"type":"document","source":{"type":"base64","data":"D","type":"text"}}', ['D']],
      ['{"type":"document","source":{"type":"text","data":"D","type":"base64"}}', []],
      ['{"type":"document","source":{"data":"D1","type":"text","data":"D2","type":"base64"}}', []],
      ['{"type":"thinking","thinking":"T1","type":"text","thinking":"T2"}', ['T1', 'T2']],
    ];
    for (const [block, want] of cases) {
      const body = request(block);
      assert.equal(readMessagesBody(body, true).model, 'm');
      assert.deepEqual(
        decoded(body).filter((s) => s !== 'a'),
        want,
        block,
      );
    }
  });

  it('lists what is not the conversation too: tools, schemas, metadata, citations, unknown keys', () => {
    const body = Buffer.from(
      JSON.stringify({
        model: 'm',
        messages: [
          { role: 'user', content: 'hi', note: 'N' },
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'toolu_1', name: 'Write', input: { 'key K': { 'deeper K2': ['V'] } } },
              {
                type: 'text',
                text: 'T',
                citations: [{ type: 'char_location', cited_text: 'C', encrypted_index: 'E' }],
              },
              {
                type: 'web_search_tool_result',
                tool_use_id: 'srvtoolu_1',
                content: [{ type: 'web_search_result', url: 'U', encrypted_content: 'E' }],
              },
            ],
          },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'R' }] },
        ],
        tools: [
          {
            name: 'Write',
            description: 'D',
            input_schema: { type: 'object', properties: { path: { type: 'string', description: 'P' } } },
          },
        ],
        metadata: { user_id: 'I' },
        stop_sequences: ['S'],
      }),
    );
    assert.deepEqual(decoded(body), [
      'hi',
      'note',
      'N',
      'Write',
      'key K',
      'deeper K2',
      'V',
      'T',
      'C',
      'U',
      'R',
      'Write',
      'D',
      'path',
      'P',
      'I',
      'S',
    ]);
  });

  it("the API's own words, which are not listed, hold nothing any rule finds", () => {
    for (const word of API_WORDS) {
      assert.deepEqual(scan(word), [], word);
      assert.deepEqual(scan(word, { prefilter: false }), [], word);
    }
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
      // Found by fuzzing: JSON numbers have no leading zeros.
      ['{"model":"m","messages":[],"n":01}', true, /bad number \(leading zero\) at byte 31/],
      ['{"model":"m","messages":[],"n":[-00.5]}', true, /bad number \(leading zero\) at byte 32/],
      ['{"model":"m","messages":[],"n":02E-3}', true, /bad number \(leading zero\) at byte 31/],
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

  it('the spans before messages (system, tools) are taken over too, unless a byte of them changed', () => {
    const turn = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i}` }));
    const tools = [{ name: 'Read', description: 'reads a file', input_schema: { type: 'object' } }];
    const body = (system: string, n: number) =>
      Buffer.from(JSON.stringify({ model: 'm', system, tools, messages: turn(n) }));
    const r1 = readMessagesBody(body('sys one', 5), true);
    const r2 = readMessagesBody(body('sys one', 7), true, r1.resume);
    assert.deepEqual(r2.reused, { from: 0, to: 7 }, 'system, tool name and description, messages 0-3');
    assert.equal(r2.previous, r1.resume);
    // The same length, one byte changed: nothing before the change, so nothing at all, is reused.
    const r3 = readMessagesBody(body('sys two', 7), true, r2.resume);
    assert.deepEqual(r3.reused, { from: 0, to: 0 });
    assert.equal(r3.previous, undefined);
    assert.deepEqual(r3.content, readMessagesBody(body('sys two', 7), true).content);
  });

  it('what follows messages (Claude Code: system, tools, ...) is taken over, moved, when it is the same', () => {
    const tools = [
      { name: 'Read', description: 'reads a file', input_schema: { type: 'object', properties: { p: {} } } },
    ];
    const msgs = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `message ${i}` }));
    // Claude Code's key order: the history first, what every turn repeats after it.
    const body = (n: number, system = 'sys one', more = '') =>
      Buffer.from(
        JSON.stringify({
          model: 'm',
          messages: msgs(n),
          system,
          tools,
          metadata: { user_id: 'u' },
          max_tokens: 9,
          stream: true,
        }).slice(0, -1) + `${more}}`,
      );
    const plain = (b: Buffer) => {
      const r = readMessagesBody(b, true);
      return [r.content, r.model, r.stream, r.maxTokens, [...r.fields]];
    };
    const same = (b: Buffer, prev: Resume) => {
      const r = readMessagesBody(b, true, prev);
      assert.deepEqual([r.content, r.model, r.stream, r.maxTokens, [...r.fields]], plain(b));
      return r;
    };
    const r1 = readMessagesBody(body(3), true);
    assert.equal(r1.reusedTail, undefined);
    const r2 = same(body(5), r1.resume);
    const tailSpans = r1.content.length - (r1.resume.tail?.content ?? 0);
    assert.ok(tailSpans > 4, 'system, tool name, description, keys, user_id');
    assert.deepEqual(r2.reusedTail, {
      from: r2.content.length - tailSpans,
      to: r2.content.length,
      previousFrom: r1.content.length - tailSpans,
    });
    assert.equal(r2.previous, r1.resume);
    // From a tail that was itself taken over; and a shorter body (a rewind) moves it back.
    assert.ok(same(body(8), r2.resume).reusedTail);
    assert.ok(same(body(2), r2.resume).reusedTail);
    // One byte of the tail changed, at the same length: read again, nothing of it taken over.
    assert.equal(same(body(5, 'sys two'), r1.resume).reusedTail, undefined);
    // A tail that sets the model or stream again (last key wins): what it set comes with it.
    const again = ',"model":"m2","stream":false,"max_tokens":7';
    const r3 = readMessagesBody(body(3, 'sys one', again), true);
    const r4 = same(body(4, 'sys one', again), r3.resume);
    assert.ok(r4.reusedTail);
    assert.deepEqual(
      [r4.model, r4.stream, r4.maxTokens, r4.fields.get('max_tokens')],
      ['m2', false, 7, 'number'],
    );
  });

  it('a tail begins after the messages whose elements are marked, not an empty one before (found by fuzzing)', () => {
    const later = JSON.stringify([
      { role: 'user', content: 'm0' },
      { role: 'user', content: 'm1' },
    ]);
    const body = (pad: string) =>
      Buffer.from(`{"model":"m","pad":"${pad}","messages":[],"messages":${later},"system":"s"}`);
    const r1 = readMessagesBody(body('a'), true);
    const r2 = readMessagesBody(body('bb'), true, r1.resume);
    assert.deepEqual(r2.resume.marks, readMessagesBody(body('bb'), true).resume.marks);
    assert.equal(r2.resume.marks.length, 4);
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

describe('BodyMemory memory', () => {
  it('holds no more than its bound after many conversations with small bodies', () => {
    // Each small body is a slice of Node's shared 8 KB pool and carries spans, marks and the
    // inspect stage's results: counted by body length alone, 2 MB held over 20 MB. The bound is
    // 8 MB so that the heap's own noise (about a megabyte here) stays small beside it.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const maxBytes = 8 * 1024 * 1024;
    const memory = new BodyMemory(maxBytes);
    readMessagesBody(
      Buffer.from('{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}]}'),
      true,
    );
    const before = used();
    for (let i = 0; i < 40_000; i++) {
      const body = Buffer.concat([
        Buffer.from(
          `{"model":"claude-test","max_tokens":32,"messages":[{"role":"user","content":"request ${i} `,
        ),
        Buffer.from('hello there"}]}'),
      ]);
      const read = readMessagesBody(body, true, memory.get(`key\u0000session-${i}`));
      read.resume.results = read.resume.content.map(() => ({
        text: `request ${i} hello there`,
        detections: [],
      }));
      memory.set(`key\u0000session-${i}`, read.resume);
    }
    const grown = used() - before;
    assert.ok(memory.bytes <= maxBytes, 'the count stays within the bound');
    assert.ok(
      grown < 1.5 * maxBytes,
      `memory grew ${(grown / 2 ** 20).toFixed(1)} MB for ${memory.size} conversations counted as ${(memory.bytes / 2 ** 20).toFixed(1)} MB`,
    );
  });
});
