/**
 * Fuzz target: the body reader (`readMessagesBody`), alone and resumed from a previous body.
 *
 * An input is one body, or two separated by a 0xFF byte (never in UTF-8): a conversation's previous
 * body and the next. Properties, for each body whose first byte (after whitespace) is `{`:
 * - it throws nothing but `BodyError`;
 * - when `JSON.parse` accepts the body, the reader accepts it (unless nested deeper than 256), and
 *   refuses it as "not a Messages request" exactly when the parsed request is not one; `model` and
 *   `stream` are JSON.parse's (last key wins); the listed spans are ordered string literals, and
 *   they hold every string the model reads (the reference walker over JSON.parse's output);
 * - when `JSON.parse` refuses it and the reader accepts it, the difference is inside string
 *   literals (JSON.parse accepts the body with every literal emptied): the reader checks the
 *   grammar outside literals exactly, and a literal's contents where it decodes it (see body.ts);
 * - reading the next body from the previous one's `resume` gives exactly what a fresh read gives.
 */
import {
  API_WORDS,
  BodyError,
  readMessagesBody,
  type MessagesBody,
  type Resume,
} from '../../../src/gateway/body.js';
import { isMessagesRequest, missing, modelReads } from '../../../src/gateway/testing/reference-reader.js';

const SPLIT = 0xff;
const MAX_DEPTH = 256;

export function fuzz(data: Buffer): void {
  const at = data.indexOf(SPLIT);
  const bodies = at < 0 ? [data] : [data.subarray(0, at), data.subarray(at + 1)];
  for (const body of bodies) againstJsonParse(body);
  const previous = outcome(bodies[0] as Buffer);
  if (typeof previous !== 'string') sameRead(bodies.at(-1) as Buffer, previous.resume);
}

/** The read, or the message of the BodyError it threw; anything else is thrown on. */
function outcome(body: Buffer, previous?: Resume): MessagesBody | string {
  try {
    return readMessagesBody(body, true, previous);
  } catch (err) {
    if (err instanceof BodyError) return `${err.malformed ? 'malformed' : 'not messages'}: ${err.message}`;
    throw err;
  }
}

function againstJsonParse(body: Buffer): void {
  const read = outcome(body);
  if (body.toString('latin1').trimStart()[0] !== '{') return;
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    if (typeof read === 'string' && read.startsWith('malformed')) return;
    try {
      JSON.parse(emptyLiterals(body));
    } catch {
      throw new Error(
        `the reader accepted what JSON.parse refuses outside any string literal (${typeof read === 'string' ? read : 'read as a Messages request'})`,
      );
    }
    return;
  }
  if (typeof read === 'string') {
    if (read.startsWith('malformed') && !(read.includes('nesting too deep') && depth(parsed) > MAX_DEPTH))
      throw new Error(`the reader refused JSON that JSON.parse accepts: ${read}`);
    if (read.startsWith('not messages') && isMessagesRequest(parsed))
      throw new Error(`the reader refused a Messages request: ${read}`);
    return;
  }
  if (!isMessagesRequest(parsed)) throw new Error('the reader accepted what is not a Messages request');
  if (read.model !== parsed.model || read.stream !== (parsed.stream === true))
    throw new Error(
      `model/stream ${read.model}/${read.stream}, JSON.parse: ${String(parsed.model)}/${String(parsed.stream)}`,
    );
  let end = 0;
  const got = read.content.map(({ start, end: stop }) => {
    if (start < end || body[start] !== 0x22 || body[stop - 1] !== 0x22 || stop - start < 2)
      throw new Error(`span [${start}, ${stop}) is not a string literal after ${end}`);
    end = stop;
    return JSON.parse(body.toString('utf8', start, stop)) as string;
  });
  const words = (xs: string[]) => xs.filter((x) => !API_WORDS.has(x));
  const unlisted = missing(words(got), words(modelReads(parsed)));
  if (unlisted.length)
    throw new Error(`the model reads strings the reader did not list: ${JSON.stringify(unlisted)}`);
}

/** The body with every string literal's contents removed (an unterminated one stays unterminated). */
function emptyLiterals(b: Buffer): string {
  let out = '';
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0x22) {
      out += String.fromCharCode(b[i] as number);
      continue;
    }
    let j = i + 1;
    while (j < b.length && b[j] !== 0x22) j += b[j] === 0x5c ? 2 : 1;
    out += j < b.length ? '""' : '"';
    i = j;
  }
  return out;
}

/** The nesting depth of a parsed value (the root object is 1), without recursion. */
function depth(v: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [x, d] = stack.pop() as [unknown, number];
    if (x === null || typeof x !== 'object') continue;
    max = Math.max(max, d);
    for (const y of Object.values(x)) stack.push([y, d + 1]);
  }
  return max;
}

function sameRead(body: Buffer, previous: Resume): void {
  const fresh = outcome(body);
  const resumed = outcome(body, previous);
  const view = (r: MessagesBody | string) =>
    typeof r === 'string'
      ? r
      : JSON.stringify([
          r.model,
          r.stream,
          [...r.fields],
          r.content,
          r.maxTokens,
          r.resume.marks,
          r.reused.to <= r.content.length,
          (r.reusedTail?.to ?? 0) <= r.content.length,
        ]);
  if (view(fresh) !== view(resumed))
    throw new Error(
      `resumed read differs from a fresh one:\n fresh   ${view(fresh)}\n resumed ${view(resumed)}`,
    );
}
