/**
 * The gateway's own work on a Claude Code request body, read and inspect apart: a session whose
 * bodies are laid out as Claude Code sends them (`model`, `messages`, then `system`, 12 `tools` of
 * a few KB each, `metadata`, `max_tokens`, `thinking`, `stream`), each assistant turn a signed
 * thinking block and a Read call, each user turn its tool result (5-20 KB of generated source, no
 * secrets). Per reported turn: the request's size, the string literals listed for the guard, how
 * many of them were not taken over from the previous body, and the milliseconds of
 * `readMessagesBody` (resumed from the previous body, as the gateway does per conversation) and of
 * `inspect` (one shared content cache, as in the gateway). Then a single 500 KB body read and
 * inspected cold (no previous body, an empty cache).
 *
 * Run: node --import tsx bench/gateway/body-read.ts [turns]
 */
import { parseConfig } from '../../src/control/config.js';
import { readMessagesBody, type Resume } from '../../src/gateway/body.js';
import { inspect, priorOf } from '../../src/gateway/inspect.js';
import { ScanCache } from '../../src/guard/cache.js';
import { prng, sourceText } from '../guard/source-text.js';

const turns = Number(process.argv[2] ?? 200);
const REPORT = [2, 50, 100, 200].filter((t) => t <= turns);
const RUNS = 5;
const rand = prng(17);

const org = parseConfig(
  'upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\norgs: { acme: { upstream: a } }',
  'bench.yaml',
  {},
).orgs.acme!;

const PROSE = sourceText(60_000, 7)
  .split('\n')
  .filter((l) => l.includes('//'))
  .map((l) => l.replace(/^.*\/\/\s*/, ''));
const prose = (lines: number, at: number): string =>
  Array.from({ length: lines }, (_, i) => PROSE[(at + i) % PROSE.length]).join('\n');

const TOOLS = [
  'Task',
  'Bash',
  'Glob',
  'Grep',
  'Read',
  'Edit',
  'Write',
  'NotebookEdit',
  'WebFetch',
  'TodoWrite',
  'WebSearch',
  'BashOutput',
].map((name, i) => ({
  name,
  description: prose(40 + 10 * i, 50 * i),
  input_schema: {
    type: 'object',
    properties: {
      file_path: { type: 'string', description: 'The absolute path to the file to operate on' },
      pattern: { type: 'string', description: 'The regular expression pattern to search for' },
      limit: { type: 'number', description: 'The number of lines to read' },
      mode: { type: 'string', enum: ['content', 'files_with_matches', 'count'] },
    },
    required: ['file_path'],
    additionalProperties: false,
    $schema: 'http://json-schema.org/draft-07/schema#',
  },
}));
const SYSTEM = [
  {
    type: 'text',
    text: 'x-anthropic-billing-header: cc_version=2.1.330.a1b; cc_entrypoint=cli; cc_gateway=1;',
  },
  { type: 'text', text: prose(120, 999), cache_control: { type: 'ephemeral' } },
];
const METADATA = {
  user_id: JSON.stringify({
    device_id: 'a3f1c9e0b7d24e6f8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071',
    account_uuid: '',
    session_id: '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f',
  }),
};

function session(): Buffer[] {
  const messages: unknown[] = [];
  const bodies: Buffer[] = [];
  for (let turn = 1; turn <= turns; turn++) {
    const id = `toolu_01${String(turn).padStart(6, '0')}Ab9Xq`;
    messages.push(
      { role: 'user', content: [{ type: 'text', text: `Please look at src/module${turn}.ts next.` }] },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: prose(6, turn), signature: 'Eq' + 'AbCd'.repeat(60) + String(turn) },
          { type: 'tool_use', id, name: 'Read', input: { file_path: `/repo/src/module${turn}.ts` } },
        ],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: id,
            content: sourceText(5_000 + Math.floor(rand() * 15_000), 1000 + turn),
          },
        ],
      },
    );
    bodies.push(
      Buffer.from(
        JSON.stringify({
          model: 'claude-sonnet-4-6',
          messages,
          system: SYSTEM,
          tools: TOOLS,
          metadata: METADATA,
          max_tokens: 32000,
          thinking: { type: 'adaptive' },
          stream: true,
        }),
      ),
    );
  }
  return bodies;
}

interface Turn {
  kb: number;
  spans: number;
  fresh: number;
  read: number;
  inspect: number;
}

function run(bodies: Buffer[]): Map<number, Turn> {
  const cache = new ScanCache();
  const out = new Map<number, Turn>();
  let previous: Resume | undefined;
  bodies.forEach((body, i) => {
    const t0 = performance.now();
    const parsed = readMessagesBody(body, true, previous);
    const t1 = performance.now();
    const result = inspect(body, parsed.content, org, cache, Date.now() + 10_000, priorOf(parsed));
    const t2 = performance.now();
    if (result.decision !== 'none') throw new Error(`expected nothing found, got ${result.decision}`);
    parsed.resume.results = result.results;
    previous = parsed.resume;
    const spans = parsed.content.length;
    const tail = parsed.reusedTail ? parsed.reusedTail.to - parsed.reusedTail.from : 0;
    const fresh = spans - (parsed.reused.to - parsed.reused.from) - tail;
    out.set(i + 1, { kb: body.length / 1024, spans, fresh, read: t1 - t0, inspect: t2 - t1 });
  });
  return out;
}

const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const bodies = session();
run(bodies); // warm up the JIT
const runs = Array.from({ length: RUNS }, () => run(bodies));
console.log(`${turns}-turn Claude Code-shaped session (12 tools, thinking blocks); median of ${RUNS} runs\n`);
console.log('turn  request KB   spans   not reused   read ms   inspect ms');
for (const turn of REPORT) {
  const t = runs[0]?.get(turn) as Turn;
  const read = median(runs.map((r) => (r.get(turn) as Turn).read));
  const insp = median(runs.map((r) => (r.get(turn) as Turn).inspect));
  console.log(
    `${String(turn).padStart(4)}  ${t.kb.toFixed(0).padStart(10)}  ${String(t.spans).padStart(6)}  ${String(t.fresh).padStart(11)}  ${read.toFixed(3).padStart(8)}  ${insp.toFixed(3).padStart(11)}`,
  );
}

// One body of about 500 KB, read and inspected with nothing known.
const cold = bodies.find((b) => b.length >= 500 * 1024) ?? (bodies.at(-1) as Buffer);
const coldTimes = Array.from({ length: RUNS }, () => {
  const t0 = performance.now();
  const parsed = readMessagesBody(cold, true);
  const t1 = performance.now();
  inspect(cold, parsed.content, org, new ScanCache(), Date.now() + 10_000);
  return [t1 - t0, performance.now() - t1, parsed.content.length] as const;
});
const parseTimes = Array.from({ length: RUNS }, () => {
  const t0 = performance.now();
  JSON.parse(cold.toString('utf8'));
  return performance.now() - t0;
});
console.log(
  `\ncold ${(cold.length / 1024).toFixed(0)} KB body: read ${median(coldTimes.map((t) => t[0])).toFixed(3)} ms, ` +
    `inspect ${median(coldTimes.map((t) => t[1])).toFixed(2)} ms (${coldTimes[0]?.[2]} spans); ` +
    `JSON.parse of the same body ${median(parseTimes).toFixed(3)} ms`,
);
