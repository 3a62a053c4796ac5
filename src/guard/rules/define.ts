/** Small constructors for the common rule shapes, so each provider file reads as a table of facts. */
import { maxMatchLength } from '../regex-bounds.js';
import type { DetectionKind, DetectionRule, ValueContext } from '../types.js';
import { inContexts } from './fake.js';

/** Characters that continue a token: a match must not be preceded or followed by one. */
const TOKEN_CHAR = 'A-Za-z0-9_';

export interface TokenSpec {
  id: string;
  description: string;
  /** Lower-case literals every token contains (usually its prefix). */
  keywords: string[];
  /** Regex source of the whole token, prefix included. */
  token: string;
  /** Characters that may not touch the token on either side (default letters, digits, `_`). */
  boundary?: string;
  /** Sample tokens; each is also checked inside several surrounding contexts. */
  tp: string[];
  fp: string[];
  minEntropy?: number;
  kind?: DetectionKind;
  /** Set when the keyword sits inside the token rather than at its start (`…-us21`, `…:AA…`). */
  keywordInside?: boolean;
}

/**
 * The class of the character after a token's literal prefix, when the token's only keyword is that
 * prefix: `AC[0-9a-f]{32}` with keyword `ac` gives `[0-9a-f]`.
 */
function classAfterPrefix(token: string, keywords: string[]): string | undefined {
  const m = /^((?:[A-Za-z0-9_-]|\\[./-])+)(\[(?:[^\]\\]|\\.)+\])(?![?*]|\{0)/.exec(token);
  // Only when that class is the one way on: no top-level alternative, no optional class.
  if (!m || keywords.length !== 1 || topLevelAlternation(token)) return undefined;
  const literal = (m[1] ?? '').replace(/\\(.)/g, '$1');
  return literal.toLowerCase() === keywords[0] ? m[2] : undefined;
}

function topLevelAlternation(source: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return true;
  }
  return false;
}

/** A token recognisable on its own by a distinctive prefix or shape (`ghp_…`, `AKIA…`). */
export function token(spec: TokenSpec): DetectionRule {
  // `_-` is a literal dash wherever a boundary adds more characters after it.
  const b = (spec.boundary ?? TOKEN_CHAR).replace('_-', '_\\-');
  const after = classAfterPrefix(spec.token, spec.keywords);
  return {
    id: spec.id,
    kind: spec.kind ?? 'secret',
    description: spec.description,
    keywords: spec.keywords,
    // A prefix keyword starts the match, so the lookbehind below also holds just before the keyword.
    ...(spec.keywordInside
      ? {}
      : {
          keywordWithin: 0,
          keywordContext: { before: `[^${b.replace('=', '')}]`, ...(after ? { after } : {}) },
        }),
    // Padding (`=`) may end a token but an assignment `=` may precede one.
    pattern: new RegExp(`(?<![${b.replace('=', '')}])(?:${spec.token})(?![${b}])`),
    ...(spec.minEntropy !== undefined ? { minEntropy: spec.minEntropy } : {}),
    samples: { tp: spec.tp.flatMap((v) => [v, ...inContexts(v)]), fp: spec.fp },
  };
}

export interface AssignmentSpec {
  id: string;
  description: string;
  /** Regex source for the variable or key name (matched case-insensitively). */
  name: string;
  /** Lower-case literals every name contains. */
  keywords: string[];
  /** Regex source for the value (bounded quantifiers only). */
  value: string;
  minEntropy?: number;
  validate?: (value: string, where: ValueContext) => boolean;
  generic?: boolean;
  tp: string[];
  fp: string[];
}

/**
 * A value only recognisable by the name it is assigned to: `NAME = value`, `"name": "value"`,
 * `name: value`, `name => 'value'`, `--name=value`. The value is capture group 1.
 */
export function assignment(spec: AssignmentSpec): DetectionRule {
  return {
    id: spec.id,
    kind: 'secret',
    description: spec.description,
    keywords: spec.keywords,
    keywordWithin: maxMatchLength(new RegExp(spec.name)),
    pattern: new RegExp(
      `(?:${spec.name})[\\w.-]{0,24}?["'\`]?\\s{0,4}(?::=|=>|=|:)\\s{0,4}["'\`]?(${spec.value})(?=["'\`\\s,;)\\]}<]|\\\\[nrt]|$)`,
      'i',
    ),
    secretGroup: 1,
    ...(spec.minEntropy !== undefined ? { minEntropy: spec.minEntropy } : {}),
    ...(spec.validate ? { validate: spec.validate } : {}),
    ...(spec.generic ? { generic: true } : {}),
    samples: { tp: spec.tp, fp: spec.fp },
  };
}

/**
 * For a password in `scheme://user:password@host`: false when the password repeats the user name
 * (`postgres:postgres`, `guest:guest`), a product's default account rather than a chosen secret.
 */
export function notUserEcho(value: string, where: ValueContext): boolean {
  const userEnd = where.start - 1;
  return !(
    where.text.charAt(userEnd) === ':' &&
    where.text.slice(userEnd - value.length, userEnd) === value &&
    where.text.charAt(userEnd - value.length - 1) === '/'
  );
}
