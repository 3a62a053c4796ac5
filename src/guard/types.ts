/** The guard's vocabulary: detection rules (data) and the findings they produce. */

export type DetectionKind = 'secret' | 'pii';

/** One detector, written as data in `src/guard/rules/<provider-or-topic>.ts`. */
export interface DetectionRule {
  /** Stable id, kebab-case, for example `aws-access-key`. Used in placeholders and audit records. */
  id: string;
  kind: DetectionKind;
  description: string;
  /** Lower-case literals; the rule runs only when the text contains one of them (the pre-filter). */
  keywords: string[];
  /** The pattern. Must be linear-time safe (no nested quantifiers over overlapping classes). */
  pattern: RegExp;
  /** Which capture group holds the secret value (0 = whole match). */
  secretGroup?: number;
  /** Minimum Shannon entropy (bits/char) of the value, for generic rules. */
  minEntropy?: number;
  /** Extra check on the captured value (Luhn, mod 97, ...). */
  validate?: (value: string) => boolean;
  /** Samples the generic rule test checks: every `tp` must match, no `fp` may. */
  samples: { tp: string[]; fp: string[] };
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
