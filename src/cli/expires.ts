/** `--expires` of `keys create`, and the `expires` column of its CSV. */
import { CliError } from './exit.js';

/** `--expires`: a duration from `now` (30m, 8h, 7d) or a date; it must lie in the future. */
export function parseExpires(value: string, now: Date): Date {
  const m = /^(\d+)([mhd])$/.exec(value);
  const at = m
    ? new Date(now.getTime() + Number(m[1]) * { m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'm' | 'h' | 'd'])
    : new Date(Date.parse(value));
  if (Number.isNaN(at.getTime()))
    throw new CliError(`--expires: expected a duration (30m, 8h, 7d) or a date (2026-12-01), got "${value}"`);
  if (at.getTime() <= now.getTime())
    throw new CliError(`--expires: ${at.toISOString()} is not in the future`);
  return at;
}
