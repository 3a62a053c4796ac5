/**
 * CPU time of a server under test, the way it is billed: user + system time of every thread of its
 * process, read from /proc before and after a batch of requests (nanosecond `schedstat` per thread
 * where the kernel has it, else `stat`'s utime + stime in clock ticks).
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_NS = 1e9 / 100;

/** Nanoseconds of CPU `pid` has used so far (all its threads), or NaN when /proc cannot tell. */
export function cpuNs(pid: number): number {
  try {
    let sum = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const field = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0];
      sum += Number(field);
    }
    if (sum > 0) return sum;
  } catch {
    // a thread that ended between the listing and the read, or no schedstat: fall back to stat
  }
  try {
    // Fields after the command name (which may hold spaces, so split after its closing paren).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * TICK_NS;
  } catch {
    return NaN;
  }
}
