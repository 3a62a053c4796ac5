/**
 * Deterministic random-looking sample values for the rules' self-tests. Samples are assembled at
 * run time so that the repository itself holds no string a secret scanner would flag.
 */

export const DIGITS = '0123456789';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const HEX = DIGITS + 'abcdef';
export const ALNUM = UPPER + LOWER + DIGITS;
export const UPPER_ALNUM = UPPER + DIGITS;
export const LOWER_ALNUM = LOWER + DIGITS;
export const BASE64URL = ALNUM + '-_';
export const BASE64 = ALNUM + '+/';
export const BASE32 = UPPER + '234567';

/** `length` characters from `alphabet`, the same for the same `seed`. */
export function fake(alphabet: string, length: number, seed: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  let x = h >>> 0 || 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += alphabet[(x >>> 0) % alphabet.length];
  }
  return out;
}

/** A value shown in the places secrets usually sit: env files, JSON, YAML, code, a shell command. */
export function inContexts(value: string, name = 'TOKEN'): string[] {
  return [
    `${name}=${value}`,
    `{"${name.toLowerCase()}": "${value}"}`,
    `  ${name.toLowerCase()}: '${value}'`,
    `const client = new Client({ key: "${value}" });`,
    `curl -H "Authorization: Bearer ${value}" https://api.internal.test/v1`,
  ];
}
