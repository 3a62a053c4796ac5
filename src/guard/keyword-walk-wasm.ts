/**
 * The keyword walk of a {@link KeywordAutomaton} in WebAssembly (assembly/keyword-walk.ts, built
 * into keyword-walk.wasm.ts by `npm run build:wasm`): the same hits as the JS walk, several times
 * faster on large texts. A JS walk is one chain of dependent loads, so it runs at the load latency;
 * the WASM walk advances six chains over six segments of the text at once, reads the text narrowed
 * to bytes with SIMD, and looks each step up in a table with a column per byte.
 *
 * Each call copies the text into the module's memory, a chunk at a time, which costs about a
 * microsecond per call: for texts of a few hundred characters the JS walk is faster.
 */
import type { KeywordAutomaton } from './keyword-automaton.js';
import { keywordWalkWasm } from './keyword-walk.wasm.js';

/** A WASM twin of the JS walk for one automaton. */
export interface WasmWalker {
  /**
   * Every reporting `(index, k)` pair of the automaton started at its root at `from` and walked
   * over `text[from, to)`, in increasing index order: the occurrences that start and end inside
   * the range. `k = (state - reportFrom) / width`, so the keywords' values are
   * `values[outStart[k] .. outStart[k + 1])`, exactly as the JS walk would report them, for any text
   * (a code unit >= 128 never takes part in an occurrence, as in the JS walk).
   *
   * To walk a huge text in pieces, overlap them by the longest keyword's length minus one and drop
   * from each piece but the first the hits that end in the overlap (they were reported already):
   * occurrences that cross a boundary are then found once. Returns the view
   * `[i0, k0, i1, k1, ...]`, valid until the next call, and its length (twice the hits); the hits
   * take 8 bytes each of the module's memory, which grows to hold them and never shrinks.
   */
  walk(text: string, from: number, to: number): { hits: Int32Array; length: number };
}

/** What assembly/keyword-walk.ts exports. */
interface Exports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  utf16Address: { value: number };
  chunkCharacters: { value: number };
  tableAddress: { value: number };
  configure(states: number, reporting: number, maxLength: number): number;
  begin(): void;
  walkChunk(length: number, start: number): number;
}

/** The parts of the WebAssembly API used here (not in the ES lib typings). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

/** Columns per table row (one per ASCII byte) and the row size in bytes, as in the WASM source. */
const COLUMNS = 128;
const ROW_SHIFT = 9;
const PAGE = 65536;

/** The compiled module, once per process; null when this runtime has no WebAssembly with SIMD. */
let compiled: object | null | undefined;

function compiledModule(): object | null {
  if (compiled === undefined) {
    const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    try {
      compiled = api ? new api.Module(Buffer.from(keywordWalkWasm, 'base64')) : null;
    } catch {
      compiled = null; // a runtime without SIMD rejects the module
    }
  }
  return compiled;
}

/** A WASM twin of the JS walk for `automaton`; undefined when WebAssembly (with SIMD) is unavailable. */
export function wasmWalker(automaton: KeywordAutomaton): WasmWalker | undefined {
  const module = compiledModule();
  if (!module) return undefined;
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly as WebAssemblyApi;
  const wasm = new api.Instance(module, {}).exports as Exports;
  const { memory } = wasm;
  const { table, start, width } = automaton;
  const states = (table.length - start) / width;

  let bytes = Buffer.from(memory.buffer);
  /** Grows the memory to at least `size` bytes (which replaces its buffer). */
  const reserve = (size: number): void => {
    const missing = size - memory.buffer.byteLength;
    if (missing > 0) {
      memory.grow(Math.ceil(missing / PAGE));
      bytes = Buffer.from(memory.buffer);
    }
  };
  // The JS table has a column per class; this one a column per byte (the class lookup folded in),
  // each entry the byte offset of the next row.
  const tableAddress = wasm.tableAddress.value;
  reserve(tableAddress + states * (COLUMNS << 2));
  const rows = new Uint32Array(memory.buffer, tableAddress, states * COLUMNS);
  for (let r = 0; r < states; r++) {
    const row = start + r * width;
    for (let c = 0; c < COLUMNS; c++) {
      const next = table[row + (table[c] as number)] as number;
      rows[r * COLUMNS + c] = ((next - start) / width) << ROW_SHIFT;
    }
  }
  const hitsAddress = wasm.configure(
    states,
    (automaton.reportFrom - start) / width,
    longestKeyword(automaton),
  );
  const utf16Address = wasm.utf16Address.value;
  const chunk = wasm.chunkCharacters.value;

  return {
    walk(text: string, from: number, to: number): { hits: Int32Array; length: number } {
      // Past the text, walkChunk would read the previous chunk's characters.
      from = Math.max(0, from);
      to = Math.min(to, text.length);
      wasm.begin();
      let pairs = 0;
      for (let at = from; at < to; at += chunk) {
        const length = Math.min(chunk, to - at);
        // walkChunk needs room for a hit per character (and a little slack for the padding of a
        // short last chunk) after those so far.
        reserve(hitsAddress + (pairs + length + 128) * 8);
        bytes.write(text.substring(at, at + length), utf16Address, 'utf16le');
        pairs = wasm.walkChunk(length, at);
      }
      return { hits: new Int32Array(memory.buffer, hitsAddress, pairs * 2), length: pairs * 2 };
    },
  };
}

/** The length of the longest keyword: the depth of the deepest state, breadth first from the root. */
function longestKeyword(automaton: KeywordAutomaton): number {
  const { table, start, width } = automaton;
  const depth = new Int32Array((table.length - start) / width).fill(-1);
  depth[0] = 0;
  const queue = [0];
  let deepest = 0;
  for (let q = 0; q < queue.length; q++) {
    const r = queue[q] as number;
    for (let c = 0; c < width; c++) {
      const next = ((table[start + r * width + c] as number) - start) / width;
      if ((depth[next] as number) >= 0) continue;
      depth[next] = (depth[r] as number) + 1;
      deepest = Math.max(deepest, depth[next] as number);
      queue.push(next);
    }
  }
  return deepest;
}
