/**
 * Fuzz target: the egress proxy's request parser (`parseProxyRequest`, src/egress/request.ts).
 *
 * An input is `M url [0x00 proxy-authorization]`: its first byte picks the method (CONNECT, GET,
 * POST, or the word up to the first space when the byte is `~`), the rest up to a 0x00 byte is the
 * request target, and what follows one is the Proxy-Authorization header. Properties:
 * - it never throws: every refusal is a value;
 * - a refusal is `egress_bad_request` (400, "Sluice egress: …"), and the host and port it kept for
 *   the record, if any, are a host the policy can check and a port of at most five digits;
 * - a target's port is an integer in 1-65535, and its host is one the policy can check: an IP
 *   literal in ipaddr.js's one spelling (never an IPv4-mapped IPv6 one), or a lower-case ASCII DNS
 *   name that does not spell an address; `canonicalHost` (what rules compare) changes nothing but a
 *   trailing dot;
 * - the host and port are a fixed point: CONNECT to them again gives them again;
 * - without the header there is no key; parsing is a function of the input (twice gives the same).
 */
import { isDeepStrictEqual } from 'node:util';
import ipaddr from 'ipaddr.js';
import { canonicalAddress } from '../../../src/egress/addresses.js';
import { canonicalHost } from '../../../src/egress/policy.js';
import { parseProxyRequest, type ProxyRequest } from '../../../src/egress/request.js';

const NAME = /^[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?$/;
const METHODS = ['CONNECT', 'GET', 'POST'];

export function fuzz(data: Buffer): void {
  const text = data.subarray(1).toString('utf8');
  const nul = text.indexOf('\u0000');
  let url = nul < 0 ? text : text.slice(0, nul);
  const auth = nul < 0 ? undefined : text.slice(nul + 1);
  let method = METHODS[(data[0] ?? 0) % METHODS.length] as string;
  if (data[0] === 0x7e) {
    const space = url.indexOf(' ');
    method = space < 0 ? url : url.slice(0, space);
    url = space < 0 ? '' : url.slice(space + 1);
  }
  const headers: Record<string, string> = auth === undefined ? {} : { 'proxy-authorization': auth };
  const r = parse(method, url, headers);
  if (!isDeepStrictEqual(show(r), show(parse(method, url, headers)))) throw new Error('two parses differ');
  if (auth === undefined && r.key !== undefined)
    throw new Error('a key without a Proxy-Authorization header');
  if (!r.ok) {
    const e = r.error;
    if (e.code !== 'egress_bad_request' || e.status !== 400 || !e.message.startsWith('Sluice egress: '))
      throw new Error(`a refusal that is not egress_bad_request: ${e.code} ${e.message}`);
    if (r.attempted) {
      checkHost(r.attempted.host);
      if (!Number.isInteger(r.attempted.port) || r.attempted.port < 0 || r.attempted.port > 99_999)
        throw new Error(`attempted port ${r.attempted.port} cannot be recorded`);
    }
    return;
  }
  const { host, port } = r.target;
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`port ${port} out of range`);
  checkHost(host);
  const again = parse('CONNECT', `${host.includes(':') ? `[${host}]` : host}:${port}`, {});
  if (!again.ok || again.target.host !== host || again.target.port !== port)
    throw new Error(`${host}:${port} is not a fixed point: ${JSON.stringify(show(again))}`);
  if (r.target.kind === 'forward' && !r.target.path.startsWith('/'))
    throw new Error(`forward path ${r.target.path} does not start with /`);
}

function parse(method: string, url: string, headers: Record<string, string>): ProxyRequest {
  try {
    return parseProxyRequest(method, url, headers);
  } catch (err) {
    throw new Error(`parseProxyRequest threw: ${err instanceof Error ? err.stack : String(err)}`, {
      cause: err,
    });
  }
}

const show = (r: ProxyRequest) => (r.ok ? r : { ...r, error: [r.error.code, r.error.message] });

/** A host the egress policy can check: one spelling of an address, or a plain DNS name. */
function checkHost(host: string): void {
  if (ipaddr.isValid(host)) {
    if (canonicalAddress(host) !== host) throw new Error(`address ${host} is not in its one spelling`);
    const a = ipaddr.parse(host);
    if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress())
      throw new Error(`address ${host} is IPv4 spelled as IPv6`);
    if (a.toString() !== host) throw new Error(`address ${host} is not ipaddr.js's spelling ${a.toString()}`);
  } else {
    if (!NAME.test(host) || host.length > 254)
      throw new Error(`host ${JSON.stringify(host)} is not a DNS name`);
    if (canonicalAddress(host.replace(/\.$/, '')) !== undefined)
      throw new Error(`name ${host} spells an address`);
  }
  if (canonicalHost(host) !== host.replace(/\.$/, ''))
    throw new Error(`rules would compare ${host} as ${canonicalHost(host)}`);
}
