/**
 * Credentials the gateway holds never reach a client or the store, even if an upstream echoes
 * them (in an error body, say): every relayed byte passes a scrubber that replaces them, across
 * chunk boundaries. It holds back only a chunk's tail that could begin a credential, so a stream
 * is not delayed when nothing looks like one.
 */

/** What a credential becomes (no quote or backslash: safe inside a JSON string). */
export const SCRUBBED = '[REDACTED:upstream-credential]';

export class SecretScrubber {
  private readonly secrets: Buffer[];
  private held: Buffer = Buffer.alloc(0);
  /** How many credentials were replaced. */
  replaced = 0;

  constructor(secrets: readonly string[]) {
    // Short strings would match by chance: only values a credential could be.
    this.secrets = [...new Set(secrets)].filter((s) => s.length >= 8).map((s) => Buffer.from(s));
  }

  get active(): boolean {
    return this.secrets.length > 0;
  }

  /** The bytes of `chunk` (and what was held back) that can go out now, credentials replaced. */
  push(chunk: Buffer): Buffer {
    if (!this.secrets.length) return chunk;
    let text = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    for (const secret of this.secrets) text = this.replace(text, secret);
    const keep = this.tail(text);
    this.held = keep ? Buffer.from(text.subarray(text.length - keep)) : Buffer.alloc(0);
    return keep ? text.subarray(0, text.length - keep) : text;
  }

  /** What is still held back at the end of the stream (it was not a credential). */
  end(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
  }

  private replace(text: Buffer, secret: Buffer): Buffer {
    let at = text.indexOf(secret);
    if (at < 0) return text;
    const parts: Buffer[] = [];
    let from = 0;
    while (at >= 0) {
      parts.push(text.subarray(from, at), Buffer.from(SCRUBBED));
      this.replaced++;
      from = at + secret.length;
      at = text.indexOf(secret, from);
    }
    parts.push(text.subarray(from));
    return Buffer.concat(parts);
  }

  /** The length of the longest tail of `text` that is the start of some credential (not all of it). */
  private tail(text: Buffer): number {
    let longest = 0;
    for (const secret of this.secrets) {
      const window = Math.min(secret.length - 1, text.length);
      for (let p = text.length - window; p < text.length; p++) {
        p = text.indexOf(secret[0] as number, p);
        if (p < 0) break;
        const n = text.length - p;
        if (n > longest && text.compare(secret, 0, n, p) === 0) longest = n;
      }
    }
    return longest;
  }
}
