/** The one rule for what of a request's content an org may keep at rest. */
import { delta } from '../store/content.js';
import type { ContentBase } from '../store/types.js';
import type { OrgConfig } from './config.js';

/**
 * What the gateway may store of an org's requests and answers: nothing under zero data retention,
 * whatever `contentLogging` says; otherwise `redacted` keeps the request with every detected value
 * replaced, and `full` also keeps the answer.
 */
export function keptContent(org: OrgConfig): 'none' | 'redacted' | 'full' {
  return org.zdr ? 'none' : org.contentLogging;
}

/** What of a request's stored content goes to the store: the whole text, or a delta on `base`. */
export interface StoredContent {
  content: string;
  base: ContentBase | null;
}

interface Kept {
  id: string;
  bytes: Buffer;
  at: number;
}

/**
 * The last few stored requests of each conversation, so that the next one is stored by delta
 * (store/content.ts): Claude Code resends the whole history on every turn, and a session then
 * stores about its final size instead of the sum of its turns. Several are kept per conversation
 * because Claude Code interleaves small side requests with the main thread's. Bounded by the bytes
 * held (least recently used conversation dropped first); a base older than `maxAgeMs` is not used,
 * so a sweep never deletes a base after a newer record was made to reference it.
 */
export class ContentChain {
  private readonly conversations = new Map<string, Kept[]>();
  private held = 0;

  constructor(
    readonly maxBytes: number,
    readonly maxAgeMs = 3_600_000,
    readonly perConversation = 4,
  ) {}

  /** `content` of record `id` as it should be stored, remembered as a base for the next one. */
  store(conversation: string, id: string, content: string | Buffer, now: number): StoredContent {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const kept = this.conversations.get(conversation) ?? [];
    let best: { base: ContentBase; saved: number } | null = null;
    // Newest first; a base that leaves little new (the usual next turn) ends the search.
    for (let i = kept.length - 1; i >= 0; i--) {
      const k = kept[i] as Kept;
      if (now - k.at > this.maxAgeMs) continue;
      const d = delta(k.bytes, bytes);
      if (!best || d.head + d.tail > best.saved) best = { base: { id: k.id, ...d }, saved: d.head + d.tail };
      if (bytes.length - best.saved <= Math.max(65536, bytes.length / 16)) break;
    }
    this.remember(conversation, kept, { id, bytes, at: now });
    // A delta that saves little is not worth the chain a reader must walk.
    if (!best || best.saved < Math.min(4096, bytes.length / 2))
      return { content: typeof content === 'string' ? content : content.toString('utf8'), base: null };
    const middle = bytes.subarray(best.base.head, bytes.length - best.base.tail).toString('utf8');
    return { content: middle, base: best.base };
  }

  private remember(conversation: string, kept: Kept[], k: Kept): void {
    this.conversations.delete(conversation);
    if (k.bytes.length > this.maxBytes) return;
    kept.push(k);
    this.held += k.bytes.length;
    while (kept.length > this.perConversation) this.held -= (kept.shift() as Kept).bytes.length;
    this.conversations.set(conversation, kept);
    for (const [name, list] of this.conversations) {
      if (this.held <= this.maxBytes) break;
      this.conversations.delete(name);
      for (const x of list) this.held -= x.bytes.length;
    }
  }
}
