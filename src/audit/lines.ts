/** Reading JSONL files line by line without holding them whole, keeping line endings exact. */
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export interface Line {
  /** 1-based. */
  number: number;
  /** The line without its `\n` (a `\r` before it stays, so rewriting is byte-exact). */
  text: string;
  /** False only for a last line with no newline after it. */
  newline: boolean;
}

/** Yields the lines of `file` as they stream in. */
export async function* readLines(file: string): AsyncGenerator<Line> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let number = 0;
  for await (const chunk of createReadStream(file)) {
    pending += decoder.write(chunk as Buffer);
    let start = 0;
    let nl: number;
    while ((nl = pending.indexOf('\n', start)) !== -1) {
      yield { number: ++number, text: pending.slice(start, nl), newline: true };
      start = nl + 1;
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending.length) yield { number: number + 1, text: pending, newline: false };
}
