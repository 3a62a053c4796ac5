/** The guard's vocabulary: detection rules (data) and the findings they produce. */

export type DetectionKind = 'secret' | 'pii';

/** One detector, written as data in `src/guard/rules/<provider-or-topic>.ts`. */
export interface DetectionRule {
  /** Stable id, kebab-case, for example `aws-access-key`. Used in placeholders and audit records. */
  id: string;
  kind: DetectionKind;
  description: string;
  /**
   * Lower-case literals; the rule runs only when the text contains one of them (the pre-filter).
   * Every match of `pattern` must contain at least one of them (case-insensitively).
   */
  keywords: string[];
  /**
   * Every match has a keyword starting at most this many characters after the match start (0 for a
   * prefix token such as `ghp_`). Lets the engine scan less text before each keyword hit.
   */
  keywordWithin?: number;
  /**
   * Characters that must surround the keyword occurrence a match is found through (regex character
   * classes such as `[^A-Za-z0-9_]`): the one just before the keyword and the one just after it.
   * Checked at every keyword hit before any regex runs, so a dense keyword (`ac`, `@`) costs little;
   * the edges of the text and non-ASCII characters always pass.
   */
  keywordContext?: { before?: string; after?: string };
  /** The pattern. Must be linear-time safe: bounded quantifiers only, nothing unbounded. */
  pattern: RegExp;
  /** Which capture group holds the secret value (0 = whole match). */
  secretGroup?: number;
  /** Minimum Shannon entropy (bits/char) of the value, for generic rules. */
  minEntropy?: number;
  /** Extra check on the captured value (Luhn, mod 97, ...). */
  validate?: (value: string, where: ValueContext) => boolean;
  /** A catch-all rule (`password = ...`): loses to a provider-specific rule on the same span. */
  generic?: boolean;
  /** Samples the generic rule test checks: every `tp` must match, no `fp` may. */
  samples: { tp: string[]; fp: string[] };
}

/** Where a candidate value sits, for validators that read its surroundings (`text[start, end)` is the value). */
export interface ValueContext {
  text: string;
  start: number;
  end: number;
}

/** A value found in a text. Offsets are UTF-16 code-unit indexes into the scanned string. */
export interface Detection {
  rule: string;
  kind: DetectionKind;
  start: number;
  end: number;
  /** The matched secret value itself. Never print or store it: use `mask()` for output. */
  value: string;
}
