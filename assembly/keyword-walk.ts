/**
 * The guard's keyword walk (the Aho–Corasick automaton of src/guard/keyword-automaton.ts) in
 * WebAssembly; src/guard/keyword-walk-wasm.ts drives it and documents what it returns.
 *
 * A DFA walk is a chain of dependent loads: each step needs the previous state, so one chain runs
 * at the load latency whatever the table looks like. The walk therefore cuts every chunk of text
 * into CHAINS segments and advances one chain per segment in the same loop, so the loads of the
 * different chains overlap. Each segment lives at a fixed distance SEG from the previous one in
 * memory, so a chain's text is read at `i + k * SEG` with `k * SEG` folded into the load's
 * immediate offset: one shared index, no per-chain pointer, which leaves the registers to the
 * states (with a pointer per chain, V8 spills and the walk is a third slower).
 *
 * The text arrives as UTF-16, the one encoding V8 writes from any string without a scan and without
 * losing a code unit (latin1 would turn U+0161 'š' into 0x61 'a'), and is narrowed with SIMD to one
 * byte per code unit, saturated so that every unit >= 128 becomes DEL or NUL, which no keyword
 * contains: the transition table has a column per ASCII byte, so a step is one load of the byte
 * and one load of the next state, with no class lookup in between.
 */

/** Chains walked side by side (measured on Zen 5: 6 is best, 5 and 7 within 10%, 8 is slower). */
const CHAINS: u32 = 6;
/** Characters per chain per full chunk. */
const SEG: u32 = 32768;
const CHUNK: u32 = CHAINS * SEG;

/** A table row: 128 columns of u32 byte offsets (relative to TABLE) of the next row. */
const ROW_SHIFT: u32 = 9;

// Memory layout (byte addresses). BYTES and TABLE are constants so that they fold into the hot
// loop's load offsets; the hits go after the table, whose size depends on the automaton.
/** The narrowed chunk; chain k's segment starts at BYTES + k * SEG. */
const BYTES: usize = 0;
/** The chunk as JS writes it (UTF-16LE). */
const UTF16: usize = BYTES + CHUNK;
/** Per chain: the address of its next hit, and the text index of its segment's first character. */
const SLOTS: usize = UTF16 + 2 * CHUNK;
const TABLE: usize = SLOTS + 64;

/** A chunk is walked by one chain when its segments would be shorter than this. */
const MIN_SEG: u32 = 256;

/** Where JS writes each chunk, the most characters per chunk, and where the table goes. */
export const utf16Address: usize = UTF16;
export const chunkCharacters: u32 = CHUNK;
export const tableAddress: usize = TABLE;

/** Offset (relative to TABLE) of the first reporting row; rows at or above it report. */
let reportFrom: u32 = 0;
/** Characters a chain walks before its segment so that its state is exact from the segment's start on. */
let warmUp: u32 = 0;
/** Where the hits of a walk start, right after the table. */
let hitsAddress: usize = 0;
/** The state at the end of the previous chunk, and the hits so far (pairs), of the current walk. */
let carry: u32 = 0;
let hitCount: u32 = 0;

/**
 * Sets up a table of `states` rows already written at `tableAddress`, the first `reporting` of them
 * silent, for keywords at most `maxLength` long; returns the address of the hits.
 */
export function configure(states: u32, reporting: u32, maxLength: u32): usize {
  reportFrom = reporting << ROW_SHIFT;
  warmUp = maxLength > 0 ? maxLength - 1 : 0;
  hitsAddress = (TABLE + (<usize>states << ROW_SHIFT) + 63) & ~63;
  return hitsAddress;
}

/** Starts a walk at the root. */
export function begin(): void {
  carry = 0;
  hitCount = 0;
}

/**
 * Walks the `length` characters at `utf16Address` (at most `chunkCharacters`), the next chunk of the
 * walk whose first character has text index `start`; appends each reporting `(index, k)` to the
 * hits and returns how many pairs the walk has so far. Room for one more pair per character must be
 * available after them. Only the last chunk of a walk may be shorter than `chunkCharacters`.
 */
export function walkChunk(length: u32, start: u32): u32 {
  const out = hitsAddress + (<usize>hitCount << 3);
  let seg = (length + CHAINS - 1) / CHAINS;
  seg = (seg + 15) & ~15;
  if (seg < MIN_SEG || seg < warmUp) {
    hitCount += walkOne(length, start, out);
    return hitCount;
  }
  // A short last chunk is spread over the chains like a full one; the zeros after the text read as
  // NUL, which leads to the root and reports nothing.
  const padded = seg * CHAINS;
  memory.fill(UTF16 + (<usize>length << 1), 0, <usize>(padded - length) << 1);
  for (let k: u32 = 0; k < CHAINS; k++) {
    narrow(UTF16 + (<usize>(k * seg) << 1), BYTES + <usize>(k * SEG), seg);
    store<u32>(SLOTS + (<usize>k << 3), <u32>out + ((k * seg) << 3));
    store<u32>(SLOTS + (<usize>k << 3), start + k * seg, 4);
  }
  // The end of segment k - 1 is at BYTES + (k - 1) * SEG + seg, `seg` characters of it at least.
  const w = BYTES + <usize>seg - <usize>warmUp;
  let s0 = carry;
  let s1 = warm(w);
  let s2 = warm(w + SEG);
  let s3 = warm(w + 2 * SEG);
  let s4 = warm(w + 3 * SEG);
  let s5 = warm(w + 4 * SEG);
  const rf = reportFrom;
  // Unrolled for CHAINS = 6.
  for (let i: usize = BYTES, end = BYTES + <usize>seg; i < end; i++) {
    s0 = load<u32>(s0 + (<u32>load<u8>(i) << 2), TABLE);
    s1 = load<u32>(s1 + (<u32>load<u8>(i, SEG) << 2), TABLE);
    s2 = load<u32>(s2 + (<u32>load<u8>(i, 2 * SEG) << 2), TABLE);
    s3 = load<u32>(s3 + (<u32>load<u8>(i, 3 * SEG) << 2), TABLE);
    s4 = load<u32>(s4 + (<u32>load<u8>(i, 4 * SEG) << 2), TABLE);
    s5 = load<u32>(s5 + (<u32>load<u8>(i, 5 * SEG) << 2), TABLE);
    if (s0 >= rf) emit(0, i, s0);
    if (s1 >= rf) emit(1, i, s1);
    if (s2 >= rf) emit(2, i, s2);
    if (s3 >= rf) emit(3, i, s3);
    if (s4 >= rf) emit(4, i, s4);
    if (s5 >= rf) emit(5, i, s5);
  }
  carry = s5;
  // Each chain wrote into its own stretch of the hits (a segment has at most `seg` of them); close
  // the gaps so the pairs are in text order.
  let to = <usize>load<u32>(SLOTS);
  for (let k: u32 = 1; k < CHAINS; k++) {
    const from = out + (<usize>(k * seg) << 3);
    const bytes = <usize>load<u32>(SLOTS + (<usize>k << 3)) - from;
    memory.copy(to, from, bytes);
    to += bytes;
  }
  hitCount = <u32>((to - hitsAddress) >> 3);
  return hitCount;
}

/** One chain over the whole chunk, for chunks too short to be worth splitting. */
function walkOne(length: u32, start: u32, out: usize): u32 {
  const padded = (length + 15) & ~15;
  memory.fill(UTF16 + (<usize>length << 1), 0, <usize>(padded - length) << 1);
  narrow(UTF16, BYTES, padded);
  const rf = reportFrom;
  let s = carry;
  let h = out;
  for (let i: u32 = 0; i < length; i++) {
    s = load<u32>(s + (<u32>load<u8>(BYTES + i) << 2), TABLE);
    if (s >= rf) {
      store<u32>(h, start + i);
      store<u32>(h, (s - rf) >> ROW_SHIFT, 4);
      h += 8;
    }
  }
  carry = s;
  return <u32>((h - out) >> 3);
}

/** The state after walking `warmUp` bytes from `at` from the root. */
function warm(at: usize): u32 {
  let s: u32 = 0;
  for (let i = at, end = at + warmUp; i < end; i++) s = load<u32>(s + (<u32>load<u8>(i) << 2), TABLE);
  return s;
}

/** Records a hit of chain `chain` at loop index `i` in state `s`. */
@inline
function emit(chain: usize, i: usize, s: u32): void {
  const slot = SLOTS + (chain << 3);
  const h = <usize>load<u32>(slot);
  store<u32>(h, load<u32>(slot, 4) + <u32>(i - BYTES));
  store<u32>(h, (s - reportFrom) >> ROW_SHIFT, 4);
  store<u32>(slot, <u32>h + 8);
}

/** UTF-16 code units to bytes, `count` (a multiple of 16) of them; units >= 128 become 127 or 0. */
function narrow(from: usize, to: usize, count: u32): void {
  const ascii = i8x16.splat(127);
  for (let i: usize = 0; i < <usize>count; i += 16) {
    // The narrowing saturates signed lanes: 128..32767 give 255 (then 127, DEL) and 32768..65535
    // give 0 (NUL); both are class 0 (keywords are printable ASCII).
    const bytes = i8x16.narrow_i16x8_u(v128.load(from + (i << 1)), v128.load(from + (i << 1), 16));
    v128.store(to + i, i8x16.min_u(bytes, ascii));
  }
}
