/**
 * Fuzz target: placeholder restore in a whole (non-streamed) answer (`restoreMessage`). An input is
 * a response body. Properties:
 * - it never throws;
 * - when it restores nothing, the body is returned as it came;
 * - when it restores, the result is the input's JSON with every placeholder the vault issued
 *   replaced by its value in text blocks' `text` and tool_use blocks' `input` (keys and strings, at
 *   any depth), and nowhere else, and the count is the number replaced.
 */
import { restoreMessage } from '../../../src/gateway/restore.js';
import { fuzzVault } from '../vault.js';

const vault = fuzzVault();

export function fuzz(data: Buffer): void {
  const body = data.toString('utf8');
  const { body: out, restored } = restoreMessage(body, vault);
  if (!restored) {
    if (out !== body) throw new Error('changed a body while restoring nothing');
    return;
  }
  const want = expected(JSON.parse(body) as unknown);
  if (want.count !== restored) throw new Error(`restored ${restored} placeholders, expected ${want.count}`);
  // Compared as text: the same walk in the same key order, and no deep-equal recursion to overflow.
  const wanted = JSON.stringify(want.message);
  if (out !== wanted) throw new Error(`restored body ${out}\nexpected ${wanted}`);
}

function expected(message: unknown): { message: unknown; count: number } {
  let count = 0;
  const text = (s: string) =>
    vault.restore(s, (v) => {
      count++;
      return v;
    });
  const deep = (v: unknown): unknown =>
    typeof v === 'string'
      ? text(v)
      : Array.isArray(v)
        ? v.map(deep)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), deep(x)]))
          : v;
  const content = (message as { content?: unknown } | null)?.content;
  if (Array.isArray(content))
    for (const block of content as (Record<string, unknown> | null)[]) {
      if (block?.type === 'text' && 'text' in block) block.text = deep(block.text);
      if (block?.type === 'tool_use' && 'input' in block) block.input = deep(block.input);
    }
  return { message, count };
}
