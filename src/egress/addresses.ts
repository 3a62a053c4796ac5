/**
 * IP addresses as the egress proxy sees them: one spelling per address (so a policy rule and the
 * private-address check cannot be bypassed by writing an address differently), and which addresses
 * are public unicast. Parsing and the range table are ipaddr.js's; what Sluice refuses is decided here.
 */
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Never a destination, not even for a host written out in an allow rule. */
const NEVER = new Set(['unspecified', 'multicast', 'broadcast']);

/** Global unicast IPv6 (2000::/3); anything outside it that ipaddr.js calls unicast is unassigned. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
/** The well-known NAT64 prefix (RFC 6052); its local-use sibling 64:ff9b:1::/48 is refused. */
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

function parse(text: string): Address | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!ipaddr.isValid(bare)) return undefined;
  // process() turns an IPv4-mapped IPv6 address (::ffff:a.b.c.d) into the IPv4 address it carries.
  return ipaddr.process(bare);
}

/**
 * The one spelling of an IP address literal (`[0::1]`, `0:0:0:0:0:0:0:1` and `::1` are `::1`;
 * `::ffff:7f00:1` and `127.1` are `127.0.0.1`), or undefined when `text` is a name.
 */
export function canonicalAddress(text: string): string | undefined {
  return parse(text)?.toString();
}

/** The IPv4 address carried in the low 32 bits of an IPv6 address. */
const low32 = (a: ipaddr.IPv6): ipaddr.IPv4 => {
  const b = a.toByteArray();
  return new ipaddr.IPv4(b.slice(12, 16));
};

/** The IPv4 address an IPv6 address embeds, for the embeddings that route to IPv4 hosts. */
function embeddedIPv4(a: ipaddr.IPv6, range: string): ipaddr.IPv4 | undefined {
  if (range === 'rfc6145') return low32(a);
  if (range === 'rfc6052' && a.match(NAT64_WELL_KNOWN)) return low32(a);
  // 6to4 (RFC 3056): 2002:AABB:CCDD::/48 routes to AA.BB.CC.DD.
  if (range === '6to4') return new ipaddr.IPv4(a.toByteArray().slice(2, 6));
  return undefined;
}

/**
 * Why an address is not a public unicast destination (`loopback`, `private`, `linkLocal`,
 * `uniqueLocal`, `carrierGradeNat`, `reserved`, `6to4 of private`, ...), or null when it is one.
 * Only ipaddr.js's `unicast` passes: every special-purpose range of its table is refused, IPv6
 * outside 2000::/3 is refused, and NAT64 (64:ff9b::/96), 6to4 and IPv4-translated addresses are
 * judged by the IPv4 address they embed. Teredo is refused outright: its embedded client address
 * is not a server one could mean to reach.
 */
export function nonPublicRange(text: string): string | null {
  const a = parse(text);
  if (!a) return 'not-an-address';
  const range = a.range();
  if (a.kind() === 'ipv4') return range === 'unicast' ? null : range;
  const v6 = a as ipaddr.IPv6;
  const inner = embeddedIPv4(v6, range);
  if (inner) {
    const innerRange = inner.range();
    return innerRange === 'unicast' ? null : `${range} of ${innerRange}`;
  }
  if (range !== 'unicast') return range;
  return v6.match(GLOBAL_UNICAST_V6) ? null : 'reserved';
}

/** An address no allow rule can open: unspecified (which reaches the local host), multicast, broadcast. */
export function isNeverADestination(text: string): boolean {
  const a = parse(text);
  return !a || NEVER.has(a.range());
}
