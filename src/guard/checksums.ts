/** Check digits that separate real identifiers from look-alike numbers: Luhn (cards) and ISO 13616 mod 97 (IBAN). */

/** True when the digits of `value` (other characters ignored) pass the Luhn check. */
export function luhnValid(value: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let i = value.length - 1; i >= 0; i--) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) continue;
    digits++;
    let v = double ? d * 2 : d;
    if (v > 9) v -= 9;
    sum += v;
    double = !double;
  }
  return digits > 0 && sum % 10 === 0;
}

/** The Luhn check digit that completes `partial` (used to build test samples). */
export function luhnCheckDigit(partial: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(partial + d)) return String(d);
  return '0';
}

/** True when `iban` (spaces ignored, upper case) has a valid ISO 13616 mod-97 checksum. */
export function ibanChecksumValid(iban: string): boolean {
  const compact = iban.replace(/ /g, '');
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const v = code >= 65 && code <= 90 ? code - 55 : code - 48;
    if (v < 0 || v > 35) return false;
    rem = v > 9 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

/** Replaces the two check digits of `iban` (positions 3-4) so the checksum holds (for samples). */
export function withIbanCheckDigits(iban: string): string {
  const compact = iban.replace(/ /g, '');
  const body = compact.slice(4) + compact.slice(0, 2) + '00';
  let rem = 0;
  for (const ch of body) {
    const code = ch.charCodeAt(0);
    const v = code >= 65 && code <= 90 ? code - 55 : code - 48;
    rem = v > 9 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  const check = String(98 - rem).padStart(2, '0');
  return compact.slice(0, 2) + check + compact.slice(4);
}
