/**
 * Findings by content, so the guard never scans the same conversation bytes twice: Claude Code
 * resends the whole history every turn, and each block of it is looked up by its text.
 *
 * The key is a fingerprint (length and ~80 sampled characters, O(1)) and a hit is confirmed by
 * comparing the stored text with `===` (a memcmp, ~10 GB/s), so a colliding fingerprint only costs
 * a rescan, never a wrong answer. Hashing every segment instead (SHA-256 via node:crypto, measured
 * ~900 MB/s) made turn 200 of a session cost several times turn 2. Texts and detected values are
 * held in memory only, bounded by `maxBytes`.
 */
import { scan, type ScanOptions } from './scan.js';
import type { Detection, DetectionRule } from './types.js';

/** What an entry costs beyond its key and values (Map slot, entry object, detections array; measured ~210). */
const ENTRY_OVERHEAD = 224;
const DETECTION_OVERHEAD = 64;
/**
 * Encoded bytes shorter than this are kept as a one-byte string (~1 byte each plus a header), longer
 * ones as a Buffer of their own: a small Buffer costs about 900 bytes beyond its bytes (ArrayBuffer,
 * view and native backing store, measured), and a large one is compared without a copy.
 */
const SMALL_ENCODED = 4096;
const BUFFER_OVERHEAD = 1024;
const STRING_OVERHEAD = 32;

interface Entry {
  text: string;
  /**
   * For entries keyed by encoded bytes (`getEncoded`): those bytes (short ones as a latin1 string,
   * one character per byte), and `text` is their decoding.
   */
  encoded?: Buffer | string;
  detections: Detection[];
  bytes: number;
  /** Read since eviction last passed it: it gets a second chance (moved to the newest end). */
  used: boolean;
}

/**
 * A map from segment fingerprint to its text and detections, bounded by bytes held, evicting the
 * least recently used first, approximately (second chance): a hit only marks its entry, because
 * moving it to the newest end of the Map on every hit (delete, then set) cost a request's ~70
 * cached lookups 0.17 ms at 5,000 entries and 0.45 ms at 20,000 (the Map's table is rebuilt
 * ever more often), where marking costs nothing; eviction moves a marked entry to the end instead.
 */
export class ScanCache {
  private readonly entries = new Map<string, Entry>();
  private held = 0;

  constructor(readonly maxBytes = 32 * 1024 * 1024) {}

  /** Estimated bytes the entries hold. */
  get bytes(): number {
    return this.held;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The detections stored for exactly `text` under `key`. */
  get(key: string, text: string): Detection[] | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined || entry.text !== text) return undefined;
    entry.used = true;
    return entry.detections;
  }

  /**
   * The decoded text and detections stored for exactly the bytes `encoded` (for example a JSON
   * string literal) under `key`: a hit costs a byte comparison, no decoding.
   */
  getEncoded(key: string, encoded: Buffer): { text: string; detections: Detection[] } | undefined {
    const entry = this.entries.get(key);
    if (entry?.encoded === undefined || !sameBytes(entry.encoded, encoded)) return undefined;
    entry.used = true;
    return entry;
  }

  /**
   * Stores `encoded` (copied) with its decoded `text` and the detections in that text. The copy
   * has memory of its own: a small `Buffer.from` is a slice of Node's shared 8 KB pool, and keeping
   * one kept the whole slab (and everything else cut from it) alive while counting its length.
   */
  setEncoded(key: string, encoded: Buffer, text: string, detections: Detection[]): void {
    if (encoded.length < SMALL_ENCODED) return this.set(key, text, detections, encoded.toString('latin1'));
    const copy = Buffer.allocUnsafeSlow(encoded.length);
    encoded.copy(copy);
    this.set(key, text, detections, copy);
  }

  set(key: string, text: string, detections: Detection[], encoded?: Buffer | string): void {
    const bytes =
      ENTRY_OVERHEAD +
      2 * (key.length + text.length) +
      (encoded === undefined
        ? 0
        : (typeof encoded === 'string' ? STRING_OVERHEAD : BUFFER_OVERHEAD) + encoded.length) +
      detections.reduce((sum, d) => sum + DETECTION_OVERHEAD + 2 * (d.value.length + d.rule.length), 0);
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.held -= old.bytes;
    }
    if (bytes > this.maxBytes) return;
    this.entries.set(
      key,
      encoded ? { text, encoded, detections, bytes, used: false } : { text, detections, bytes, used: false },
    );
    this.held += bytes;
    // A Map iterates in insertion order and visits entries set during the loop: a marked entry,
    // moved to the end unmarked, is met again only after every other, and evicted then if need be.
    for (const [oldest, entry] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(oldest);
      if (entry.used) {
        entry.used = false;
        this.entries.set(oldest, entry);
      } else this.held -= entry.bytes;
    }
  }
}

/** Whether stored bytes (a Buffer, or a latin1 string for short ones) are exactly `b`. */
function sameBytes(stored: Buffer | string, b: Buffer): boolean {
  if (typeof stored !== 'string') return stored.equals(b);
  return stored.length === b.length && stored === b.toString('latin1');
}

const catalogIds = new WeakMap<DetectionRule[], number>();
let nextCatalogId = 1;

function catalogId(rules: DetectionRule[] | undefined): number {
  if (!rules) return 0;
  let id = catalogIds.get(rules);
  if (id === undefined) catalogIds.set(rules, (id = nextCatalogId++));
  return id;
}

/** The options that change what a scan finds, as a key prefix (the deadline and clock do not). */
function optionsKey(options: ScanOptions): string {
  const catalog = catalogId(options.rules);
  const kinds = options.kinds ? [...options.kinds].sort().join(',') : '*';
  const disabled = [...(options.disabledRules ?? [])].sort().join(',');
  return `${catalog}|${kinds}|${disabled}|${options.prefilter === false ? 0 : 1}|`;
}

/** Length and a sample of bytes spread over `b`, plus its last 16: O(1) in the length. */
function fingerprintBytes(b: Buffer): string {
  const n = b.length;
  let h = 0x811c9dc5 ^ n;
  const step = Math.max(1, Math.floor(n / 64));
  for (let i = 0; i < n; i += step) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  for (let i = Math.max(0, n - 16); i < n; i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return `b${n}:${(h >>> 0).toString(36)}`;
}

/**
 * Detections in each encoded segment (for example each JSON string literal of a request), with
 * its decoded text (which may be '' for a cached segment with no detections): a segment whose bytes
 * the cache holds costs a byte comparison; only new ones are decoded (`decode` may throw) and scanned.
 */
export function scanEncoded(
  segments: readonly Buffer[],
  decode: (encoded: Buffer) => string,
  options: ScanOptions,
  cache: ScanCache,
): { text: string; detections: Detection[] }[] {
  const prefix = optionsKey(options);
  return segments.map((encoded) => {
    const key = prefix + fingerprintBytes(encoded);
    const known = cache.getEncoded(key, encoded);
    if (known) return { text: known.text, detections: known.detections.slice() };
    const text = decode(encoded);
    const detections = scan(text, options);
    // The text is needed only to redact: kept only where something was found.
    cache.setEncoded(key, encoded, detections.length ? text : '', detections.slice());
    return { text, detections };
  });
}

/** Length and a sample of characters spread over the text, plus its last 16: O(1) in the length. */
function fingerprint(text: string): string {
  const n = text.length;
  let h = 0x811c9dc5 ^ n;
  const step = Math.max(1, Math.floor(n / 64));
  for (let i = 0; i < n; i += step) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  for (let i = Math.max(0, n - 16); i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return `${n}:${(h >>> 0).toString(36)}`;
}

/**
 * Detections in each of `segments` (offsets relative to the segment), scanning only the segments
 * the cache has not seen with the same options. `scanText` is the scanner (injectable for tests).
 */
export function scanSegments(
  segments: readonly string[],
  options: ScanOptions = {},
  cache?: ScanCache,
  scanText: (text: string, options: ScanOptions) => Detection[] = scan,
): Detection[][] {
  if (!cache) return segments.map((s) => scanText(s, options));
  const prefix = optionsKey(options);
  return segments.map((segment) => {
    const key = prefix + fingerprint(segment);
    const known = cache.get(key, segment);
    if (known) return known.slice();
    const found = scanText(segment, options);
    cache.set(key, segment, found.slice());
    return found;
  });
}
