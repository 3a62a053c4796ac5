/** Keeping secrets out of output: mask detected values and credential-named variables before printing. */
import { isRecord } from './files.js';
import type { Inspector } from './types.js';

/** Variable names that hold credentials whatever their value looks like. */
const CREDENTIAL_NAME =
  /(API_?KEY|AUTH_?TOKEN|ACCESS_?KEY|SECRET|PASSWORD|PASSWD|PASSPHRASE|_TOKEN|CREDENTIALS?)$/i;

export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}

/** A literal worth reporting: not empty, not a `${VAR}` reference, not a placeholder. */
export function isLiteralSecret(value: string): boolean {
  const v = value.trim();
  return v.length >= 8 && !/^\$\{?[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}?$/.test(v) && !/^<.*>$/.test(v);
}

/** `text` with every secret the inspector finds replaced by its mask. */
export function redactText(text: string, inspector: Inspector): string {
  const detections = inspector.scan(text).sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const d of detections) {
    if (d.start < at) continue;
    out += text.slice(at, d.start) + inspector.mask(text.slice(d.start, d.end));
    at = d.end;
  }
  return out + text.slice(at);
}

/** A deep copy of `value` with secrets masked in every string, and whole values masked under credential-named keys. */
export function redactDeep(value: unknown, inspector: Inspector, key = ''): unknown {
  if (typeof value === 'string') {
    return key && isCredentialName(key) && isLiteralSecret(value)
      ? inspector.mask(value)
      : redactText(value, inspector);
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, inspector));
  if (isRecord(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, inspector, k)]));
  }
  return value;
}
