import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { createKey } from '../control/keys.js';
import { PlaceholderVault } from '../guard/redact.js';
import { ALNUM, fake } from '../guard/rules/fake.js';
import { holdBack, restoreMessage, SseRestorer } from './restore.js';
import { startHarness, type Harness, type HarnessOptions } from './testing/harness.js';
import { plantedEnv } from './testing/planted.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(org: string, opts: HarnessOptions = {}): Promise<Harness> {
  const h = await startHarness(org, opts);
  cleanups.push(() => h.close());
  return h;
}

const sdk = (h: Harness) => new Anthropic({ baseURL: h.gateway.url, apiKey: h.key, maxRetries: 0 });

/** Every file under the gateway's folder and every log line, searched for each value. */
async function leaked(h: Harness, values: string[]): Promise<string[]> {
  const texts = [h.logs.join('\n')];
  for (const name of await readdir(h.dir, { recursive: true }))
    if ((await stat(join(h.dir, name))).isFile())
      texts.push((await readFile(join(h.dir, name))).toString('latin1'));
  return values.filter((v) => texts.some((t) => t.includes(v)));
}

/** A Claude Code-shaped conversation: the model reads .env with a tool, the result comes back. */
function conversation(env: string) {
  return {
    model: 'claude-test',
    max_tokens: 100,
    system: [
      { type: 'text' as const, text: 'You are Claude Code.' },
      { type: 'text' as const, text: `Environment notes:\n${env.split('\n')[2] ?? ''}` },
    ],
    messages: [
      { role: 'user' as const, content: 'read .env and summarise it' },
      {
        role: 'assistant' as const,
        content: [
          {
            type: 'tool_use' as const,
            id: 'toolu_1',
            name: 'Bash',
            input: { command: `grep GITHUB .env # ${env.split('\n')[4] ?? ''}` },
          },
        ],
      },
      {
        role: 'user' as const,
        content: [
          {
            type: 'tool_result' as const,
            tool_use_id: 'toolu_1',
            content: [{ type: 'text' as const, text: env }],
          },
          {
            type: 'document' as const,
            source: { type: 'text' as const, media_type: 'text/plain' as const, data: env },
          },
        ],
      },
    ],
  };
}

describe('the guard in the gateway', () => {
  it('redact: no planted value reaches the upstream, the store or a log; the record counts the rules', async () => {
    const h = await setup(
      '{ upstream: anthropic, contentLogging: full, guard: { secrets: redact, pii: log } }',
    );
    const { secrets, env } = plantedEnv();
    const request = conversation(env);
    const msg = await sdk(h).messages.create(request);
    assert.equal(msg.content[0]?.type, 'text');

    const sent = h.standin.seen[0]?.body.toString('utf8') ?? '';
    for (const s of secrets) assert.ok(!sent.includes(s.value), `${s.rule} reached the upstream`);
    const forwarded = JSON.parse(sent) as typeof request;
    // Each place the model reads was inspected: system, tool_use input, tool_result, document.
    assert.match(forwarded.system[1]?.text ?? '', /AWS_ACCESS_KEY_ID=\[REDACTED:aws-access-key-id:1\]/);
    const toolUse = forwarded.messages[1]?.content[0] as { input: { command: string } };
    assert.match(toolUse.input.command, /GITHUB_TOKEN=\[REDACTED:github-pat:1\]/);
    const result = forwarded.messages[2]?.content as unknown as [
      { content: [{ text: string }] },
      { source: { data: string } },
    ];
    assert.match(
      result[0].content[0].text,
      /DATABASE_URL=postgres:\/\/app:\[REDACTED:postgres-connection-string:1\]@/,
    );
    assert.equal(result[1].source.data, result[0].content[0].text, 'the same value, the same placeholder');
    assert.match(result[0].content[0].text, /NODE_ENV=development/, 'the rest of the file is untouched');

    const [rec] = await h.store.queryAudit({ org: 'acme' });
    assert.equal(rec?.guard.decision, 'redact');
    assert.deepEqual(rec?.guard.rules, {
      'aws-access-key-id': 3,
      'aws-secret-access-key': 2,
      'github-pat': 3,
      'stripe-secret-key': 2,
      'anthropic-api-key': 2,
      'postgres-connection-string': 2,
    });
    assert.ok(rec?.requestContent?.includes('[REDACTED:stripe-secret-key:1]'));
    await h.store.close();
    assert.deepEqual(
      await leaked(
        h,
        secrets.map((s) => s.value),
      ),
      [],
    );
  });

  it('every string the model reads is scanned, whatever its escaping or position, keys included', async () => {
    const h = await setup('{ upstream: anthropic, contentLogging: redacted, guard: { secrets: redact } }');
    // A token of its own per place, so a miss names the place.
    const places = [
      'an escaped content key',
      'a tool description',
      'an input_schema description',
      'a key inside tool_use.input',
      'a citation cited_text',
      'metadata.user_id',
      'an unknown key on a message',
      'a document whose source repeats type',
      'an escaped message key',
    ] as const;
    const token = new Map(places.map((p) => [p, plantedEnv().secrets[2]?.value ?? '']));
    const t = (p: (typeof places)[number]) => token.get(p) as string;
    const escaped = (key: string) =>
      [...key].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const body = `{"model":"m","max_tokens":5,
      "messages":[
        {"role":"user","${escaped('content')}":"k=${t('an escaped content key')}"},
        {"role":"assistant","content":[
          {"type":"tool_use","id":"toolu_1","name":"Write","input":{"${t('a key inside tool_use.input')}":1}},
          {"type":"text","text":"see","citations":[{"type":"char_location","cited_text":"${t('a citation cited_text')}","document_index":0,"start_char_index":0,"end_char_index":5}]}
        ]},
        {"role":"user","content":"hi","note":"${t('an unknown key on a message')}"},
        {"role":"user","content":[{"type":"document","source":
          {"type":"base64","media_type":"text/plain","data":"${t('a document whose source repeats type')}","${escaped('type')}":"text"}}]},
        {"role":"user","content":[{"type":"text","text":"ok"}],"${escaped('x-note')}":"${t('an escaped message key')}"}
      ],
      "tools":[{"name":"Write","description":"writes ${t('a tool description')}",
        "input_schema":{"type":"object","properties":{"path":{"type":"string","description":"e.g. ${t('an input_schema description')}"}}}}],
      "metadata":{"user_id":"${t('metadata.user_id')}"}}`;
    JSON.parse(body); // the test's own body is valid JSON
    const res = await fetch(`${h.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': h.key },
      body,
    });
    assert.equal(res.status, 200);
    const sent = h.standin.seen[0]?.body.toString('utf8') ?? '';
    const forwarded = JSON.parse(sent) as { messages: { content: { input?: object }[] }[] };
    assert.deepEqual(
      places.filter((p) => sent.includes(t(p))),
      [],
      'reached the upstream in clear',
    );
    assert.deepEqual(Object.keys(forwarded.messages[1]?.content[0]?.input ?? {}), [
      '[REDACTED:github-pat:2]',
    ]);
    const [rec] = await h.store.queryAudit({ org: 'acme' });
    assert.deepEqual(rec?.guard, { decision: 'redact', rules: { 'github-pat': places.length } });
    const stored = rec?.requestContent ?? '';
    assert.deepEqual(
      places.filter((p) => stored.includes(t(p))),
      [],
      'kept in the stored copy',
    );
    JSON.parse(stored);
  });

  it('a body with nothing to redact is forwarded byte for byte', async () => {
    const h = await setup('{ upstream: anthropic, guard: { secrets: redact, pii: redact } }');
    const body =
      '{"model":"m", "max_tokens":5,"messages":[{"role":"user","content":"nothing \\u00e9 here"}]}';
    const res = await fetch(`${h.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': h.key },
      body,
    });
    assert.equal(res.status, 200);
    assert.equal(h.standin.seen[0]?.body.toString('utf8'), body);
  });

  it('redaction changes only the strings that held a value; other bytes stay as the client wrote them', async () => {
    const h = await setup('{ upstream: anthropic }');
    const token = 'ghp_' + 'k7Qm2Xv9Lp4Rt8Wz1Yc6Nb3Hd5Fj0Gs2Ae7U'.slice(0, 36);
    const body = `{"model":"m",  "max_tokens":5,"messages":[{"role":"user","content":"caf\\u00e9 \\/ spaced"},{"role":"user","content":"token ${token} here"}]}`;
    await fetch(`${h.gateway.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': h.key }, body });
    assert.equal(
      h.standin.seen[0]?.body.toString('utf8'),
      body.replace(`"token ${token} here"`, '"token [REDACTED:github-pat:1] here"'),
    );
    // A literal escaped some other way than JSON.stringify would: found by parsing, re-serialised.
    const escaped = body.replace(`token ${token}`, `\\u0074oken ${token}`);
    await fetch(`${h.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': h.key },
      body: escaped,
    });
    const sent = h.standin.seen[1]?.body.toString('utf8') ?? '';
    assert.ok(!sent.includes(token));
    assert.deepEqual(JSON.parse(sent).messages[1], {
      role: 'user',
      content: 'token [REDACTED:github-pat:1] here',
    });
  });

  it('prompt caching keeps working: turn N+1 forwards turn N’s redacted bytes unchanged', async () => {
    const h = await setup('{ upstream: anthropic, guard: { secrets: redact, pii: redact } }');
    const { env } = plantedEnv();
    const second = plantedEnv();
    const messages: { role: 'user' | 'assistant'; content: unknown }[] = [{ role: 'user', content: 'start' }];
    const bodies: string[] = [];
    for (let turn = 0; turn < 8; turn++) {
      // messages is the last key, so turn N's body minus its closing `]}` is a prefix of turn N+1's.
      const body = JSON.stringify({ model: 'm', max_tokens: 5, system: 'sys', messages });
      await fetch(`${h.gateway.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': h.key }, body });
      bodies.push(h.standin.seen.at(-1)?.body.toString('utf8') ?? '');
      const file =
        turn === 2 ? env : turn === 5 ? second.env + '\ncontact: jane.doe@acme-corp.io' : `file ${turn}`;
      messages.push(
        { role: 'assistant', content: [{ type: 'tool_use', id: `t${turn}`, name: 'Read', input: { turn } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: `t${turn}`, content: file }] },
      );
    }
    for (let n = 0; n + 1 < bodies.length; n++) {
      const prefix = (bodies[n] as string).slice(0, -2);
      assert.ok((bodies[n + 1] as string).startsWith(prefix), `turn ${n + 1} changed turn ${n}'s bytes`);
    }
    const last = bodies.at(-1) as string;
    assert.match(last, /\[REDACTED:github-pat:1\][^]*\[REDACTED:github-pat:2\]/);
    assert.match(last, /\[REDACTED:email:1\]/);
  });

  it('a conversation whose history changes (edited, cut, rewound) is forwarded as a first request would be', async () => {
    const h = await setup('{ upstream: anthropic, guard: { secrets: redact, pii: redact } }');
    const { env } = plantedEnv();
    const msg = (i: number, content: string) => ({ role: i % 2 ? 'assistant' : 'user', content });
    const base = [
      msg(0, 'start'),
      msg(1, 'reading'),
      msg(2, env),
      msg(3, 'done'),
      msg(4, 'mail jane.doe@acme-corp.io'),
    ];
    const turns = [
      base,
      [...base, msg(5, 'more'), msg(6, 'and more')],
      // An early message edited: nothing from the previous read may be reused past it.
      [msg(0, 'start, edited'), ...base.slice(1), msg(5, 'more')],
      // The secret's message cut out (a rewind), the rest kept.
      [base[0]!, base[1]!, base[3]!, base[4]!, msg(5, 'more')],
      base,
    ];
    const send = async (key: string, messages: unknown[]) => {
      await fetch(`${h.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'x-claude-code-session-id': 'one-session' },
        body: JSON.stringify({ model: 'm', max_tokens: 5, system: 'sys', messages }),
      });
      return h.standin.seen.at(-1)?.body.toString('utf8') ?? '';
    };
    for (const [n, messages] of turns.entries()) {
      const continued = await send(h.key, messages);
      // A key of its own: a conversation the gateway has never seen.
      const { key } = await createKey(
        h.store,
        { org: 'acme', user: `fresh${n}@acme.test`, role: 'member' },
        new Date(),
      );
      assert.equal(continued, await send(key, messages), `turn ${n}`);
      assert.equal(continued.includes('[REDACTED:email:1]'), true, `turn ${n}`);
    }
  });

  it('Claude Code order (system and tools after messages): the tail is redacted every turn, as a first request is', async () => {
    const h = await setup('{ upstream: anthropic, guard: { secrets: redact } }');
    const inTool = 'ghp_' + fake(ALNUM, 36, 'tail-tool');
    const inSystem = 'ghp_' + fake(ALNUM, 36, 'tail-system');
    const tools = [{ name: 'Read', description: `reads; token ${inTool}`, input_schema: { type: 'object' } }];
    const messages: { role: string; content: string }[] = [];
    const send = async (key: string, system: string) => {
      await fetch(`${h.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'x-claude-code-session-id': 'tail' },
        body: JSON.stringify({ model: 'm', messages, system, tools, max_tokens: 5 }),
      });
      return h.standin.seen.at(-1)?.body.toString('utf8') ?? '';
    };
    const clean = `token ${'x'.repeat(inSystem.length)}`;
    for (let turn = 0; turn < 6; turn++) {
      messages.push({ role: turn % 2 ? 'assistant' : 'user', content: `turn ${turn}` });
      // Turn 4 changes one byte run of the system prompt, at the same length: scanned again.
      const system = turn === 4 ? `token ${inSystem}` : clean;
      const continued = await send(h.key, system);
      const { key } = await createKey(
        h.store,
        { org: 'acme', user: `tail${turn}@acme.test`, role: 'member' },
        new Date(),
      );
      assert.equal(continued, await send(key, system), `turn ${turn}: as a first request`);
      assert.equal(continued.includes(inTool) || continued.includes(inSystem), false, `turn ${turn}`);
      assert.match(continued, /reads; token \[REDACTED:github-pat:\d\]/);
    }
  });

  it('a system prompt changed under the same history is scanned again, even at the same length', async () => {
    const h = await setup('{ upstream: anthropic, guard: { secrets: redact } }');
    const token = 'ghp_' + fake(ALNUM, 36, 'system-edit');
    const messages = [
      { role: 'user', content: 'start' },
      { role: 'assistant', content: 'reading' },
      { role: 'user', content: 'go on' },
    ];
    const send = async (system: string, n: number) => {
      await fetch(`${h.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': h.key, 'x-claude-code-session-id': 'system-edit' },
        body: JSON.stringify({ model: 'm', max_tokens: 5, system, messages: messages.slice(0, n) }),
      });
      return h.standin.seen.at(-1)?.body.toString('utf8') ?? '';
    };
    const clean = `token ${'x'.repeat(token.length)}`;
    assert.equal((await send(clean, 2)).includes(clean), true);
    const forwarded = await send(`token ${token}`, 3);
    assert.equal(forwarded.includes(token), false);
    assert.match(forwarded, /token \[REDACTED:github-pat:1\]/);
  });

  it('block: a 429 that names the rules, not the values, says how to recover, and sends nothing', async () => {
    const h = await setup('{ upstream: anthropic, contentLogging: redacted, guard: { secrets: block } }');
    const { secrets, env } = plantedEnv();
    const res = await fetch(`${h.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': h.key },
      body: JSON.stringify(conversation(env)),
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('x-should-retry'), 'false');
    assert.equal(res.headers.get('retry-after'), '86400');
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'rate_limit_error');
    assert.match(body.error.message, /^Sluice blocked this request: org "acme" does not allow /);
    assert.match(body.error.message, /aws-access-key-id \(3×\)/);
    assert.match(body.error.message, /run \/clear/);
    for (const s of secrets) assert.ok(!body.error.message.includes(s.value));
    assert.equal(h.standin.seen.length, 0, 'nothing reached the upstream');

    const counted = await fetch(`${h.gateway.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': h.key },
      body: JSON.stringify(conversation(env)),
    });
    assert.equal(counted.status, 429, 'count_tokens carries content upstream too');
    assert.equal(h.standin.seen.length, 0);
    const records = await h.store.queryAudit({ org: 'acme' });
    assert.deepEqual(
      records.map((r) => [r.status, r.guard.decision]),
      [
        [429, 'block'],
        [429, 'block'],
      ],
    );
    await h.store.close();
    assert.deepEqual(
      await leaked(
        h,
        secrets.map((s) => s.value),
      ),
      [],
    );
  });

  it('count_tokens is redacted like a message', async () => {
    const h = await setup('{ upstream: anthropic }');
    const { secrets, env } = plantedEnv();
    await sdk(h).messages.countTokens({ model: 'm', messages: conversation(env).messages });
    const sent = h.standin.seen[0]?.body.toString('utf8') ?? '';
    assert.equal(h.standin.seen[0]?.url, '/v1/messages/count_tokens');
    for (const s of secrets) assert.ok(!sent.includes(s.value));
  });

  it('PII: each kind has the kind action unless switched off for the org', async () => {
    const h = await setup(
      '{ upstream: anthropic, guard: { secrets: off, pii: redact, piiKinds: { email: false } } }',
    );
    const text = 'mail jane.doe@example.org or call +1 415 864 0134; token ghp_' + 'a1B2'.repeat(9);
    await sdk(h).messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: text }] });
    const sent = h.standin.seen[0]?.body.toString('utf8') ?? '';
    assert.match(sent, /jane\.doe@example\.org/, 'email is switched off');
    assert.match(sent, /call \[REDACTED:phone:1\]/);
    assert.match(sent, /token ghp_/, 'secrets: off');
    const [rec] = await h.store.queryAudit({ org: 'acme' });
    assert.deepEqual(rec?.guard, { decision: 'redact', rules: { phone: 1 } });
  });

  it("leaves values on the org's allowlist alone, in the request and in the record", async () => {
    const h = await setup(
      "{ upstream: anthropic, contentLogging: redacted, guard: { pii: redact, allow: ['*@acme-corp.io', 'ghp_a1B2*'] } }",
    );
    const token = 'ghp_' + 'a1B2'.repeat(9);
    const other = 'ghp_' + 'Zq8v'.repeat(9);
    const text = `owner jane.doe@acme-corp.io, reviewer sam.lee@fabrikam.de; tokens ${token} ${other}`;
    await sdk(h).messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: text }] });
    const sent = h.standin.seen[0]?.body.toString('utf8') ?? '';
    assert.match(sent, /owner jane\.doe@acme-corp\.io, reviewer \[REDACTED:email:1\]/);
    assert.match(sent, new RegExp(`tokens ${token} \\[REDACTED:github-pat:1\\]`));
    const [rec] = await h.store.queryAudit({ org: 'acme' });
    assert.deepEqual(rec?.guard, { decision: 'redact', rules: { email: 1, 'github-pat': 1 } });
    const stored = rec?.requestContent ?? '';
    assert.match(stored, /owner \[REDACTED:email:1\]/);
    for (const value of [token, other, 'jane.doe@acme-corp.io', 'sam.lee@fabrikam.de'])
      assert.ok(!stored.includes(value), 'the stored copy holds no detected value, allowed or not');
  });

  it('fails closed when the scan runs past its budget; fails open, logged, when the org chose that', async () => {
    const big = 'x = 1\n'.repeat(4 * 1024 * 1024);
    const closed = await setup('{ upstream: anthropic, guard: { timeoutMs: 1 } }');
    const res = await fetch(`${closed.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': closed.key },
      body: JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: big }] }),
    });
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), {
      type: 'error',
      error: {
        type: 'api_error',
        message:
          'Sluice could not inspect this request (the scan ran past its 1 ms budget), and org "acme" never forwards content it has not inspected. Try again; if it keeps failing, shorten the conversation (/compact) or ask your administrator to raise guard.timeoutMs.',
      },
    });
    assert.equal(closed.standin.seen.length, 0);
    assert.equal((await closed.store.queryAudit({}))[0]?.guard.decision, 'error');

    const open = await setup('{ upstream: anthropic, guard: { timeoutMs: 1, failOpen: true } }');
    assert.ok(
      open.logs.some((l) => l.includes('guard fails open for this org')),
      'warned at start-up',
    );
    const ok = await fetch(`${open.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': open.key },
      body: JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: big }] }),
    });
    assert.equal(ok.status, 200);
    assert.equal(open.standin.seen.length, 1);
    assert.equal((await open.store.queryAudit({}))[0]?.guard.decision, 'fail-open');
    assert.ok(open.logs.some((l) => l.includes('guard failed open')));
  });

  it('restore: placeholders the model writes back reach the client as the real values, streamed or not', async () => {
    const h = await setup('{ upstream: anthropic, restore: true }');
    const { secrets, env } = plantedEnv();
    // The model echoes the placeholders it was shown, in text and in a tool_use input.
    h.standin.respond = (request) => {
      const seen = JSON.stringify(request);
      const gh = /\[REDACTED:github-pat:\d+\]/.exec(seen)?.[0] ?? 'none';
      const pg = /\[REDACTED:postgres-connection-string:\d+\]/.exec(seen)?.[0] ?? 'none';
      return {
        content: [
          { type: 'text', text: `Your token is ${gh}; keep it safe.` },
          { type: 'tool_use', name: 'Edit', input: { new_string: `GITHUB_TOKEN=${gh}\nDB="${pg}"` } },
        ],
        deltaSize: 3,
      };
    };
    const [gh, pg] = [secrets[2]?.value ?? '', secrets[5]?.value ?? ''];
    const request = conversation(env);
    for (const stream of [true, false]) {
      const message = stream
        ? await sdk(h).messages.stream(request).finalMessage()
        : await sdk(h).messages.create(request);
      assert.deepEqual(
        message.content.map((b) => (b.type === 'text' ? b.text : b.type === 'tool_use' ? b.input : null)),
        [`Your token is ${gh}; keep it safe.`, { new_string: `GITHUB_TOKEN=${gh}\nDB="${pg}"` }],
        `stream: ${stream}`,
      );
    }
    for (const seen of h.standin.seen) assert.ok(!seen.body.toString('utf8').includes(gh));
  });
});

describe('SseRestorer', () => {
  const vault = new PlaceholderVault();
  const p1 = vault.placeholder('github-pat', 'ghp_REAL"value\\1');
  const p2 = vault.placeholder('email', 'a@b.example');
  const events = (deltas: [string, string][]) =>
    deltas
      .map(
        ([type, text], i) =>
          `event: content_block_delta\ndata: ${JSON.stringify({
            type: 'content_block_delta',
            index: type === 'text_delta' ? 0 : 1,
            delta: type === 'text_delta' ? { type, text } : { type, partial_json: text },
          })}\n\n` + (i % 2 ? 'event: ping\ndata: {"type":"ping"}\n\n' : ''),
      )
      .join('') +
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n';

  it('holds at most one bounded event: a stream without event boundaries passes unrestored, held text first', () => {
    const r = new SseRestorer(vault);
    const held = r.push(
      Buffer.from(
        events([['text_delta', `see ${p1.slice(0, 9)}`]]).split('event: content_block_stop')[0] as string,
      ),
    );
    assert.equal(held.includes('[REDACTED'), false, 'a partial placeholder is held back');
    let out = '';
    const junk = Buffer.from('x'.repeat(64 * 1024));
    for (let i = 0; i < 20; i++) out += r.push(junk); // 1.25 M characters, no blank line
    assert.ok(out.startsWith('event: content_block_delta'), 'the held-back tail is released first');
    assert.ok(out.includes('[REDACTED'), 'as it came: a partial placeholder is not a value');
    assert.ok(
      out.endsWith('\n\n' + 'x'.repeat(20 * 64 * 1024)),
      'every byte passed, after the released event',
    );
    assert.equal(r.push(Buffer.from('more')), 'more', 'and then as it comes');
  });

  /** The text and JSON the client reassembles from a stream. */
  function reassemble(stream: string): [string, string] {
    let text = '';
    let json = '';
    for (const m of stream.matchAll(/^data: (.*)$/gm)) {
      const d = JSON.parse(m[1] as string) as { delta?: { text?: string; partial_json?: string } };
      text += d.delta?.text ?? '';
      json += d.delta?.partial_json ?? '';
    }
    return [text, json];
  }

  it('restores placeholders split at every position, in text and in JSON deltas', () => {
    const text = `token ${p1} and [not a placeholder] and ${p2} and [REDACTED:unknown:9] end [`;
    const json = JSON.stringify({ v: `${p1}/${p2}` });
    for (let cut = 1; cut < text.length; cut += 1) {
      const deltas: [string, string][] = [
        ['text_delta', text.slice(0, cut)],
        ['input_json_delta', json.slice(0, cut % json.length)],
        ['text_delta', text.slice(cut)],
        ['input_json_delta', json.slice(cut % json.length)],
      ];
      const input = Buffer.from(events(deltas));
      const r = new SseRestorer(vault);
      let out = '';
      for (let at = 0; at < input.length; at += 13) out += r.push(input.subarray(at, at + 13));
      out += r.end();
      const [gotText, gotJson] = reassemble(out);
      assert.equal(
        gotText,
        `token ghp_REAL"value\\1 and [not a placeholder] and a@b.example and [REDACTED:unknown:9] end [`,
      );
      assert.deepEqual(JSON.parse(gotJson), { v: 'ghp_REAL"value\\1/a@b.example' });
    }
  });

  it('passes events with nothing to restore through byte for byte', () => {
    const input = events([
      ['text_delta', 'plain text'],
      ['input_json_delta', '{"a":1}'],
    ]);
    const r = new SseRestorer(vault);
    assert.equal(r.push(Buffer.from(input)) + r.end(), input);
  });

  it('a held-back tail stays with its own delta type when the block switches type (found by fuzzing)', () => {
    const input =
      'data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"token [RED"}}\n\n' +
      'data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\":1}"}}\n\n' +
      'data: {"type":"content_block_stop","index":1}\n\n';
    const r = new SseRestorer(vault);
    assert.deepEqual(reassemble(r.push(Buffer.from(input)) + r.end()), ['token [RED', '{"a":1}']);
  });

  it('passes events it cannot read through unchanged, whatever their data holds', () => {
    const odd = [
      'null',
      '5',
      '"content_block_delta"',
      '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}}',
      '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":["[RED"]}}',
      '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":{"a":"["}}}',
      '{"type":"content_block_stop","index":0}',
    ];
    const input = odd.map((d) => `event: x\ndata: ${d}\n\n`).join('');
    const r = new SseRestorer(vault);
    assert.equal(r.push(Buffer.from(input)) + r.end(), input);
  });

  it('holds back only what could still become a placeholder', () => {
    assert.deepEqual(holdBack('abc [RED'), ['abc ', '[RED']);
    assert.deepEqual(holdBack('abc [REDACTED:aws-key:1'), ['abc ', '[REDACTED:aws-key:1']);
    assert.deepEqual(holdBack('abc [x'), ['abc [x', '']);
    assert.deepEqual(holdBack('abc [REDACTED:aws-key:1]'), ['abc [REDACTED:aws-key:1]', '']);
  });
});

describe('restoreMessage', () => {
  it('restores placeholders in tool_use input keys as in values, and leaves thinking alone', () => {
    const vault = new PlaceholderVault();
    const p = vault.placeholder('github-pat', 'ghp_REAL');
    const body = JSON.stringify({
      content: [
        { type: 'thinking', thinking: p, signature: 'sig' },
        { type: 'text', text: `t ${p}` },
        { type: 'tool_use', id: 't', name: 'Write', input: { [p]: { [`${p}/x`]: [p] }, thinking: p } },
      ],
    });
    const out = restoreMessage(body, vault);
    assert.deepEqual(JSON.parse(out.body), {
      content: [
        { type: 'thinking', thinking: p, signature: 'sig' },
        { type: 'text', text: 't ghp_REAL' },
        {
          type: 'tool_use',
          id: 't',
          name: 'Write',
          input: { ghp_REAL: { 'ghp_REAL/x': ['ghp_REAL'] }, thinking: 'ghp_REAL' },
        },
      ],
    });
    assert.equal(out.restored, 5);
  });

  it('an answer nested too deep to walk is passed on as it came, not failed', () => {
    const vault = new PlaceholderVault();
    const p = vault.placeholder('email', 'a@b.example');
    const body = `{"content":[{"type":"tool_use","input":${'['.repeat(100_000)}"${p}"${']'.repeat(100_000)}}]}`;
    assert.deepEqual(restoreMessage(body, vault), { body, restored: 0 });
  });
});
