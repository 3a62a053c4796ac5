/** Key material and signed tokens: PEM / OpenSSH / PGP private key blocks, JSON Web Tokens. */
import type { DetectionRule } from '../types.js';
import { BASE64, BASE64URL, fake } from './fake.js';

const pem = (label: string, lines: number, seed: string, newline = '\n'): string =>
  [
    `-----BEGIN ${label}-----`,
    ...(label.includes('PGP') ? ['Version: Keybase OpenPGP v2.1.15', ''] : []),
    ...Array.from({ length: lines }, (_, i) => fake(BASE64, 64, `${seed}-${i}`)),
    `-----END ${label}-----`,
  ].join(newline);

const b64url = (s: string) => Buffer.from(s).toString('base64url');
const jwt = (payload: object, seed: string) =>
  b64url('{"alg":"HS256","typ":"JWT"}') +
  '.' +
  b64url(JSON.stringify(payload)) +
  '.' +
  fake(BASE64URL, 43, seed);

export const keyRules: DetectionRule[] = [
  {
    id: 'private-key',
    kind: 'secret',
    description: 'Private key block (PKCS#1/#8 RSA, EC, DSA, OpenSSH, encrypted, PGP)',
    keywords: ['private key'],
    keywordWithin: 35,
    // The body stops at the first "-----", so a header without its footer costs one short look.
    pattern:
      /-----BEGIN[ A-Z0-9]{0,24} PRIVATE KEY(?: BLOCK)?-----(?:[^-]|-(?!----)){20,16384}-----END[ A-Z0-9]{0,24} PRIVATE KEY(?: BLOCK)?-----/,
    samples: {
      tp: [
        pem('RSA ' + 'PRIVATE KEY', 12, 'rsa'),
        pem('PRIVATE KEY', 6, 'pkcs8'),
        pem('EC ' + 'PRIVATE KEY', 3, 'ec'),
        pem('OPENSSH ' + 'PRIVATE KEY', 7, 'openssh'),
        pem('ENCRYPTED ' + 'PRIVATE KEY', 8, 'enc'),
        pem('DSA ' + 'PRIVATE KEY', 5, 'dsa'),
        pem('PGP ' + 'PRIVATE KEY BLOCK', 10, 'pgp'),
        `key = "${pem('RSA ' + 'PRIVATE KEY', 4, 'json', '\\n')}"`,
      ],
      fp: [
        pem('PUBLIC KEY', 4, 'pub'),
        pem('CERTIFICATE', 10, 'cert'),
        '-----BEGIN RSA ' + 'PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----',
        '-----BEGIN ' + 'PRIVATE KEY-----' + fake(BASE64, 200, 'nofooter'),
      ],
    },
  },
  {
    id: 'jwt',
    kind: 'secret',
    description: 'JSON Web Token (header.payload.signature, base64url JSON)',
    keywords: ['eyj'],
    keywordWithin: 0,
    pattern:
      /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,2048}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{16,2048}(?![A-Za-z0-9_-])/,
    samples: {
      tp: [
        jwt({ sub: 'u_81ac2', iss: 'https://auth.acme.io', exp: 1893456000 }, 'jwt1'),
        `Authorization: Bearer ${jwt({ sub: '42', role: 'admin' }, 'jwt2')}`,
      ],
      fp: [
        b64url('{"alg":"none"}') + '.' + b64url('{"sub":"1"}') + '.',
        'eyJ' + fake(BASE64URL, 60, 'notjwt'),
      ],
    },
  },
];
