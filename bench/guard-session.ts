/**
 * The guard's cost per request over a long Claude Code session. Each turn resends the whole
 * history (system prompt, every earlier message and tool result) plus one new 5–20 KB tool result;
 * with the content cache only the new blocks are scanned, so the cost stays flat, while scanning
 * everything grows with the history.
 *
 * The last column is the gateway's own work on the same session as Messages request bodies: reading
 * the body (structure check and the spans of the strings the model reads, no JSON.parse; from where
 * the previous body's identical bytes end, as the gateway does per conversation), the scan of those
 * strings (results of unchanged spans reused, new ones through the content cache), and (every turn
 * after the third, whose tool result holds a secret) redaction spliced into the raw body.
 *
 * Run: node --import tsx bench/guard-session.ts [turns]
 */
import { parseConfig } from '../src/control/config.js';
import { readMessagesBody } from '../src/gateway/body.js';
import { inspect, priorOf } from '../src/gateway/inspect.js';
import { ScanCache, scanSegments } from '../src/guard/cache.js';
import { prng, sourceText } from './guard/source-text.js';

const turns = Number(process.argv[2] ?? 200);
const REPORT = new Set([2, 50, 100, 200, turns]);
const rand = prng(11);

const system = 'You are Claude Code, an interactive CLI tool. '.repeat(60);
const history: string[] = [system];
const requests: string[][] = [];
for (let turn = 1; turn <= turns; turn++) {
  const size = 5_000 + Math.floor(rand() * 15_000);
  history.push(`Please look at the next file (turn ${turn}).`);
  history.push(`[tool_use Read {"file_path":"src/module${turn}.ts"}]`);
  history.push(sourceText(size, 1000 + turn));
  history.push(`I read module ${turn}; it exports ${Math.floor(rand() * 9) + 1} functions.`);
  requests.push([...history]);
}

const org = parseConfig(
  'upstreams: { a: { provider: anthropic, baseUrl: "http://127.0.0.1:1", apiKey: k } }\norgs: { acme: { upstream: a } }',
  'bench.yaml',
  {},
).orgs.acme!;
const secret = 'ghp_' + 'Zq8vN2xLm4Rt7Yp1Kc9Wd3Hs6Bj0Fg5Ae2Ux'.slice(0, 36);
/** The same session as Messages bodies (Claude Code's shape: tool_use then tool_result). */
const bodies: Buffer[] = [];
{
  const messages: unknown[] = [];
  let h = 1;
  for (let turn = 1; turn <= turns; turn++) {
    const [ask, use, result, answer] = history.slice(h, h + 4) as string[];
    h += 4;
    messages.push(
      { role: 'user', content: [{ type: 'text', text: ask }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: `t${turn}`, name: 'Read', input: { use } }] },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: `t${turn}`,
            content: turn === 3 ? `${result}\nTOKEN=${secret}` : result,
          },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: answer }] },
    );
    bodies.push(
      Buffer.from(
        JSON.stringify({ model: 'claude-test', max_tokens: 32000, system, messages, stream: true }),
      ),
    );
  }
}

/** The gateway's inspect stage over the session with one shared cache: per reported turn, ms. */
function gatewaySession(): Map<number, number> {
  const cache = new ScanCache();
  const times = new Map<number, number>();
  // As the gateway does: each read starts from the conversation's previous body.
  let previous: ReturnType<typeof readMessagesBody>['resume'] | undefined;
  for (let turn = 1; turn <= turns; turn++) {
    const body = bodies[turn - 1] as Buffer;
    const t0 = performance.now();
    const parsed = readMessagesBody(body, true, previous);
    const result = inspect(body, parsed.content, org, cache, Date.now() + 10_000, priorOf(parsed));
    parsed.resume.results = result.results;
    previous = parsed.resume;
    if (turn > 3 && result.forwarded === body) throw new Error('expected a redaction');
    if (REPORT.has(turn)) times.set(turn, performance.now() - t0);
  }
  return times;
}

/** One pass over the whole session with a fresh cache: per reported turn, the ms that request took. */
function session(withCache: boolean): Map<number, number> {
  const cache = new ScanCache();
  const times = new Map<number, number>();
  for (let turn = 1; turn <= turns; turn++) {
    const segments = requests[turn - 1] as string[];
    const t0 = performance.now();
    scanSegments(segments, {}, withCache ? cache : undefined);
    if (REPORT.has(turn)) times.set(turn, performance.now() - t0);
  }
  return times;
}

const RUNS = 5;
const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const runs = (withCache: boolean): Map<number, number>[] =>
  Array.from({ length: RUNS }, () => session(withCache));
session(true); // warm up the JIT
const cached = runs(true);
const uncached = runs(false);
gatewaySession();
const stage = Array.from({ length: RUNS }, gatewaySession);

console.log(`${turns}-turn session; each request resends the history plus a new 5-20 KB tool result`);
console.log(`median of ${RUNS} sessions, each with a fresh cache\n`);
console.log('turn  request KB   no cache ms   with cache ms   gateway stage ms');
for (const turn of [...REPORT].filter((t) => t <= turns).sort((a, b) => a - b)) {
  const kb = (requests[turn - 1] as string[]).reduce((n, s) => n + s.length, 0) / 1024;
  const cold = median(uncached.map((m) => m.get(turn) as number));
  const warm = median(cached.map((m) => m.get(turn) as number));
  const gw = median(stage.map((m) => m.get(turn) as number));
  console.log(
    `${String(turn).padStart(4)}  ${kb.toFixed(0).padStart(10)}  ${cold.toFixed(2).padStart(12)}  ${warm.toFixed(2).padStart(14)}  ${gw.toFixed(2).padStart(17)}`,
  );
}
