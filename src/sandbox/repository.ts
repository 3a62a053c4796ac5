/**
 * Repository addresses: the one form Sluice compares (`host/path`, lower-case host, no `.git`, no
 * trailing slash), the patterns an org allows (an exact URL, or `…/*` for every repository directly
 * under a path), and which configured forge serves a URL.
 */

export interface RepositoryAddress {
  /** `https:` or `http:` (http only for a loopback host). */
  protocol: 'https:' | 'http:';
  /** Host with port when not the protocol's default, lower-case. */
  host: string;
  /** Path segments without `.git` on the last one, e.g. `['acme', 'widgets']`. */
  segments: string[];
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;
const SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** Why `text` is not a usable forge or repository URL, or null when it is. */
export function urlProblem(text: string, allowStar = false): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'expected a URL such as https://github.com/acme/widgets.git';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'expected an https:// URL';
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname))
    return 'expected https:// (http:// is accepted only for a loopback host)';
  if (url.username || url.password) return 'must not carry credentials; put the token under forges:';
  if (url.search || url.hash) return 'must not have a query or fragment';
  const segments = url.pathname.split('/').filter(Boolean);
  const last = segments.length - 1;
  for (const [i, s] of segments.entries())
    if (!(SEGMENT.test(s) && s !== '.' && s !== '..') && !(allowStar && i === last && s === '*'))
      return `path segment "${decodeURIComponent(s)}" is not allowed (letters, digits, . _ ~ - only${allowStar ? '; * only as the last segment' : ''})`;
  return null;
}

/** Parses a URL that `urlProblem` accepted. */
export function parseRepository(text: string): RepositoryAddress {
  const problem = urlProblem(text, true);
  if (problem) throw new Error(`${text}: ${problem}`);
  const url = new URL(text);
  const segments = url.pathname.split('/').filter(Boolean);
  const last = segments.length - 1;
  if (last >= 0) segments[last] = (segments[last] as string).replace(/\.git$/, '');
  return { protocol: url.protocol as 'https:' | 'http:', host: url.host.toLowerCase(), segments };
}

/** `https://github.com/acme/widgets` for any spelling of the same repository. */
export function canonicalRepository(text: string): string {
  const a = parseRepository(text);
  return `${a.protocol}//${a.host}/${a.segments.join('/')}`;
}

/** Is `base` (a forge's base URL) a prefix, segment-wise, of `repo`? */
export function isUnder(repo: string, base: string): boolean {
  const r = parseRepository(repo);
  const b = parseRepository(base);
  return (
    r.protocol === b.protocol &&
    r.host === b.host &&
    r.segments.length > b.segments.length &&
    b.segments.every((s, i) => s === r.segments[i])
  );
}

/** Does the repository `repo` match `pattern` (an exact URL, or one ending in `/*`)? */
export function matchesPattern(repo: string, pattern: string): boolean {
  const r = parseRepository(repo);
  const p = parseRepository(pattern);
  if (r.protocol !== p.protocol || r.host !== p.host) return false;
  if (p.segments.at(-1) === '*')
    return (
      r.segments.length === p.segments.length && p.segments.slice(0, -1).every((s, i) => s === r.segments[i])
    );
  return r.segments.length === p.segments.length && p.segments.every((s, i) => s === r.segments[i]);
}

/** The repository's last path segment, for the clone's folder name. */
export function repositoryName(repo: string): string {
  return parseRepository(repo).segments.at(-1) ?? 'repository';
}
