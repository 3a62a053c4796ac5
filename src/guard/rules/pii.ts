/**
 * Personal data. Each rule's id is its kind (`email`, `phone`, `credit-card`, `iban`, `us-ssn`) so an
 * org can switch kinds on or off. Patterns are conservative and backed by checksums where one exists.
 */
import { ibanChecksumValid, luhnCheckDigit, luhnValid, withIbanCheckDigits } from '../checksums.js';
import type { DetectionRule } from '../types.js';
import { DIGITS, fake } from './fake.js';

/*
 * Number-shaped values have keywords too: the automaton folds every digit to `0`, so `0000` is any
 * four digits and `000-00-0000` any SSN-shaped run. Each keyword below sits at a fixed place in every
 * match (its start, or after at most `keywordWithin` characters), and the context is the pattern's own
 * lookbehind, so the regex runs only where a match could begin.
 */

const FILE_EXTENSIONS = new Set(
  'png jpg jpeg gif svg webp ico js mjs cjs ts tsx jsx css scss less map json html htm txt lock yml yaml rb java kt swift cpp exe dll zip gz tar wasm'.split(
    ' ',
  ),
);

/**
 * Mailboxes no person reads, whatever the domain: Claude Code's own system prompt carries
 * `noreply@anthropic.com` (its Co-Authored-By line) in every request. An org adds its own
 * non-personal addresses with `guard.allow` (`support@acme-corp.io`, `*@bots.acme-corp.io`).
 */
const NON_PERSONAL_MAILBOXES =
  /^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?)$/i;

function plausibleEmail(v: string): boolean {
  const at = v.lastIndexOf('@');
  const local = v.slice(0, at);
  const labels = v.slice(at + 1).split('.');
  if (local === 'git' || FILE_EXTENSIONS.has((labels.at(-1) ?? '').toLowerCase())) return false;
  if (NON_PERSONAL_MAILBOXES.test(local)) return false;
  return labels.every((l) => !l.startsWith('-') && !l.endsWith('-'));
}

/** Digits that are a number in code or a filler, not a phone: INT_MAX and friends, `1234567`, `555555`. */
const NOT_A_NUMBER_TO_CALL =
  /^(?:2147483647|2147483648|4294967295|4294967296|9007199254740991)$|1234567|2345678|3456789|9876543|(\d)\1{5}/;

/**
 * A North American number (10 digits after an optional `1`) that is a real subscriber's: area code
 * and exchange start with 2–9, and not 555-0100–0199 (kept for fiction) or 555-1212 (directory
 * assistance).
 */
function plausibleNanp(ten: string): boolean {
  if (!/^[2-9]\d\d[2-9]/.test(ten)) return false;
  return !(ten.slice(3, 6) === '555' && (ten.slice(6, 8) === '01' || ten.slice(6) === '1212'));
}

function plausiblePhone(v: string): boolean {
  const digits = v.replace(/\D/g, '');
  if (NOT_A_NUMBER_TO_CALL.test(digits)) return false;
  if (!v.startsWith('+')) return digits.length === 10 && plausibleNanp(digits);
  if (digits.length === 11 && digits.startsWith('1')) return plausibleNanp(digits.slice(1));
  return digits.length >= 10 && digits.length <= 15;
}

const CARD_GROUPINGS = new Set(['4,4,4,4', '4,4,4,4,3', '4,6,5', '4,6,4', '4,4,4,1', '4,4,4,4,2']);

/** Issuer prefix and length: Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay, Maestro. */
function knownIssuer(d: string): boolean {
  const n = d.length;
  if (d.startsWith('4')) return n === 13 || n === 16 || n === 19;
  if (/^(?:5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))/.test(d)) return n === 16;
  if (/^3[47]/.test(d)) return n === 15;
  if (/^(?:6011|65|64[4-9]|62|35(?:2[89]|[3-8]\d))/.test(d)) return n >= 16 && n <= 19;
  if (/^(?:36|38|39|30[0-5])/.test(d)) return n >= 14 && n <= 19;
  if (/^(?:5018|5020|5038|5893|6304|6759|676[1-3])/.test(d)) return n >= 12 && n <= 19;
  return false;
}

function plausibleCard(v: string): boolean {
  const groups = v.split(/[ -]/);
  if (groups.length > 1) {
    const separators = new Set(v.replace(/\d/g, ''));
    if (separators.size !== 1 || !CARD_GROUPINGS.has(groups.map((g) => g.length).join(','))) return false;
  }
  const digits = groups.join('');
  // Five zeros in a row: a processor's test number (`6011000000000004`), almost never a real one.
  if (digits.includes('00000')) return false;
  return digits.length >= 13 && digits.length <= 19 && knownIssuer(digits) && luhnValid(digits);
}

const IBAN_LENGTHS: Record<string, number> = Object.fromEntries(
  (
    'AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ES24 ' +
    'FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 ' +
    'LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 ' +
    'SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20'
  )
    .split(' ')
    .map((e) => [e.slice(0, 2), Number(e.slice(2))]),
);

function plausibleIban(v: string): boolean {
  const compact = v.replace(/ /g, '');
  return IBAN_LENGTHS[compact.slice(0, 2)] === compact.length && ibanChecksumValid(compact);
}

const card = (prefix: string, length: number, seed: string) => {
  const body = prefix + fake(DIGITS, length - prefix.length - 1, seed);
  return body + luhnCheckDigit(body);
};
const spaced = (d: string, sep = ' ') => d.match(/.{1,4}/g)?.join(sep) ?? d;
const visa = card('4', 16, 'visa');
const mastercard = card('5', 16, 'mc').replace(/^5\d/, '54');
const amex = card('37', 15, 'amex');
const iban = (country: string, bban: string) => withIbanCheckDigits(country + '00' + bban);
const de = iban('DE', '3704' + fake(DIGITS, 14, 'iban-de'));
const gb = iban('GB', 'NWBK' + fake(DIGITS, 14, 'iban-gb'));

export const piiRules: DetectionRule[] = [
  {
    id: 'email',
    kind: 'pii',
    description: 'E-mail address',
    keywords: ['@'],
    keywordWithin: 64,
    // `@param`, `@types/x`, `@Component` and `"@"` end here, before any regex runs.
    keywordContext: { before: '[A-Za-z0-9._%+-]', after: '[A-Za-z0-9-]' },
    pattern:
      // Not the user-info of a URL (`scheme://key@host`, `scheme://user:pa&ss@host`): other rules own those.
      /(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}(?<!\/\/[^\s/?#@"'`]{0,256})@(?:[A-Za-z0-9-]{1,40}\.){1,4}[A-Za-z]{2,18}(?![A-Za-z0-9-])/,
    validate: plausibleEmail,
    samples: {
      tp: [
        'contact: jane.doe@acme-corp.io',
        'From: "Jane" <j.doe+billing@mail.acme.co.uk>',
        'owner=ops.team@fabrikam.de',
        'Co-Authored-By: Jane Doe <jane.doe@anthropic.com>',
      ],
      fp: [
        '@types/node',
        'import x from "lodash@4.17.21"',
        'logo@2x.png',
        'git@github.com:acme/app.git',
        'postgres://app:s3cretPassw0rd@db.internal:5432/app',
        'mysql://billing:kFGuY7op&22@mysql.internal:3306/billing',
        'https://0123456789abcdef0123456789abcdef@o12345.ingest.sentry.io/42',
        'user@example.com',
        '@param name',
        'Co-Authored-By: Claude <noreply@anthropic.com>',
        'From: GitHub <no-reply@github.com>',
        'Delivery failed: MAILER-DAEMON@mx.acme-corp.io',
      ],
    },
  },
  {
    id: 'phone',
    kind: 'pii',
    description: 'Phone number (E.164 with +country code, or NANP with separators)',
    // E.164 starts with `+` and a digit; NANP ends with a separator and four digits, 9 characters in.
    keywords: ['+0', ' 0000', '.0000', '-0000'],
    keywordWithin: 9,
    pattern:
      /(?<![\w+.)\]-])(?:\+[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}|\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]\d{4})(?![\w.-])/,
    validate: plausiblePhone,
    samples: {
      tp: [
        'call +14155552671 today',
        'Tel: +44 20 7946 0958',
        'phone: (415) 555-2671',
        'cell 212-864-0198',
        '+49 30 90182736',
        'Tél : +33 1 42 68 53 00',
      ],
      fp: [
        'version 2024-01-15',
        'ip 192.168.100.1',
        'ts=1700000000',
        'order 555-1234',
        'id: 123456789012',
        '+1 2024',
        'directory assistance: (800) 555-1212',
        'cell 212-555-0198',
        '+1-123-555-1234',
        'if the value is -2147483648, return +2147483647',
        'h = this.imul(h, 5)+3864292196;',
        'expect(parse("+1234567890")).toBe(true)',
        '"+100555555555555", // the longest',
      ],
    },
  },
  {
    id: 'credit-card',
    kind: 'pii',
    description: 'Payment card number (known issuer prefix, Luhn-valid, 13-19 digits)',
    // Four digits open every match, so only the first four of a run can be its start.
    keywords: ['0000'],
    keywordWithin: 0,
    keywordContext: { before: '[^\\w.+-]' },
    pattern: /(?<![\w.+-])[2-6]\d{3}(?:[ -]?\d){9,15}(?![\w.-]|[ -]\d)/,
    validate: plausibleCard,
    samples: {
      tp: [
        `card: ${visa}`,
        `pan=${spaced(visa)}`,
        `MC ${spaced(mastercard, '-')}`,
        `amex ${amex.slice(0, 4)} ${amex.slice(4, 10)} ${amex.slice(10)}`,
      ],
      fp: [
        'Discover test card "6450000000000002"',
        'visa13: 4007000000027',
        '4111 1111 1111 1111',
        '4242424242424242',
        `${visa.slice(0, 15)}${(Number(visa.at(-1)) + 1) % 10}`,
        '1234 5678 9012 3456',
        'ts 1700000000000',
        `${spaced(visa).slice(0, 9)}-${spaced(visa).slice(10)}`,
      ],
    },
  },
  {
    id: 'iban',
    kind: 'pii',
    description: 'International Bank Account Number (country length and mod-97 checksum)',
    // The country code and the two check digits open every match.
    keywords: Object.keys(IBAN_LENGTHS).map((country) => `${country.toLowerCase()}00`),
    keywordWithin: 0,
    keywordContext: { before: '[^A-Za-z0-9]' },
    pattern: /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])/,
    validate: plausibleIban,
    samples: {
      tp: [`IBAN: ${de}`, `iban ${spaced(gb)}`],
      fp: [
        'example: DE89370400440532013000',
        'GB29 NWBK 6016 1331 9268 19',
        `IBAN: ${de.slice(0, 2)}${(Number(de.slice(2, 4)) + 1) % 100}${de.slice(4)}`,
        'DE00 0000 0000 0000 0000 00',
        'AB12 3456 7890',
      ],
    },
  },
  {
    id: 'us-ssn',
    kind: 'pii',
    description: 'US Social Security number (AAA-GG-SSSS, valid area/group/serial)',
    // The whole shape is the keyword (every digit folds to `0`).
    keywords: ['000-00-0000'],
    keywordWithin: 0,
    keywordContext: { before: '[^\\w-]', after: '[^\\w-]' },
    pattern: /(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])/,
    samples: {
      tp: ['SSN: 536-22-8175', 'ssn=401-84-3310'],
      fp: [
        '000-12-3456',
        '666-12-3456',
        '912-34-5678',
        '536-00-8175',
        '536-22-0000',
        '123-45-6789',
        '078-05-1120',
        'v2-536-22-8175',
      ],
    },
  },
];
