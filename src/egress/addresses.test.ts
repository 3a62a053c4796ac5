import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalAddress, isNeverADestination, nonPublicRange } from './addresses.js';

describe('egress addresses', () => {
  it('every spelling of an address has one canonical form; names have none', () => {
    const cases: [string, string | undefined][] = [
      ['::ffff:7f00:1', '127.0.0.1'],
      ['[::ffff:7f00:1]', '127.0.0.1'],
      ['::FFFF:127.0.0.1', '127.0.0.1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['0000::0001', '::1'],
      ['0::', '::'],
      ['::ffff:a9fe:a9fe', '169.254.169.254'],
      ['::ffff:0a00:0001', '10.0.0.1'],
      ['2606:4700:0000::1111', '2606:4700::1111'],
      // inet_aton forms, as the system resolver would read them
      ['127.1', '127.0.0.1'],
      ['0x7f.1', '127.0.0.1'],
      ['2130706433', '127.0.0.1'],
      ['example.com', undefined],
      ['localhost', undefined],
    ];
    for (const [text, canonical] of cases) assert.equal(canonicalAddress(text), canonical, text);
  });

  it('only public unicast passes; every other range is named', () => {
    const refused: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'linkLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['192.0.2.10', 'reserved'],
      ['198.18.0.1', 'reserved'],
      ['240.0.0.1', 'reserved'],
      ['::1', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'linkLocal'],
      ['fd00::1', 'uniqueLocal'],
      ['fc00::1', 'uniqueLocal'],
      ['fec0::1', 'deprecatedSiteLocal'],
      ['ff02::1', 'multicast'],
      ['2001:db8::1', 'reserved'],
      ['100::1', 'discard'],
      // IPv4 carried in IPv6: mapped (read as IPv4), translated, NAT64, 6to4; Teredo always refused
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:a9fe:a9fe', 'linkLocal'],
      ['::ffff:0:7f00:1', 'rfc6145 of loopback'],
      ['64:ff9b::a9fe:a9fe', 'rfc6052 of linkLocal'],
      ['64:ff9b::a00:1', 'rfc6052 of private'],
      ['64:ff9b:1::808:808', 'rfc6052'],
      ['2002:7f00:1::', '6to4 of loopback'],
      ['2002:c0a8:101::1', '6to4 of private'],
      ['2001::1', 'teredo'],
      // outside 2000::/3: unassigned (and the deprecated IPv4-compatible ::a.b.c.d written in hex)
      ['::7f00:1', 'reserved'],
      ['4000::1', 'reserved'],
    ];
    for (const [ip, range] of refused) assert.equal(nonPublicRange(ip), range, ip);
    for (const ip of ['8.8.8.8', '172.32.0.1', '2606:4700::1111', '64:ff9b::808:808', '2002:808:808::1'])
      assert.equal(nonPublicRange(ip), null, ip);
    assert.equal(nonPublicRange('example.com'), 'not-an-address');
  });

  it('unspecified, multicast and broadcast are never a destination, even when a rule names them', () => {
    for (const ip of ['0.0.0.0', '::', '[0::]', '224.0.0.1', 'ff02::1', '255.255.255.255'])
      assert.ok(isNeverADestination(ip), ip);
    for (const ip of ['127.0.0.1', '10.0.0.1', '::1', '8.8.8.8']) assert.ok(!isNeverADestination(ip), ip);
  });
});
