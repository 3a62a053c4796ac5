import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ScanCache, scanEncoded, scanSegments } from './cache.js';
import { ALNUM, fake } from './rules/fake.js';
import { scan, type ScanOptions } from './scan.js';
import type { Detection } from './types.js';

const ghp = 'ghp_' + fake(ALNUM, 36, 'cache-test');

/** `scan`, counting the characters it is handed. */
function countingScanner(): { scanned: () => number; scanText: (t: string, o: ScanOptions) => Detection[] } {
  let chars = 0;
  return {
    scanned: () => chars,
    scanText: (text, options) => {
      chars += text.length;
      return scan(text, options);
    },
  };
}

describe('scanSegments', () => {
  const segments = [
    'You are a coding assistant.',
    `TOKEN=${ghp}\nmail ops.team@fabrikam.de`,
    'Read .env please',
  ];

  it('returns what scan finds, per segment', () => {
    assert.deepEqual(
      scanSegments(segments, {}, new ScanCache()),
      segments.map((s) => scan(s)),
    );
  });

  it('scans nothing new when the same segments come again, and only the new one after', () => {
    const cache = new ScanCache();
    const counter = countingScanner();
    const first = scanSegments(segments, {}, cache, counter.scanText);
    const total = segments.join('').length;
    assert.equal(counter.scanned(), total);
    assert.deepEqual(scanSegments(segments, {}, cache, counter.scanText), first);
    assert.equal(counter.scanned(), total);
    const next = [...segments, 'a new tool_result'];
    scanSegments(next, {}, cache, counter.scanText);
    assert.equal(counter.scanned(), total + 'a new tool_result'.length);
  });

  it('keys by the options that change findings', () => {
    const cache = new ScanCache();
    const counter = countingScanner();
    scanSegments(segments, {}, cache, counter.scanText);
    const before = counter.scanned();
    const piiOnly = scanSegments(segments, { kinds: ['pii'] }, cache, counter.scanText);
    assert.ok(counter.scanned() > before);
    assert.deepEqual(
      piiOnly.flat().map((d) => d.rule),
      ['email'],
    );
  });

  it('hands out copies, so a caller sorting its list cannot change the cache', () => {
    const cache = new ScanCache();
    const [a] = scanSegments([segments[1] as string], {}, cache);
    a?.reverse();
    const [b] = scanSegments([segments[1] as string], {}, cache);
    assert.deepEqual(
      b?.map((d) => d.rule),
      ['github-pat', 'email'],
    );
  });
});

describe('ScanCache', () => {
  it('answers only for the exact text stored under a key', () => {
    const cache = new ScanCache();
    cache.set('k', 'the text', []);
    assert.deepEqual(cache.get('k', 'the text'), []);
    assert.equal(cache.get('k', 'the texT'), undefined);
  });

  it('rescans, and answers right, when two segments share a fingerprint', () => {
    // Same length, same sampled characters (every 35th of 2,240, and the last 16): one character
    // that no sample reads breaks the token in the second text.
    const a = ' '.repeat(200) + ghp + ' '.repeat(2000);
    const b = a.slice(0, 206) + '!' + a.slice(207);
    const cache = new ScanCache();
    const [fa] = scanSegments([a], {}, cache);
    const [fb] = scanSegments([b], {}, cache);
    assert.equal(fa?.length, 1);
    assert.deepEqual(fb, []);
  });

  it('evicts the least recently used entries once over its size', () => {
    const cache = new ScanCache(1000);
    for (let i = 0; i < 20; i++) cache.set(`key-${i}`, `text ${i}`.padEnd(40, '.'), []);
    assert.ok(cache.bytes <= 1000);
    assert.ok(cache.size < 20 && cache.size > 0);
    assert.equal(cache.get('key-0', 'text 0'.padEnd(40, '.')), undefined);
    assert.deepEqual(cache.get('key-19', 'text 19'.padEnd(40, '.')), []);
  });

  it('keeps an entry that was just read', () => {
    const cache = new ScanCache(1000);
    const text = (i: number) => `t${i}`.padEnd(36, '.');
    cache.set('k0', text(0), []);
    cache.set('k1', text(1), []);
    cache.get('k0', text(0));
    for (let i = 2; i < 4; i++) cache.set(`k${i}`, text(i), []);
    assert.ok(cache.get('k0', text(0)));
    assert.equal(cache.get('k1', text(1)), undefined);
  });

  it('gives a read entry one more pass of eviction, not two', () => {
    // Room for three entries (300 bytes each as counted: overhead, key and text); each new one evicts one.
    const cache = new ScanCache(900);
    const text = (i: number) => `t${i}`.padEnd(36, '.');
    const has = (i: number) => cache.get(`k${i}`, text(i)) !== undefined;
    for (let i = 0; i < 3; i++) cache.set(`k${i}`, text(i), []);
    assert.ok(has(0));
    cache.set('k3', text(3), []);
    assert.equal(has(1), false, 'the oldest unread entry goes, not the oldest');
    cache.set('k4', text(4), []);
    assert.equal(has(2), false);
    cache.set('k5', text(5), []);
    assert.equal(has(3), false);
    cache.set('k6', text(6), []);
    assert.equal(has(0), false, 'not read again since its second chance');
    assert.deepEqual([4, 5, 6].map(has), [true, true, true]);
  });

  it('counts the values it holds and refuses an entry larger than the whole cache', () => {
    const cache = new ScanCache(300);
    const big: Detection = {
      rule: 'generic-secret',
      kind: 'secret',
      start: 0,
      end: 400,
      value: 'x'.repeat(400),
    };
    cache.set('big', 'short text', [big]);
    assert.equal(cache.size, 0);
    assert.equal(cache.bytes, 0);
  });
});

describe('ScanCache memory', () => {
  /** A full garbage collection (node:test runs without --expose-gc). */
  const gc = (): void => {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  };
  const used = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };

  it('holds no more than its bound after many distinct small segments', () => {
    // Like a gateway under traffic: each segment is a small slice of Node's shared 8 KB buffer
    // pool, with other pooled allocations (bodies, headers) between them. A cached copy taken from
    // that pool kept its whole 8 KB slab alive: 64 MB counted held gigabytes. The bound is 8 MB so
    // that the heap's own noise (about a megabyte here) stays small beside it.
    const maxBytes = 8 * 1024 * 1024;
    const cache = new ScanCache(maxBytes);
    const decode = (b: Buffer) => JSON.parse(b.toString()) as string;
    scanEncoded([Buffer.from('"warm-up: the scanner loads its rules"')], decode, {}, new ScanCache());
    const before = used();
    const segments = [];
    for (let i = 0; i < 40_000; i++) {
      const encoded = Buffer.from(`"request ${i} of a long soak"`);
      segments.push(Buffer.from('x'.repeat(3000))); // other traffic in the pool
      scanEncoded([encoded], decode, {}, cache);
      if (segments.length > 8) segments.length = 0;
    }
    segments.length = 0;
    const grown = used() - before;
    assert.ok(cache.bytes <= maxBytes, 'the count stays within the bound');
    assert.ok(
      grown < 1.5 * maxBytes,
      `memory grew ${(grown / 2 ** 20).toFixed(1)} MB for a cache counting ${(cache.bytes / 2 ** 20).toFixed(1)} MB of ${cache.size} entries`,
    );
  });
});
