/**
 * Values that look like secrets but are not findings: documented examples, template variables,
 * environment lookups, obvious placeholders and Sluice's own redaction placeholders. The engine
 * applies this to every candidate value of every rule.
 */

/** Example values published in vendor documentation and test card numbers from payment providers. */
const KNOWN_EXAMPLES = new Set([
  'AKIAIOSFODNN7EXAMPLE',
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  '4111111111111111',
  '4242424242424242',
  '4012888888881881',
  '4000056655665556',
  '5555555555554444',
  '5105105105105100',
  '2223003122003222',
  '378282246310005',
  '371449635398431',
  '6011111111111117',
  '6011000990139424',
  '3056930009020004',
  '3566002020360505',
  '6200000000000005',
  '4007000000027',
  '30569309025904',
  '38520000023237',
  '3530111333300000',
  '5200828282828210',
  // The example IBANs of the IBAN registry and of Wikipedia's IBAN article.
  'DE89370400440532013000',
  'GB29NWBK60161331926819',
  'GB82WEST12345698765432',
  'NL91ABNA0417164300',
  'FR1420041010050500013M02606',
  'BE68539007547034',
  'NO9386011117947',
  'CH9300762011623852957',
  'MT84MALT011000012345MTLCAST001S',
  '078051120',
  '123456789',
  '219099999',
]);

/** Whole-value shapes that are references or templates, not values. */
const PLACEHOLDER_SHAPES: RegExp[] = [
  /^\$\{[^}]{0,200}\}$/, // ${VAR}
  /^\$[A-Za-z_][A-Za-z0-9_]{0,100}$/, // $VAR
  /^\$\{\{.{0,200}\}\}$/, // ${{ secrets.X }}
  /^\{\{.{0,200}\}\}$/, // {{ var }}
  /^%[A-Za-z_][A-Za-z0-9_]{0,100}%$/, // %VAR%
  /^@[A-Za-z_][A-Za-z0-9_]{0,100}@$/, // @VAR@
  /^<[^<>]{1,200}>$/, // <your-key>
  /^\{[A-Za-z_][\w.]{0,100}\}$/, // {PASSWORD} (Python's format strings)
  /^\[REDACTED:[a-z0-9-]{1,64}:\d{1,9}\]$/, // our own placeholders
  /^(?:process\.env|import\.meta\.env|os\.environ|os\.getenv|env\[|ENV\[|System\.getenv|Deno\.env)/,
  /^(?:true|false|null|nil|none|undefined)$/i,
  // jwt.io's example token (`{"sub":"1234567890","name":"John Doe","iat":1516239022}`).
  /\.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ\./,
];

/**
 * Lower-case words that name the slot rather than fill it: `db-password`, `my-top-secret`,
 * `pass+word`, `password-for-30001`, `mypass`, `somepassword`.
 */
const SLOT_NAMES = [
  /^(?:[a-z0-9]{1,20}[-_+ #.]){0,6}(?:password|passwd|pass|pwd|secret)(?:[-_+ #.][a-z0-9]{1,20}){0,6}$/,
  /^(?:auth|some|db|admin|user|root|the|my|cache|test|bad)(?:password|passwd|pass|pwd|secret)$/,
];

/** Words that mark a value as a stand-in when they appear anywhere in it (case-insensitive). */
const PLACEHOLDER_WORDS =
  /example|placeholder|changeme|change_me|change-me|dummy|redacted|your[-_ ]?(?:[a-z]{1,20}[-_ ]){0,3}(?:key|token|secret|password|api|own)|insert[-_ ]?your|replace[-_ ]?me|\*\*\*\*|<redacted>|sample[-_]?(?:key|token|secret)/i;

/** Passwords in URLs and configs that only name the slot. */
const PLACEHOLDER_VALUES = new Set([
  'password',
  'passwd',
  'pass',
  'pwd',
  'pw',
  'secret',
  'token',
  'apikey',
  'api_key',
  'mypassword',
  'test',
  'guest',
  'tiger', // Oracle's demo account, scott/tiger, in every database tutorial
  'bar',
  'baz',
  'foobar',
]);

/** True when `value` must not be reported (see the module comment for what counts). */
export function isAllowlisted(value: string): boolean {
  if (KNOWN_EXAMPLES.has(value) || KNOWN_EXAMPLES.has(value.replace(/[ -]/g, ''))) return true;
  if (isRepeatedCharacter(value) || isXFilled(value)) return true;
  if (PLACEHOLDER_VALUES.has(value.toLowerCase())) return true;
  if (PLACEHOLDER_WORDS.test(value)) return true;
  if (PLACEHOLDER_SHAPES.some((re) => re.test(value))) return true;
  // `+has-password` (a shell expansion's word), `pass%2Bword` (percent-encoded in a URL).
  const words = decodePercent(value).replace(/^[^A-Za-z0-9]+/, '');
  return SLOT_NAMES.some((re) => re.test(words));
}

function decodePercent(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * A run of x's that fills a third of the value or more, ignoring separators: `sk-ant-xxxx`,
 * `AKIAXXXXXXXXXXXXXXXX`, `xxxx-xxxx`. Not merely containing `xxxx`: about one random 40-character
 * key in 25,000 does, and a real key must never pass as a placeholder.
 */
function isXFilled(value: string): boolean {
  const compact = value.replace(/[\s._:/-]/g, '');
  const runs = compact.match(/x{4,}/gi);
  if (!runs) return false;
  const xs = runs.reduce((n, r) => n + r.length, 0);
  return xs * 3 >= compact.length;
}

/**
 * Mostly one character, ignoring separators: `xxxxxxxx`, `0000-0000-0000-0000`, and a real prefix
 * with a filler body such as `ghp_aaaa...`. A random value never has a run that long.
 */
function isRepeatedCharacter(value: string): boolean {
  const compact = value.replace(/[\s._:/-]/g, '').toLowerCase();
  if (compact.length === 0) return true;
  let longest = 1;
  let run = 1;
  for (let i = 1; i < compact.length; i++) {
    run = compact[i] === compact[i - 1] ? run + 1 : 1;
    if (run > longest) longest = run;
  }
  return longest >= compact.length * 0.8;
}

/**
 * Why `pattern` cannot be an allowlist entry, or undefined when it can: an entry must name
 * something, so `*` alone (or `**`) is refused; switching a kind off says that plainly.
 */
export function allowPatternError(pattern: string): string | undefined {
  if (pattern.length === 0 || pattern.length > 256) return 'must be 1 to 256 characters';
  if (!/[^*]/.test(pattern)) return 'would allow every value; set the kind to off instead';
  return undefined;
}

/**
 * A user's own allowlist (an org's `guard.allow`, `sluice scan --allow`): values that are not
 * findings there. An entry matches the whole value; `*` stands for any run of characters
 * (`*@acme-corp.io`, `sk-test-*`) and everything else is literal.
 */
export function allowMatcher(patterns: readonly string[]): (value: string) => boolean {
  if (patterns.length === 0) return () => false;
  const exact = new Set(patterns.filter((p) => !p.includes('*')));
  const globs = patterns.filter((p) => p.includes('*'));
  return (value) => exact.has(value) || globs.some((glob) => globMatches(glob, value));
}

/**
 * Wildcard matching in at most `glob.length × value.length` steps (a regex of many `*` could take
 * exponentially long on a value that almost matches): on a mismatch, the last `*` takes one more
 * character and the rest is tried again.
 */
function globMatches(glob: string, value: string): boolean {
  let g = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = v;
    } else if (g < glob.length && glob[g] === value[v]) {
      g++;
      v++;
    } else if (star >= 0) {
      g = star + 1;
      v = ++resume;
    } else return false;
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}
