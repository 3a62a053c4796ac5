/** "Since when" as people write it: an ISO date, or a duration back from now (30m, 1h, 7d). */

/** The ISO time `value` names, or undefined when it is neither a date nor a duration. */
export function parseSince(value: string, now: Date): string | undefined {
  const m = /^(\d+)([smhd])$/.exec(value);
  if (m) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(m[1]) * unit).toISOString();
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** What `parseSince` accepts, for error messages. */
export const SINCE_EXPECTED = 'a date (2026-11-01) or a duration (30m, 1h, 7d)';
