/**
 * The read and inspect stages' own cost per request over many sessions' worth of cache entries:
 * bench/gateway.ts's 90 KB Claude Code-shaped body, one conversation, each request a new newest
 * turn (so the guard's content cache gains an entry per request, as under real load), read with the
 * previous body (`readMessagesBody`) and inspected with its results (`inspect`), in this process.
 * Prints CPU ms per request (process user + system, so time spent waiting for a core on a loaded
 * machine is left out) after the first 500, and the cache's entries at the end.
 *
 * Run: node --import tsx bench/gateway/inspect-cache.ts [requests] (default 5000)
 */
import type { OrgConfig } from '../../src/control/config.js';
import { readMessagesBody, type Resume } from '../../src/gateway/body.js';
import { inspect, priorOf } from '../../src/gateway/inspect.js';
import { ScanCache } from '../../src/guard/cache.js';
import { messagesBody } from './body.js';

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const requests = Number(process.argv[2] ?? 5000);
const body = messagesBody(90 * 1024, true);
const cache = new ScanCache(64 * 1024 * 1024);
const org = {
  guard: { secrets: 'redact', pii: 'log', piiKinds: {}, allow: [], timeoutMs: 1000 },
  restore: false,
} as unknown as OrgConfig;
let previous: Resume | undefined;
let read = 0;
let inspected = 0;
for (let n = 0; n < requests; n++) {
  const b = body.make(n);
  const t0 = cpuMs();
  const message = readMessagesBody(b, true, previous);
  const t1 = cpuMs();
  const result = inspect(b, message.content, org, cache, Date.now() + 1000, priorOf(message));
  const t2 = cpuMs();
  message.resume.results = result.results;
  previous = message.resume;
  if (n >= 500) {
    read += t1 - t0;
    inspected += t2 - t1;
  }
}
const per = (ms: number) => (ms / Math.max(1, requests - 500)).toFixed(4);
console.log(`read ${per(read)} ms, inspect ${per(inspected)} ms per request; ${cache.size} cache entries`);
