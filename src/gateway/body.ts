/**
 * Reads a Messages request body without building it: one pass over the bytes that checks the JSON
 * structure, reads the few top-level fields the gateway needs (`model`, `stream`, `max_tokens`,
 * `messages`), and lists the byte spans of the string literals the model reads. String contents,
 * which are nearly all of a Claude Code body, are skipped with a native byte search for the closing
 * quote; nothing is decoded but short keys. `JSON.parse` of a 500 KB body costs ~1.5 ms here; this
 * pass costs a fraction of that, and the guard decodes only literals it has not seen before.
 *
 * Which literals the model reads, by position (the same rules as the Messages API's content):
 * `system` (a string, or blocks' `text`); each message's `content` (a string, or blocks); in a
 * block: `text`, `title`, `context`, every string under `input` (tool_use), `content` (tool_result
 * and search results: a string or nested blocks), and a `source`'s `data` (unless the source is
 * base64 or a URL) or its `content` blocks. Thinking blocks (`thinking`, `signature`, `data` of
 * redacted thinking) are not content: they are the model's own signed output.
 */

import type { ScanResult } from './inspect.js';

export class BodyError extends Error {
  constructor(
    message: string,
    /** true: the bytes are not JSON; false: JSON, but not a Messages request. */
    readonly malformed: boolean,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/** A string literal of the body, quotes included: bytes [start, end). */
export interface Span {
  start: number;
  end: number;
}

export interface MessagesBody {
  model: string | null;
  stream: boolean;
  /** `max_tokens` when it is a number: the most output the request can cost. */
  maxTokens: number | null;
  /** The literals the model reads, in document order. */
  content: Span[];
  /** Top-level field types seen, for validation: `model` -> 'string', ... */
  fields: Map<string, 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array'>;
  /** Where the next request of the same conversation can pick this read up (see `readMessagesBody`). */
  resume: Resume;
  /** `content[from, to)` are the previous read's spans, taken over with the bytes they stand for. */
  reused: { from: number; to: number };
  /** The previous read they were taken from (when any were). */
  previous?: Resume;
}

/**
 * What a read leaves for the next request of the same conversation: the body, and at the start of
 * each element of `messages` the byte position and how many content spans came before it. Claude
 * Code resends the whole history each turn, so the next body usually starts with the same bytes.
 */
export interface Resume {
  body: Buffer;
  content: Span[];
  /** Pairs (position, content spans before it), one per element of `messages`, in order. */
  marks: number[];
  /** What the gateway's inspect stage found in each span, once it has run (index as `content`). */
  results?: ScanResult[];
}

/** The last body read of each conversation, least recently used dropped first, bounded by bytes held. */
export class BodyMemory {
  private readonly entries = new Map<string, Resume>();
  private held = 0;

  constructor(readonly maxBytes: number) {}

  get(conversation: string): Resume | undefined {
    return this.entries.get(conversation);
  }

  set(conversation: string, resume: Resume): void {
    const old = this.entries.get(conversation);
    if (old) {
      this.held -= old.body.length;
      this.entries.delete(conversation);
    }
    if (resume.body.length > this.maxBytes) return;
    this.entries.set(conversation, resume);
    this.held += resume.body.length;
    for (const [k, v] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(k);
      this.held -= v.body.length;
    }
  }
}

/** The length of the longest common prefix of `a` and `b` (native compares, 64 KB at a time). */
export function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  const STEP = 65536;
  let lo = 0;
  while (lo < n) {
    const hi = Math.min(n, lo + STEP);
    if (a.compare(b, lo, hi, lo, hi) !== 0) break;
    lo = hi;
  }
  let hi = Math.min(n, lo + STEP);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a.compare(b, lo, mid + 1, lo, mid + 1) === 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const enum Role {
  Skip,
  Root,
  System,
  Messages,
  Message,
  ContentValue,
  Block,
  Source,
  Any,
  Content,
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_DEPTH = 256;

/** The role of a key's value inside an object of role `parent`. */
function childRole(parent: Role, key: string): Role {
  switch (parent) {
    case Role.Root:
      return key === 'system' ? Role.System : key === 'messages' ? Role.Messages : Role.Skip;
    case Role.Message:
      return key === 'content' ? Role.ContentValue : Role.Skip;
    case Role.Block:
      if (key === 'text' || key === 'title' || key === 'context') return Role.Content;
      if (key === 'content') return Role.ContentValue;
      if (key === 'input') return Role.Any;
      if (key === 'source') return Role.Source;
      return Role.Skip;
    case Role.Source:
      // A string `data` is decided when the source closes (its `type` may come after it).
      if (key === 'content') return Role.ContentValue;
      return Role.Skip;
    case Role.Any:
      return Role.Any;
    default:
      return Role.Skip;
  }
}

/** The role of an array element inside an array of role `parent`. */
function elementRole(parent: Role): Role {
  switch (parent) {
    case Role.System:
    case Role.ContentValue:
      return Role.Block;
    case Role.Messages:
      return Role.Message;
    case Role.Any:
      return Role.Any;
    default:
      return Role.Skip;
  }
}

/** A string value in a position of this role is read by the model. */
function stringIsContent(role: Role): boolean {
  return role === Role.Content || role === Role.System || role === Role.ContentValue || role === Role.Any;
}

class Reader {
  pos = 0;
  readonly content: Span[] = [];
  readonly fields = new Map<string, 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array'>();
  model: string | null = null;
  stream = false;
  maxTokens: number | null = null;
  readonly marks: number[] = [];
  private messagesSeen = false;
  reusedFrom = 0;
  reusedTo = 0;

  constructor(
    private readonly b: Buffer,
    private readonly previous?: Resume,
  ) {}

  fail(what: string): never {
    throw new BodyError(`${what} at byte ${this.pos}`, true);
  }

  ws(): void {
    const b = this.b;
    let c = b[this.pos];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++this.pos];
  }

  /** Skips a string literal starting at `pos` (a quote); returns its span. */
  string(): Span {
    const b = this.b;
    const start = this.pos;
    let q = start;
    for (;;) {
      q = b.indexOf(QUOTE, q + 1);
      if (q < 0) {
        this.pos = b.length;
        this.fail('unterminated string');
      }
      let k = q - 1;
      while (b[k] === BACKSLASH) k--;
      if ((q - 1 - k) % 2 === 0) break;
    }
    this.pos = q + 1;
    return { start, end: q + 1 };
  }

  /** The text of a (short) string literal. */
  text(span: Span): string {
    const raw = this.b.toString('utf8', span.start, span.end);
    if (raw.indexOf('\\') < 0) return raw.slice(1, -1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      this.pos = span.start;
      return this.fail('bad escape in string');
    }
  }

  literal(word: string): void {
    for (let i = 0; i < word.length; i++)
      if (this.b[this.pos + i] !== word.charCodeAt(i)) this.fail(`unexpected character`);
    this.pos += word.length;
  }

  number(): void {
    const b = this.b;
    const start = this.pos;
    if (b[this.pos] === 0x2d) this.pos++;
    let digits = 0;
    for (let c = b[this.pos]; c !== undefined && c >= 0x30 && c <= 0x39; c = b[++this.pos]) digits++;
    if (!digits) this.fail('bad number');
    if (b[this.pos] === 0x2e) {
      this.pos++;
      let frac = 0;
      for (let c = b[this.pos]; c !== undefined && c >= 0x30 && c <= 0x39; c = b[++this.pos]) frac++;
      if (!frac) this.fail('bad number');
    }
    if (b[this.pos] === 0x65 || b[this.pos] === 0x45) {
      this.pos++;
      if (b[this.pos] === 0x2b || b[this.pos] === 0x2d) this.pos++;
      let exp = 0;
      for (let c = b[this.pos]; c !== undefined && c >= 0x30 && c <= 0x39; c = b[++this.pos]) exp++;
      if (!exp) this.fail('bad number');
    }
    if (this.pos === start) this.fail('bad number');
  }

  /** Reads one value whose position has `role`; returns its JSON type. */
  value(role: Role, depth: number): 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array' {
    this.ws();
    const c = this.b[this.pos];
    switch (c) {
      case QUOTE: {
        const span = this.string();
        if (stringIsContent(role)) this.content.push(span);
        return 'string';
      }
      case 0x7b:
        this.object(role, depth + 1);
        return 'object';
      case 0x5b:
        this.array(role, depth + 1);
        return 'array';
      case 0x74:
        this.literal('true');
        return 'boolean';
      case 0x66:
        this.literal('false');
        return 'boolean';
      case 0x6e:
        this.literal('null');
        return 'null';
      case undefined:
        return this.fail('unexpected end of input');
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
          this.number();
          return 'number';
        }
        return this.fail(`unexpected character '${String.fromCharCode(c)}'`);
    }
  }

  object(role: Role, depth: number): void {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.pos++; // {
    this.ws();
    if (this.b[this.pos] === 0x7d) {
      this.pos++;
      return;
    }
    // A source's `data` is content unless the source turns out to be base64 or a URL.
    let data: { at: number; span: Span } | null = null;
    let sourceType: string | null = null;
    for (;;) {
      this.ws();
      if (this.b[this.pos] !== QUOTE) this.fail('expected a key');
      const keySpan = this.string();
      // Keys the rules name are short; a long key cannot be one of them.
      const key = keySpan.end - keySpan.start <= 24 ? this.text(keySpan) : '';
      this.ws();
      if (this.b[this.pos] !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.ws();
      const isString = this.b[this.pos] === QUOTE;
      if (role === Role.Root && key === 'model' && isString) {
        this.model = this.text(this.string());
        this.fields.set('model', 'string');
      } else if (role === Role.Source && key === 'type' && isString) {
        sourceType = this.text(this.string());
      } else if (role === Role.Source && key === 'data' && isString) {
        data = { at: this.content.length, span: this.string() };
      } else {
        const at = this.pos;
        const first = this.b[at];
        const type = this.value(key ? childRole(role, key) : role === Role.Any ? Role.Any : Role.Skip, depth);
        if (role === Role.Root && key) {
          this.fields.set(key, type);
          if (key === 'stream') this.stream = first === 0x74;
          if (key === 'max_tokens' && type === 'number')
            this.maxTokens = Number(this.b.toString('latin1', at, this.pos));
        }
      }
      this.ws();
      const c = this.b[this.pos];
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x7d) {
        this.pos++;
        break;
      }
      this.fail("expected ',' or '}'");
    }
    if (data && sourceType !== 'base64' && sourceType !== 'url') this.content.splice(data.at, 0, data.span);
  }

  /**
   * At the first element of `messages`: when the bytes up to one of the previous read's marks are
   * the same (and so is everything read so far), take its spans and marks and continue from there.
   */
  private skipKnown(prev: Resume): void {
    const { marks } = prev;
    if (marks[0] !== this.pos || marks[1] !== this.content.length) return;
    const same = commonPrefix(this.b, prev.body);
    // The last mark within the common prefix; the element starting there is read again.
    let k = -1;
    for (let i = marks.length - 2; i > 0; i -= 2)
      if ((marks[i] as number) <= same) {
        k = i;
        break;
      }
    if (k < 0) return;
    for (let i = 0; i < k; i += 2) this.marks.push(marks[i] as number, marks[i + 1] as number);
    this.reusedFrom = this.content.length;
    for (let i = this.content.length; i < (marks[k + 1] as number); i++)
      this.content.push(prev.content[i] as Span);
    this.reusedTo = this.content.length;
    this.pos = marks[k] as number;
  }

  array(role: Role, depth: number): void {
    if (depth > MAX_DEPTH) this.fail('nesting too deep');
    this.pos++; // [
    this.ws();
    if (this.b[this.pos] === 0x5d) {
      this.pos++;
      return;
    }
    const child = elementRole(role);
    // The top-level `messages` (the first, if a body repeats the key): mark each element, and skip
    // the elements the previous body of the conversation had byte for byte.
    const marking = role === Role.Messages && !this.messagesSeen;
    if (marking) {
      this.messagesSeen = true;
      if (this.previous) this.skipKnown(this.previous);
    }
    for (;;) {
      if (marking) this.marks.push(this.pos, this.content.length);
      this.value(child, depth);
      this.ws();
      const c = this.b[this.pos];
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        return;
      }
      this.fail("expected ',' or ']'");
    }
  }
}

/**
 * Reads `body` as a Messages request. Throws `BodyError` (malformed: true) when the bytes are not
 * JSON, or (malformed: false) when the JSON is not a Messages request. With `previous` (the
 * `resume` of an earlier read, usually the conversation's last request), the elements of
 * `messages` whose bytes, and all bytes before them, are the same in both bodies are not read
 * again: the result is the same as without it, at the cost of a byte comparison.
 */
export function readMessagesBody(body: Buffer, needsGeneration: boolean, previous?: Resume): MessagesBody {
  const r = new Reader(body, previous);
  r.ws();
  if (body[r.pos] !== 0x7b) {
    if (r.pos >= body.length) r.fail('unexpected end of input');
    // Valid JSON that is not an object is not a Messages request; anything else is not JSON.
    r.value(Role.Skip, 0);
    r.ws();
    if (r.pos < body.length) r.fail('unexpected data after the value');
    throw new BodyError('expected a JSON object', false);
  }
  r.object(Role.Root, 1);
  r.ws();
  if (r.pos < body.length) r.fail('unexpected data after the value');
  const fields = r.fields;
  if (fields.get('model') !== 'string' || !r.model)
    throw new BodyError('"model" must be a non-empty string', false);
  if (fields.get('messages') !== 'array') throw new BodyError('"messages" must be an array', false);
  if (needsGeneration && fields.has('max_tokens') && fields.get('max_tokens') !== 'number')
    throw new BodyError('"max_tokens" must be a number', false);
  return {
    model: r.model,
    stream: r.stream,
    maxTokens: r.maxTokens,
    content: r.content,
    fields,
    resume: { body, content: r.content, marks: r.marks },
    reused: { from: r.reusedFrom, to: r.reusedTo },
    ...(previous && r.reusedTo > r.reusedFrom ? { previous } : {}),
  };
}
