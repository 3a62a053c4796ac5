/**
 * Catch-all rules: values assigned to names like `password`, `secret`, `api_key`, `token`, and
 * credentials in HTTP headers and URLs. They need an entropy floor and lose to a specific rule.
 */
import type { DetectionRule, ValueContext } from '../types.js';
import { isAllowlisted } from '../allowlist.js';
import { assignment, notUserEcho } from './define.js';
import { ALNUM, BASE64, BASE64URL, fake } from './fake.js';

const IDENT = String.raw`[A-Za-z_$][\w$]{0,127}`;
const IDENTIFIER = new RegExp(`^${IDENT}$`);
/** `config.db.password`, `result.groups?.password`, `Rails.env.test?`: a member chain. */
const MEMBER_CHAIN = new RegExp(`^${IDENT}(?:\\??\\.${IDENT}){1,16}[?!]?$`);
/** `sessions#create`, `String#length`: a controller action or a method as documentation names it. */
const METHOD_REFERENCE = /^[A-Za-z_][\w/]{0,127}#[A-Za-z_]\w{0,127}[?!]?$/;
/** A type with type arguments: `ArrayRef<StringRef>`, `Map<string, Buffer>[]`. */
const GENERIC_TYPE = /^[A-Za-z_$][\w$.]{0,127}<[\w$.,<>[\]| ]{1,256}>(?:\[\])?$/;

const QUOTES = `"'\``;

/** Letters in words (three or more, with a vowel; `Uint8Array` is `Uint`, `Array`) over the length. */
function wordShare(value: string): number {
  let inWords = 0;
  for (const piece of value.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])/g) ?? []) {
    if (piece.length >= 3 && /[aeiouy]/i.test(piece)) inWords += piece.length;
  }
  return inWords / value.length;
}

/**
 * Is the value code rather than a literal? Negations (`!isComplete`), types (`ArrayRef<T>`), method
 * references (`sessions#create`), a C++ scope (`Pass::run` reads as `Pass: :run`), identifiers and
 * member chains without digits are. With digits they are literals (`hunter2`, `"Hello.World1"`)
 * unless they stand unquoted where code does: a member chain with at most three digits
 * (`type2.declaration.name`), or an identifier before a `;` or made of words (`Uint8Array`,
 * `AuthenticationMD5Password`).
 */
function isCode(value: string, where?: ValueContext): boolean {
  if (value.startsWith(':')) return true;
  // Negations (`!isValid`) and Ruby's instance and class variables (`@user.password`).
  const bare = value.replace(/^(?:!{1,2}|@{1,2})/, '');
  if (GENERIC_TYPE.test(bare) || METHOD_REFERENCE.test(bare)) return true;
  const chain = MEMBER_CHAIN.test(bare);
  if (!chain && !IDENTIFIER.test(bare)) return false;
  if (bare !== value || !/\d/.test(bare)) return true;
  if (!where || QUOTES.includes(where.text.charAt(where.start - 1))) return false;
  if (chain) return (bare.match(/\d/g)?.length ?? 0) <= 3;
  return where.text.charAt(where.end) === ';' || wordShare(bare) >= 0.7;
}
const notCode = (value: string, where?: ValueContext): boolean => !isCode(value, where);
/** An absolute or home-relative file path (`password_file = /etc/app/db.pass`) names where a value is. */
const notPath = (value: string): boolean => !/^(?:~|\.{1,2})?\/[\w.-]+(?:\/[\w.-]+)+$/.test(value);
/** A URL (`redis://:password@host`): url-credentials judges the password inside it. */
const notUrl = (value: string): boolean => !/^[A-Za-z][A-Za-z0-9+.-]{1,20}:\/\//.test(value);
/**
 * Random tokens almost always contain a digit, and are not made of words
 * (`'cache_creation.ephemeral_1h_input_tokens'` is a name); words, paths and identifiers often are.
 */
const randomToken = (value: string, where: ValueContext): boolean =>
  notCode(value, where) && /\d/.test(value) && wordShare(value) < 0.7;
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
    // Not another word that starts with "pass" (`passport`, `passenger`, `passive`, `passthrough`).
    name: String.raw`pass(?:word|wd|phrase|(?!port|enger|age|ive|ion|able|through|over))|pwd`,
    keywords: ['pass', 'pwd'],
    value: String.raw`[A-Za-z0-9!#%&*+\-./:<>?@^_|~]{6,128}`,
    minEntropy: 3,
    validate: (v, where) => notCode(v, where) && notPath(v) && notUrl(v),
    generic: true,
    tp: [
      '"password": "Hello.World7x9",',
      `DB_PASSWORD=${fake(ALNUM, 14, 'pw1')}!`,
      `"password": "${fake(ALNUM, 12, 'pw2')}#x"`,
      `  smtp_pass: ${fake(ALNUM, 16, 'pw3')}`,
      `mysql --user=root --password=${fake(ALNUM, 12, 'pw4')} app`,
    ],
    fp: [
      'get "admin/passwords" => "queenbee#passwords"',
      'ActiveModel::SecurePassword.min_cost = Rails.env.test?',
      'User.authenticate_by(token: @user.token, password: @user.password)',
      'ActiveModel::SecurePassword.min_cost = @original_min_cost',
      'export KAMAL_REGISTRY_PASSWORD=your-access-token',
      'case "${MVNW_PASSWORD:+has-password}" in',
      '"DSN=mydsn;UID=ed;PWD=pass%2Bword",',
      'const password = result.groups?.password;',
      '"passport-local": "passport-local",',
      'needsSecondPassForFixAll: !isCompleteFix',
      'runPasses(module: ModuleRef, passes: ArrayRef<StringRef>): void;',
      '// PassRunner::addDefaultPrePasses',
      'pbkdf2(password: Uint8Array, salt: Uint8Array): Uint8Array;',
      'exports.AuthMD5Password = AuthMD5Password;',
      "  password: 'db-password',",
      '// redis://:password@host has an empty user name',
      'this._passThroughOptions = !!passThrough;',
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
      'const apiKeys = beta_1.BETA_CLIENT_TOOL_KEYS;',
      'Organization.APIKeys = api_keys_1.APIKeys;',
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
      'const readonlyToken = type2.declaration.readonlyToken ? a : b;',
      'api.xTokenize = fts5V1toV2Tokenize;',
      "type TokenType = 'cache_creation.ephemeral_1h_input_tokens' | 'other';",
      'token2.depth = token2.isGlobstar ? Infinity : 1;',
      'if (nToken > FTS5_MAX_TOKEN_SIZE) nToken = FTS5_MAX_TOKEN_SIZE;',
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
    // `-u http://host`: a URL after the flag, not user:password.
    validate: (v, where) => !v.startsWith('//') && notCode(v, where) && !isAllowlisted(v),
    generic: true,
    samples: {
      tp: [
        `curl -u admin:${fake(ALNUM, 14, 'curl-u')}+1 https://ci.acme.io/job/build`,
        `curl --user "deploy:${fake(ALNUM, 16, 'curl-user')}" https://nexus.acme.io/`,
      ],
      fp: [
        'node app.js | pino-http-send -u http://localhost:8080/logs',
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
    // The domains reserved for documentation (RFC 2606) hold no real accounts.
    validate: (v, where) =>
      notUserEcho(v, where) &&
      !/^(?:[\w-]+\.)*example(?:\.(?:com|org|net))?(?![\w.-])/i.test(where.text.slice(where.end + 1)),
    generic: true,
    samples: {
      tp: [
        `git clone https://deploy:${fake(ALNUM, 20, 'url')}@git.acme.io/app.git`,
        `proxy=http://svc:${fake(ALNUM, 12, 'url2')}@10.0.0.1:3128`,
      ],
      fp: [
        '"http://user:pass%23pass@complex.url.com/path"',
        'f"http://{ENCODED_USER}:{ENCODED_PASSWORD}@request.com/url.html"',
        'engine = create_engine("oracle://scott:tiger@localhost/test")',
        'amqp://guest:guest@localhost:5672/',
        "const options = new URL('http://abc:xyz@example.com');",
        'uri://foo:bar@www.example.org:1/path',
        'https://user:${PASSWORD}@host.io',
        'https://git.acme.io/app.git',
        'http://user:password@host.io',
        'ftp://anon:<pass>@files',
      ],
    },
  },
];
