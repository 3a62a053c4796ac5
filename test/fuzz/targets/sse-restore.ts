/**
 * Fuzz target: placeholder restore in streamed answers (`SseRestorer`). An input is the bytes of a
 * stream. Properties:
 * - it never throws;
 * - its output is the same whatever the chunking (a placeholder split anywhere is restored alike);
 * - a stream without `[` passes through as it came;
 * - for each content block ended by its `content_block_stop`, the text (and the partial JSON) a
 *   client reassembles from the output is the input's with every placeholder the vault issued
 *   replaced by its value (JSON-escaped inside partial JSON); a placeholder is whole within the
 *   deltas between two stops of its index (a valid stream has one such run per block).
 */
import { StringDecoder } from 'node:string_decoder';
import { SseRestorer } from '../../../src/gateway/restore.js';
import { chunkings } from '../chunkings.js';
import { fuzzVault } from '../vault.js';

const vault = fuzzVault();

function restoreIn(chunks: Buffer[]): string {
  const restorer = new SseRestorer(vault);
  let out = '';
  for (const chunk of chunks) out += restorer.push(chunk);
  return out + restorer.end();
}

export function fuzz(data: Buffer): void {
  const whole = restoreIn([data]);
  for (const chunks of chunkings(data)) {
    const out = restoreIn(chunks);
    if (out !== whole) throw new Error(`in ${chunks.length} chunks:\n${out}\nwhole:\n${whole}`);
  }
  const decoder = new StringDecoder('utf8');
  const text = decoder.write(data) + decoder.end();
  if (!text.includes('[') && whole !== text) throw new Error('a stream with nothing to restore was changed');
  const before = blocks(text);
  const after = blocks(whole);
  if (!before || !after) return;
  for (const [key, { segments, closed }] of before) {
    if (!closed) continue;
    const restore = (t: string) =>
      key.endsWith('json') ? vault.restore(t, (v) => JSON.stringify(v).slice(1, -1)) : vault.restore(t);
    const want = segments.map(restore).join('');
    const got = after.get(key)?.segments.join('') ?? '';
    if (got !== want)
      throw new Error(`block ${key}: reassembled ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
  }
}

/**
 * What a client reassembles, per block index and delta kind: the deltas' text, in segments ended by
 * the index's content_block_stop or a delta of the other kind (a placeholder is restored within a
 * segment), and whether the last segment was ended. Null when an event has an index that is not a number or a delta whose text is
 * not a string (no client reading to compare with).
 */
function blocks(stream: string): Map<string, { segments: string[]; closed: boolean }> | null {
  const out = new Map<string, { segments: string[]; closed: boolean }>();
  const events = stream.split('\n\n');
  events.pop();
  for (const raw of events) {
    const at = raw.indexOf('data: ');
    if (at < 0) continue;
    const end = raw.indexOf('\n', at);
    let data: {
      type?: unknown;
      index?: unknown;
      delta?: { type?: unknown; text?: unknown; partial_json?: unknown };
    };
    try {
      data = JSON.parse(raw.slice(at + 6, end < 0 ? undefined : end)) as typeof data;
    } catch {
      continue;
    }
    if (!data || typeof data !== 'object') continue;
    if (data.index !== undefined && typeof data.index !== 'number') return null;
    const index = data.index ?? 0;
    if (data.type === 'content_block_stop') {
      for (const kind of ['text', 'json']) {
        const block = out.get(`${index}/${kind}`);
        if (block) block.closed = true;
      }
      continue;
    }
    const delta = data.delta;
    if (data.type !== 'content_block_delta' || !delta || typeof delta !== 'object') continue;
    const kind = delta.type === 'text_delta' ? 'text' : delta.type === 'input_json_delta' ? 'json' : null;
    if (!kind) continue;
    const piece = kind === 'text' ? delta.text : delta.partial_json;
    if (piece !== undefined && typeof piece !== 'string') return null;
    // A delta of the other kind ends that kind's run too (the restorer releases its tail).
    const other = out.get(`${index}/${kind === 'text' ? 'json' : 'text'}`);
    if (other) other.closed = true;
    const block = out.get(`${index}/${kind}`) ?? { segments: [], closed: true };
    if (block.closed) block.segments.push('');
    block.segments[block.segments.length - 1] += piece ?? '';
    block.closed = false;
    out.set(`${index}/${kind}`, block);
  }
  return out;
}
