/** Ways a network may cut a stream into chunks, for the stream readers' fuzz targets. */

/** FNV-1a over the bytes: a seed that depends on the input only, so a crash reproduces. */
function seedOf(data: Buffer): number {
  let h = 0x811c9dc5;
  for (const b of data) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

/** `data` cut at each position of `cuts` (ascending). */
function cutAt(data: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const c of cuts)
    if (c > at && c < data.length) {
      out.push(data.subarray(at, c));
      at = c;
    }
  out.push(data.subarray(at));
  return out;
}

/**
 * `data` cut: byte by byte (up to 512 bytes), in runs of 1 to 32 bytes drawn from the input's own
 * hash, and just before and after each newline (where a line or an event ends).
 */
export function chunkings(data: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  if (data.length <= 512) out.push(cutAt(data, [...data.keys()]));
  const runs: number[] = [];
  let seed = seedOf(data);
  for (let at = 0; at < data.length;) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    at += 1 + ((seed >>> 16) % 32);
    runs.push(at);
  }
  out.push(cutAt(data, runs));
  const lines: number[] = [];
  for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, i + 1)) lines.push(i, i + 1);
  out.push(cutAt(data, lines));
  return out;
}
