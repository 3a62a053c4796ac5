/**
 * Reads a Messages request body without building it: one pass over the bytes that checks the JSON
 * structure, reads the few top-level fields the gateway needs (`model`, `stream`, `max_tokens`,
 * `messages`), and lists the byte spans of the string literals the guard must scan. String
 * contents, which are nearly all of a Claude Code body, are skipped with a native byte search for
 * the closing quote; nothing is decoded but the keys of the request's own objects (and a block's
 * `type`). `JSON.parse` of a 500 KB body costs ~1.5 ms here; this pass costs a fraction of that,
 * and the guard decodes only literals it has not seen before.
 *
 * Which literals are listed: every one, keys included, wherever it is (tools, schemas, metadata,
 * unknown fields), except the few the model does not read as text or that must reach the upstream
 * unchanged (`NOT_SCANNED` below), and the API's own words (`API_WORDS`), which hold nothing to
 * find. Keys are compared after decoding, and where a decision rests on a sibling (a thinking
 * block, a base64 source), the object's last `type` decides, as the upstream's parser (last key
 * wins, like `JSON.parse`) will see it.
 */

import type { Detection } from '../guard/types.js';

/**
 * What the guard's scan found in one span; `text` is its decoded text where something was found.
 * Never changed once made, so one result serves every later request that reuses the span.
 */
export interface ScanResult {
  readonly text: string;
  readonly detections: readonly Detection[];
}

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

export type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array';

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
  /** The literals the guard scans (keys and values), in document order. */
  content: Span[];
  /** Top-level field types seen, for validation: `model` -> 'string', ... */
  fields: Map<string, JsonType>;
  /** Where the next request of the same conversation can pick this read up (see `readMessagesBody`). */
  resume: Resume;
  /** `content[from, to)` are the previous read's spans, taken over with the bytes they stand for. */
  reused: { from: number; to: number };
  /**
   * `content[from, to)` are the previous read's spans from `previousFrom` on, moved with the bytes
   * after `messages` that both bodies end with.
   */
  reusedTail?: { from: number; to: number; previousFrom: number };
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
  /** What follows the top-level `messages` array, for a next body that ends the same way. */
  tail?: Tail;
}

/**
 * The rest of a body after its top-level `messages` array (Claude Code sends `system` and `tools`,
 * ~40 KB the same every turn, after it): where it starts, its first content span's index, and what
 * reading it set.
 */
export interface Tail {
  at: number;
  content: number;
  /** Top-level fields set in it, in order. */
  fields: [string, JsonType][];
  model?: string;
  stream?: boolean;
  maxTokens?: number;
}

/**
 * What an entry costs beyond its body, spans and marks: the map slot, key, resume object and the
 * inspect stage's results array, and a small body's own ArrayBuffer (measured ~2.5 KB in all with a
 * 100-byte body).
 */
const ENTRY_OVERHEAD = 2304;
/** A content span's object and its scan result's. */
const SPAN_BYTES = 96;

/**
 * What a resume holds in memory: its body twice (the bytes, and the decoded texts the inspect stage
 * keeps in `results`), its spans and marks, and the entry around them.
 */
function costOf(r: Resume): number {
  return ENTRY_OVERHEAD + 2 * r.body.length + r.content.length * SPAN_BYTES + r.marks.length * 8;
}

/** The last body read of each conversation, least recently used dropped first, bounded by bytes held. */
export class BodyMemory {
  private readonly entries = new Map<string, { resume: Resume; bytes: number }>();
  private held = 0;

  constructor(readonly maxBytes: number) {}

  /** Estimated bytes the entries hold. */
  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  get(conversation: string): Resume | undefined {
    return this.entries.get(conversation)?.resume;
  }

  set(conversation: string, resume: Resume): void {
    const old = this.entries.get(conversation);
    if (old) {
      this.held -= old.bytes;
      this.entries.delete(conversation);
    }
    const bytes = costOf(resume);
    if (bytes > this.maxBytes) return;
    // A small body is a slice of Node's shared 8 KB buffer pool: kept as it is, it would keep the
    // whole slab (and all else cut from it) alive. It gets memory of its own.
    if (resume.body.byteLength < resume.body.buffer.byteLength) {
      const own = Buffer.allocUnsafeSlow(resume.body.length);
      resume.body.copy(own);
      resume.body = own;
    }
    this.entries.set(conversation, { resume, bytes });
    this.held += bytes;
    for (const [k, v] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(k);
      this.held -= v.bytes;
    }
  }
}

/**
 * The length of the longest common prefix of `a` and `b`: native compares of 64 KB blocks, then
 * within the first block that differs, of ever smaller blocks (4 KB, 256 bytes, 16), then bytes, so
 * the bytes compared are about the prefix's length (a bisection compared up to twice a block more).
 */
export function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let lo = 0;
  for (const step of [65536, 4096, 256, 16]) {
    for (let hi = Math.min(n, lo + step); lo < n; hi = Math.min(n, lo + step)) {
      if (a.compare(b, lo, hi, lo, hi) !== 0) break;
      lo = hi;
    }
    if (lo === n) return n;
  }
  while (lo < n && a[lo] === b[lo]) lo++;
  return lo;
}

/**
 * The Messages API's own words (field names, enum values, media types) and JSON Schema's (tools'
 * input schemas), which make up most keys of a request: a literal that is exactly one of them
 * holds nothing the guard could find (body.test.ts scans each with every rule), so it is not listed
 * and costs no cache lookup. Any other spelling of the same text (escaped) is listed as usual.
 */
export const API_WORDS: ReadonlySet<string> = new Set(
  [
    // The request and its messages.
    'model messages system max_tokens metadata user_id stop_sequences stream temperature top_k top_p',
    'tools tool_choice thinking budget_tokens context_management output_config effort service_tier',
    'role content user assistant',
    // Blocks, sources, citations.
    'type text image document source media_type data url base64 file file_id title context',
    'tool_use tool_result tool_use_id id name input is_error cache_control ephemeral ttl 5m 1h',
    'citations cited_text enabled disabled adaptive auto any tool none low medium high signature',
    'redacted_thinking server_tool_use web_search_tool_result web_search_result encrypted_content',
    'page_age search_result char_location page_location content_block_location encrypted_index',
    'document_index document_title start_char_index end_char_index start_page_number end_page_number',
    'start_block_index end_block_index disable_parallel_tool_use',
    'image/jpeg image/png image/gif image/webp application/pdf text/plain',
    // Tool definitions and their JSON Schemas.
    'description input_schema $schema http://json-schema.org/draft-07/schema# properties required',
    'items enum const default additionalProperties anyOf oneOf allOf not minimum maximum',
    'exclusiveMinimum exclusiveMaximum minLength maxLength minItems maxItems uniqueItems pattern format',
    'object string number integer boolean array null uri',
  ]
    .join(' ')
    .split(' '),
);
/** The longest of `API_WORDS`, in bytes: longer literals are not looked up. */
const LONGEST_WORD = Math.max(...[...API_WORDS].map((w) => w.length));

/** Where a value is in the request, as far as the reader needs to know. */
const enum Role {
  /** Anywhere the reader has no rule for: every key and string is listed. */
  Any,
  Root,
  Messages,
  Message,
  /** `system`, a message's `content`, a block's `content` or `citations`: a string, or blocks. */
  Blocks,
  Block,
  Source,
}

/**
 * String values that are not scanned, by the object they are in: always (`true`), or only when the
 * object's last `type` is the one named. Why each (docs/fuzzing.md, "What the guard scans"):
 * `model` routes the request; `id`/`tool_use_id` pair a tool call with its result and the API
 * checks their form; `encrypted_*`, thinking and signatures are the API's or the model's own
 * output, opaque or signed, and must come back unchanged; a base64 source is a file's bytes.
 */
const NOT_SCANNED = new Map<Role, Map<string, true | string>>([
  [Role.Root, new Map([['model', true]])],
  [
    Role.Block,
    new Map<string, true | string>([
      ['id', true],
      ['tool_use_id', true],
      ['encrypted_content', true],
      ['encrypted_index', true],
      ['thinking', 'thinking'],
      ['signature', 'thinking'],
      ['data', 'redacted_thinking'],
    ]),
  ],
  [Role.Source, new Map([['data', 'base64']])],
]);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_DEPTH = 256;

/** The role of a key's value inside an object of role `parent`. */
function childRole(parent: Role, key: string): Role {
  switch (parent) {
    case Role.Root:
      return key === 'messages' ? Role.Messages : key === 'system' ? Role.Blocks : Role.Any;
    case Role.Message:
      return key === 'content' ? Role.Blocks : Role.Any;
    case Role.Block:
      if (key === 'content' || key === 'citations') return Role.Blocks;
      return key === 'source' ? Role.Source : Role.Any;
    case Role.Source:
      return key === 'content' ? Role.Blocks : Role.Any;
    default:
      return Role.Any;
  }
}

/** The role of an array element inside an array of role `parent`. */
function elementRole(parent: Role): Role {
  return parent === Role.Messages ? Role.Message : parent === Role.Blocks ? Role.Block : Role.Any;
}

/** Objects whose keys the reader decodes: the request's own, where a key can change what is scanned. */
function decodesKeys(role: Role): boolean {
  return role === Role.Root || role === Role.Message || role === Role.Block || role === Role.Source;
}

/** A string value whose listing waits for its object's last `type`. */
interface Deferred {
  at: number;
  span: Span;
  skipIf: string;
}

class Reader {
  pos = 0;
  readonly content: Span[] = [];
  readonly fields = new Map<string, JsonType>();
  model: string | null = null;
  stream = false;
  maxTokens: number | null = null;
  readonly marks: number[] = [];
  private messagesSeen = false;
  reusedFrom = 0;
  reusedTo = 0;
  /** What follows the top-level `messages` array, once it has been read past. */
  tail: Tail | undefined;
  reusedTail: MessagesBody['reusedTail'];

  constructor(
    private readonly b: Buffer,
    private readonly previous?: Resume,
  ) {}

  /** Lists a literal for the guard, unless its bytes are exactly one of the API's words. */
  list(span: Span): void {
    const n = span.end - span.start - 2;
    if (n <= LONGEST_WORD && API_WORDS.has(this.b.toString('latin1', span.start + 1, span.end - 1))) return;
    this.content.push(span);
  }

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

  /** The decoded text of a string literal. */
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
    const leadingZero = b[this.pos] === 0x30;
    let digits = 0;
    for (let c = b[this.pos]; c !== undefined && c >= 0x30 && c <= 0x39; c = b[++this.pos]) digits++;
    if (!digits) this.fail('bad number');
    // JSON has no leading zeros (`01`): JSON.parse, and so the upstream, refuses them.
    if (leadingZero && digits > 1) {
      this.pos = start;
      this.fail('bad number (leading zero)');
    }
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
  value(role: Role, depth: number): JsonType {
    this.ws();
    const c = this.b[this.pos];
    switch (c) {
      case QUOTE:
        this.list(this.string());
        return 'string';
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
    const decoding = decodesKeys(role);
    const skips = NOT_SCANNED.get(role);
    // The object's last `type` (null when it is not a string), and what waits for it.
    let type: string | null = null;
    let deferred: Deferred[] | null = null;
    for (;;) {
      this.ws();
      if (this.b[this.pos] !== QUOTE) this.fail('expected a key');
      const keySpan = this.string();
      const key = decoding ? this.text(keySpan) : null;
      if (key === null || !API_WORDS.has(key)) this.list(keySpan);
      this.ws();
      if (this.b[this.pos] !== 0x3a) this.fail("expected ':'");
      this.pos++;
      this.ws();
      const skip = key === null ? undefined : skips?.get(key);
      if (skip !== undefined && this.b[this.pos] === QUOTE) {
        const span = this.string();
        if (role === Role.Root) this.rootField('model', 'string', this.text(span));
        else if (skip !== true) (deferred ??= []).push({ at: this.content.length, span, skipIf: skip });
      } else if (key === 'type' && (role === Role.Block || role === Role.Source)) {
        if (this.b[this.pos] === QUOTE) {
          const span = this.string();
          type = this.text(span);
          if (!API_WORDS.has(type)) this.content.push(span);
        } else {
          this.value(Role.Any, depth);
          type = null;
        }
      } else {
        const at = this.pos;
        const first = this.b[at];
        const jsonType = this.value(key === null ? Role.Any : childRole(role, key), depth);
        if (role === Role.Root && key !== null) {
          const value =
            key === 'stream'
              ? first === 0x74
              : key === 'max_tokens' && jsonType === 'number'
                ? Number(this.b.toString('latin1', at, this.pos))
                : undefined;
          this.rootField(key, jsonType, value);
          // Past the top-level `messages` whose elements were marked (the first that is not
          // empty): the rest holds no marks, and may be the previous body's rest, moved.
          if (key === 'messages' && this.messagesSeen && !this.tail) {
            this.tail = { at: this.pos, content: this.content.length, fields: [] };
            if (this.skipTail()) return;
          }
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
    // Latest first, so each insertion leaves the earlier positions as they were.
    if (deferred)
      for (let i = deferred.length - 1; i >= 0; i--) {
        const d = deferred[i] as Deferred;
        if (type !== d.skipIf) this.content.splice(d.at, 0, d.span);
      }
  }

  /** A top-level field read: its type, and `model`, `stream` or `max_tokens` its value. */
  private rootField(key: string, type: JsonType, value?: string | boolean | number): void {
    this.fields.set(key, type);
    this.tail?.fields.push([key, type]);
    const tail: Partial<Tail> = this.tail ?? {};
    if (key === 'model' && typeof value === 'string') this.model = tail.model = value;
    else if (key === 'stream' && typeof value === 'boolean') this.stream = tail.stream = value;
    else if (key === 'max_tokens' && typeof value === 'number') this.maxTokens = tail.maxTokens = value;
  }

  /**
   * Just past the top-level `messages`: when every byte from here to the end is the previous
   * body's from its own such point, take that tail's spans (moved by the difference) and what it
   * set, and end the read; the result is the one reading it would give.
   */
  private skipTail(): boolean {
    const prev = this.previous;
    const t = prev?.tail;
    if (!prev || !t) return false;
    const b = this.b;
    if (prev.body.length - t.at !== b.length - this.pos) return false;
    if (b.compare(prev.body, t.at, prev.body.length, this.pos, b.length) !== 0) return false;
    const shift = this.pos - t.at;
    const from = this.content.length;
    for (let i = t.content; i < prev.content.length; i++) {
      const span = prev.content[i] as Span;
      this.content.push({ start: span.start + shift, end: span.end + shift });
    }
    this.reusedTail = { from, to: this.content.length, previousFrom: t.content };
    for (const [key, type] of t.fields) this.fields.set(key, type);
    if (t.model !== undefined) this.model = t.model;
    if (t.stream !== undefined) this.stream = t.stream;
    if (t.maxTokens !== undefined) this.maxTokens = t.maxTokens;
    this.tail = { ...t, at: this.pos, content: from };
    this.pos = b.length;
    return true;
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
    // Every byte before here is the previous body's too, so the spans read so far (system, tools)
    // are its spans, one for one (marks[1] checked their count): their results are reusable as well.
    this.reusedFrom = 0;
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
    r.value(Role.Any, 0);
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
  const tailSpans = r.reusedTail !== undefined && r.reusedTail.to > r.reusedTail.from;
  return {
    model: r.model,
    stream: r.stream,
    maxTokens: r.maxTokens,
    content: r.content,
    fields,
    resume: { body, content: r.content, marks: r.marks, ...(r.tail ? { tail: r.tail } : {}) },
    reused: { from: r.reusedFrom, to: r.reusedTo },
    ...(tailSpans ? { reusedTail: r.reusedTail } : {}),
    ...(previous && (r.reusedTo > r.reusedFrom || tailSpans) ? { previous } : {}),
  };
}
