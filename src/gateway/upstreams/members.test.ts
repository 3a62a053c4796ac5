import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'node:test';
import { memberValue, rewriteMembers, topLevelMembers } from './members.js';
import { fromCloudBody, toBedrockBody, toVertexBody } from './translate.js';

const objects = fc.dictionary(
  fc.string().filter((k) => k !== '__proto__'),
  fc.jsonValue(),
  { maxKeys: 8 },
);

describe('top-level members without parsing the values', () => {
  it('finds every member of any JSON object, compact or indented, with spans that parse to its value', () => {
    fc.assert(
      fc.property(objects, fc.constantFrom(undefined, 1, '\t'), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        // What JSON itself keeps of the value (-0 is written 0).
        const parsed = JSON.parse(text) as Record<string, unknown>;
        const b = Buffer.from(text);
        const members = topLevelMembers(b);
        assert.deepEqual(
          members.map((m) => m.key),
          Object.keys(parsed),
        );
        for (const m of members) assert.deepEqual(memberValue(b, m), parsed[m.key]);
      }),
    );
  });

  it('rewriting drops and adds members and leaves the rest as they were', () => {
    fc.assert(
      fc.property(objects, fc.jsonValue(), (value, added) => {
        const b = Buffer.from(JSON.stringify(value));
        const drop = new Set(Object.keys(value).slice(0, 1));
        const out = rewriteMembers(b, topLevelMembers(b), drop, { added_: added });
        const parsed = JSON.parse(out.toString('utf8')) as Record<string, unknown>;
        const expected: Record<string, unknown> = { added_: added };
        for (const [k, v] of Object.entries(value)) if (!drop.has(k)) expected[k] = v;
        assert.deepEqual(parsed, JSON.parse(JSON.stringify(expected)));
      }),
    );
  });

  it('is not fooled by escaped quotes, backslashes at a string end, or brackets inside strings', () => {
    const text = '{ "a" : "x\\\\", "b\\"}" : ["]", {"c": "\\"{"}], "model":"m" ,"n": -1.5e3 , "t":true}';
    const members = topLevelMembers(Buffer.from(text));
    assert.deepEqual(
      members.map((m) => m.key),
      ['a', 'b"}', 'model', 'n', 't'],
    );
    assert.throws(() => topLevelMembers(Buffer.from('[1]')), /not a JSON object/);
    assert.throws(() => topLevelMembers(Buffer.from('{"a": "open')), /not a JSON object/);
  });
});

describe('the clouds\u2019 bodies', () => {
  const body = Buffer.from(
    '{"model":"claude-x","max_tokens":5,"messages":[{"role":"user","content":"h\\u00e9"}],"stream":true}',
  );

  it("Bedrock's: version and betas first, no model or stream, the rest byte for byte", () => {
    assert.equal(
      toBedrockBody(body, ['claude-code-20250219', 'interleaved-thinking-2025-05-14']).toString(),
      '{"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["interleaved-thinking-2025-05-14"],"max_tokens":5,"messages":[{"role":"user","content":"h\\u00e9"}]}',
    );
  });

  it("Vertex AI's: the version, no model (but for count-tokens)", () => {
    assert.equal(
      toVertexBody(body, null).toString(),
      '{"anthropic_version":"vertex-2023-10-16","max_tokens":5,"messages":[{"role":"user","content":"h\\u00e9"}],"stream":true}',
    );
    assert.match(
      toVertexBody(body, 'claude-x@1').toString(),
      /^\{"anthropic_version":"vertex-2023-10-16","model":"claude-x@1","max_tokens"/,
    );
  });

  it("a cloud client's body back in the Messages API's form, with its betas", () => {
    const bedrock = Buffer.from(
      '{"anthropic_version":"bedrock-2023-05-31","anthropic_beta":["b1"],"max_tokens":5,"messages":[]}',
    );
    const out = fromCloudBody(bedrock, 'claude-sonnet-4-5', true);
    assert.equal(
      out.body.toString(),
      '{"model":"claude-sonnet-4-5","stream":true,"max_tokens":5,"messages":[]}',
    );
    assert.deepEqual(out.betas, ['b1']);
    const counting = fromCloudBody(
      Buffer.from('{"anthropic_version":"v","model":"claude-haiku-4-5@20251001","messages":[]}'),
      null,
      false,
    );
    assert.equal(counting.body.toString(), '{"model":"claude-haiku-4-5-20251001","messages":[]}');
  });
});
