/**
 * Catch-all rules: values assigned to names like `password`, `secret`, `api_key`, `token`, and
 * credentials in HTTP headers and URLs. They need an entropy floor and lose to a specific rule.
 */
import type { DetectionRule } from '../types.js';
import { isAllowlisted } from '../allowlist.js';
import { assignment } from './define.js';
import { ALNUM, BASE64, BASE64URL, fake } from './fake.js';

/** A bare or dotted identifier without digits (`getPassword`, `config.db.password`) is code, not a value. */
const notCode = (value: string): boolean =>
  !/^[A-Za-z_$][\w$]{0,127}(?:\.[A-Za-z_$][\w$]{0,127}){0,16}$/.test(value) || /\d/.test(value);
/** An absolute or home-relative file path (`password_file = /etc/app/db.pass`) names where a value is. */
const notPath = (value: string): boolean => !/^(?:~|\.{1,2})?\/[\w.-]+(?:\/[\w.-]+)+$/.test(value);
/** Random tokens almost always contain a digit; words, paths and identifiers often do not. */
const randomToken = (value: string): boolean => notCode(value) && /\d/.test(value);
/** The user:password text inside a Basic header, when the password is not a placeholder. */
const basicCredentials = (v: string): boolean => {
  const m = /^[\x20-\x7e]{1,256}:([\x20-\x7e]{3,256})$/.exec(Buffer.from(v, 'base64').toString('latin1'));
  return m !== null && !isAllowlisted(m[1] ?? '');
};

const TOKEN_VALUE = '[A-Za-z0-9_+/=.~-]{16,256}';
const b64 = (s: string) => Buffer.from(s).toString('base64');

export const genericRules: DetectionRule[] = [
  assignment({
    id: 'generic-password',
    description: 'A password assigned in code or config (password=, passwd:, pwd =>)',
    name: String.raw`pass(?:word|wd|phrase)?|pwd`,
    keywords: ['pass', 'pwd'],
    value: String.raw`[A-Za-z0-9!#%&*+\-./:<>?@^_|~]{6,128}`,
    minEntropy: 3,
    validate: (v) => notCode(v) && notPath(v),
    generic: true,
    tp: [
      `DB_PASSWORD=${fake(ALNUM, 14, 'pw1')}!`,
      `"password": "${fake(ALNUM, 12, 'pw2')}#x"`,
      `  smtp_pass: ${fake(ALNUM, 16, 'pw3')}`,
      `mysql --user=root --password=${fake(ALNUM, 12, 'pw4')} app`,
    ],
    fp: [
      'password = getPassword()',
      'password: string;',
      'const password = this.config.password;',
      'password = os.environ["DB_PASSWORD"]',
      'DB_PASSWORD=${DB_PASSWORD}',
      'PASSWORD=changeme',
      'password: "********"',
      'password=<your-password>',
      'bypass = true',
      'password_file = /etc/reports/smtp.pass',
    ],
  }),
  assignment({
    id: 'generic-secret',
    description: 'A high-entropy value assigned to a name containing "secret"',
    name: 'secret',
    keywords: ['secret'],
    value: TOKEN_VALUE,
    minEntropy: 3.5,
    validate: randomToken,
    generic: true,
    tp: [`CLIENT_SECRET=${fake(BASE64URL, 32, 'sec1')}`, `jwt_secret: "${fake(BASE64, 40, 'sec2')}"`],
    fp: [
      'client_secret = settings.OAUTH_CLIENT_SECRET',
      'SECRET_NAME=prod/db/credentials',
      'secret: process.env.SECRET',
    ],
  }),
  assignment({
    id: 'generic-api-key',
    description: 'A high-entropy value assigned to an api-key or access-key name',
    name: String.raw`(?:api|access)[_.-]?key`,
    keywords: [
      'apikey',
      'api_key',
      'api.key',
      'api-key',
      'accesskey',
      'access_key',
      'access.key',
      'access-key',
    ],
    value: TOKEN_VALUE,
    minEntropy: 3.5,
    validate: randomToken,
    generic: true,
    tp: [
      `API_KEY=${fake(ALNUM, 32, 'ak1')}`,
      `"apiKey": "${fake(BASE64URL, 40, 'ak2')}"`,
      `x-api-key: ${fake(ALNUM, 40, 'ak3')}`,
    ],
    fp: [
      'apiKey: string',
      'api_key = request.headers.get("x-api-key")',
      'API_KEY=your_api_key_here',
      'ACCESS_KEY_ID=AKIA_PLACEHOLDER',
    ],
  }),
  assignment({
    id: 'generic-token',
    description: 'A high-entropy value assigned to a name containing "token"',
    name: 'token',
    keywords: ['token'],
    value: TOKEN_VALUE,
    minEntropy: 3.5,
    validate: randomToken,
    generic: true,
    tp: [`AUTH_TOKEN=${fake(BASE64URL, 40, 'tok1')}`, `refresh_token: "${fake(ALNUM, 48, 'tok2')}"`],
    fp: [
      'token = await getToken()',
      'token: this.tokenService.current',
      'TOKEN_EXPIRY=3600',
      'csrf_token = "{{ csrf_token }}"',
    ],
  }),
  {
    id: 'cli-user-password',
    kind: 'secret',
    description: 'A password given on a command line as user:password (curl -u, --user)',
    keywords: ['-u', '--user'],
    keywordWithin: 0,
    keywordContext: { before: '[^\\w-]', after: '[\\s=]' },
    pattern: /(?:-u|--user)(?:\s{1,4}|=)["']?[^\s:"'@]{1,64}:([^\s"']{6,128})(?=["'\s]|$)/,
    secretGroup: 1,
    minEntropy: 3,
    validate: (v) => notCode(v) && !isAllowlisted(v),
    generic: true,
    samples: {
      tp: [
        `curl -u admin:${fake(ALNUM, 14, 'curl-u')}+1 https://ci.acme.io/job/build`,
        `curl --user "deploy:${fake(ALNUM, 16, 'curl-user')}" https://nexus.acme.io/`,
      ],
      fp: [
        'curl -u admin:$PASSWORD https://ci.acme.io',
        'ps -u root',
        'curl -u user:password https://x.io',
        'sudo -u postgres psql',
      ],
    },
  },
  {
    id: 'http-bearer-token',
    kind: 'secret',
    description: 'A bearer token in an Authorization header',
    keywords: ['bearer'],
    keywordWithin: 24,
    pattern: /authorization["']?\s{0,4}[:=]\s{0,4}["']?bearer\s{1,4}([A-Za-z0-9._~+/-]{16,2048}={0,2})/i,
    secretGroup: 1,
    minEntropy: 3.5,
    generic: true,
    samples: {
      tp: [
        `Authorization: Bearer ${fake(BASE64URL, 40, 'bearer')}`,
        `"authorization": "Bearer ${fake(ALNUM, 32, 'bearer2')}"`,
      ],
      fp: [
        'Authorization: Bearer ${TOKEN}',
        'Authorization: Bearer <token>',
        'authorization: bearer aaaaaaaaaaaaaaaaaaaa',
      ],
    },
  },
  {
    id: 'http-basic-auth',
    kind: 'secret',
    description: 'user:password in a Basic Authorization header',
    keywords: ['basic'],
    keywordWithin: 24,
    pattern: /authorization["']?\s{0,4}[:=]\s{0,4}["']?basic\s{1,4}([A-Za-z0-9+/]{8,1024}={0,2})/i,
    secretGroup: 1,
    // Only when the base64 decodes to user:password text.
    validate: basicCredentials,
    generic: true,
    samples: {
      tp: [`Authorization: Basic ${b64(`deploy:${fake(ALNUM, 16, 'basic')}`)}`],
      fp: [
        `Authorization: Basic ${fake(BASE64, 40, 'basic2')}`,
        `Authorization: Basic ${b64('deploy:password')}`,
      ],
    },
  },
  {
    id: 'url-credentials',
    kind: 'secret',
    description: 'A password in the user-info part of a URL (scheme://user:password@host)',
    // '@' is rarer than '://' in code, and what surrounds it here (a password, a host) is rarer still.
    keywords: ['@'],
    keywordWithin: 281,
    keywordContext: { before: '[^\\s/?#@"\'`]', after: '[A-Za-z0-9[_-]' },
    pattern:
      /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,20}:\/\/[^\s:/?#@"'`]{1,128}:([^\s/?#@"'`]{3,128})@(?=[A-Za-z0-9[_-])/,
    secretGroup: 1,
    generic: true,
    samples: {
      tp: [
        `git clone https://deploy:${fake(ALNUM, 20, 'url')}@git.acme.io/app.git`,
        `proxy=http://svc:${fake(ALNUM, 12, 'url2')}@10.0.0.1:3128`,
      ],
      fp: [
        'https://user:${PASSWORD}@host.io',
        'https://git.acme.io/app.git',
        'http://user:password@host.io',
        'ftp://anon:<pass>@files',
      ],
    },
  },
];
