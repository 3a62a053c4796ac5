/**
 * What a client asks the egress proxy for, read from the request line and headers alone: the
 * target (a CONNECT authority or an absolute http:// URL) and the Sluice key in the proxy
 * credentials. Pure, so a fuzzer can drive it; every refusal is a catalog error.
 */
import { domainToASCII } from 'node:url';
import ipaddr from 'ipaddr.js';
import { errors, type SluiceError } from '../errors/catalog.js';
import { canonicalAddress } from './addresses.js';
import { canonicalHost } from './policy.js';

export type ProxyTarget =
  /** CONNECT host:port: a TCP tunnel. */
  | { kind: 'tunnel'; host: string; port: number }
  /** A plain HTTP request forwarded as it is, to `path` on host:port with `hostHeader`. */
  | { kind: 'forward'; host: string; port: number; path: string; hostHeader: string };

export type ProxyRequest =
  | { ok: true; target: ProxyTarget; key: string | undefined }
  | {
      ok: false;
      error: SluiceError;
      key: string | undefined;
      /** Host and port as far as they could be read, so a refusal can be recorded for the key's user. */
      attempted?: { host: string; port: number };
    };

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>;

/** A DNS name as clients send it (after IDNA): letters, digits, `-` and `_`, dot-separated. */
const NAME = /^(?=.{1,254}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?$/;
const AUTHORITY = /^(\[[^\]\s]*\]|[^\s:[\]/?#@\\]+):(\d+)$/;

const first = (v: string | readonly string[] | undefined) => (typeof v === 'string' ? v : v?.[0]);

/** The password of `Proxy-Authorization: Basic base64(user:password)`: the Sluice key, if any. */
export function proxyCredential(header: string | undefined): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const password = decoded.slice(colon + 1);
  // Some clients percent-encode the password from the proxy URL; keys never contain `%`.
  try {
    return decodeURIComponent(password);
  } catch {
    return password;
  }
}

/**
 * The host as the proxy uses it: an IP literal in its one spelling (see canonicalAddress), a name
 * in lower case ASCII (IDNA) with its trailing dot kept (an absolute name resolves differently from
 * a relative one); undefined when it is neither.
 */
function readHost(text: string): string | undefined {
  if (text.startsWith('[')) return ipaddr.IPv6.isValid(text.slice(1, -1)) ? canonicalHost(text) : undefined;
  const literal = canonicalAddress(text.replace(/\.$/, ''));
  if (literal) return literal;
  const ascii = domainToASCII(text.toLowerCase());
  // IDNA can turn a name into an address (full-width digits): spell the result once more.
  const address = canonicalAddress(ascii.replace(/\.$/, ''));
  if (address) return address;
  return NAME.test(ascii) ? ascii : undefined;
}

const portError = (digits: string) =>
  errors.egressBadRequest(
    `port ${digits.length > 8 ? `${digits.slice(0, 8)}…` : digits} is out of range (1-65535).`,
  );

function tunnelTarget(url: string, key: string | undefined): ProxyRequest {
  const m = AUTHORITY.exec(url);
  const host = m ? readHost(m[1] as string) : undefined;
  if (!m || !host)
    return {
      ok: false,
      key,
      error: errors.egressBadRequest('CONNECT needs host:port (a name, an IPv4 address or [IPv6]).'),
    };
  const digits = m[2] as string;
  const port = Number(digits);
  if (port < 1 || port > 65535)
    return {
      ok: false,
      key,
      error: portError(digits),
      ...(digits.length <= 5 ? { attempted: { host, port } } : {}),
    };
  return { ok: true, key, target: { kind: 'tunnel', host, port } };
}

function forwardTarget(url: string, key: string | undefined): ProxyRequest {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const host = parsed?.protocol === 'http:' ? readHost(parsed.hostname) : undefined;
  if (!parsed || !host)
    return {
      ok: false,
      key,
      error: errors.egressBadRequest('expected an absolute http:// URL (use CONNECT for https).'),
    };
  // URL() already refuses ports above 65535; port 0 is left.
  const port = Number(parsed.port || 80);
  if (port < 1) return { ok: false, key, error: portError(parsed.port), attempted: { host, port } };
  const path = parsed.pathname + parsed.search;
  return { ok: true, key, target: { kind: 'forward', host, port, path, hostHeader: parsed.host } };
}

/**
 * The target and key of one proxy request. Ports outside 1-65535, hosts that are neither a name
 * nor an address, and anything but CONNECT or an absolute http:// URL are refused (400).
 */
export function parseProxyRequest(
  method: string | undefined,
  url: string | undefined,
  headers: Headers,
): ProxyRequest {
  const key = proxyCredential(first(headers['proxy-authorization']));
  return method === 'CONNECT' ? tunnelTarget(url ?? '', key) : forwardTarget(url ?? '', key);
}
