/**
 * Deterministic text shaped like a repository's source files (TypeScript, Python, Go, YAML, JSON,
 * Markdown), for the guard's benchmarks. Keywords the rules look for (`token`, `password`, `key`,
 * URLs, e-mail addresses, numbers) appear about as often as in real code, not artificially often.
 */

import { prng } from '../../src/guard/testing/prng.js';

export { prng };

const NOUNS = (
  'user order item request response config client server handler value result cache session account ' +
  'payment invoice path file stream buffer index count total status error message event queue worker ' +
  'job task retry timeout limit offset page node edge graph tree list map set entry record field ' +
  'schema table column row query filter sort range window frame layer model view controller route ' +
  'service provider factory builder parser writer reader logger metric span trace batch chunk block'
).split(' ');
const VERBS =
  'get set load save fetch parse build create update delete find resolve handle render emit flush'.split(' ');
const TYPES = ['string', 'number', 'boolean', 'Date', 'string[]', 'Record<string, unknown>', 'Buffer'];

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const int = (r: Rand, n: number): number => Math.floor(r() * n);
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const camel = (r: Rand): string => pick(r, VERBS) + cap(pick(r, NOUNS));
const snake = (r: Rand): string => `${pick(r, NOUNS)}_${pick(r, NOUNS)}`;
const hex = (r: Rand, n: number): string =>
  Array.from({ length: n }, () => '0123456789abcdef'[int(r, 16)]).join('');

const TS: ((r: Rand) => string)[] = [
  (r) => `  const ${pick(r, NOUNS)} = await this.${pick(r, NOUNS)}Service.${camel(r)}(${pick(r, NOUNS)}Id);`,
  (r) => `  if (!${pick(r, NOUNS)} || ${pick(r, NOUNS)}.length > ${int(r, 100)}) return undefined;`,
  (r) =>
    `  // ${cap(pick(r, VERBS))} the ${pick(r, NOUNS)} before the ${pick(r, NOUNS)} is ${pick(r, VERBS)}ed.`,
  (r) =>
    `export async function ${camel(r)}(${pick(r, NOUNS)}: ${pick(r, TYPES)}): Promise<${cap(pick(r, NOUNS))}> {`,
  (r) => `  ${pick(r, NOUNS)}${cap(pick(r, NOUNS))}?: ${pick(r, TYPES)};`,
  (r) => `import { ${camel(r)}, ${cap(pick(r, NOUNS))} } from '../${pick(r, NOUNS)}/${pick(r, NOUNS)}.js';`,
  (r) =>
    `  for (const ${pick(r, NOUNS)} of ${pick(r, NOUNS)}s) ${pick(r, NOUNS)}.${pick(r, VERBS)}(${int(r, 10)});`,
  (r) => `    throw new Error(\`${pick(r, NOUNS)} ${pick(r, NOUNS)} failed: \${err.message}\`);`,
  (r) => ` * @param ${pick(r, NOUNS)} the ${pick(r, NOUNS)} to ${pick(r, VERBS)}`,
  (r) => `  const url = \`https://api.${pick(r, NOUNS)}.io/v${int(r, 3)}/${pick(r, NOUNS)}s/\${id}\`;`,
  () => "  const token = req.headers.authorization?.slice(7) ?? '';",
  (r) => `  @Input() ${pick(r, NOUNS)}: ${pick(r, TYPES)};`,
  (r) => `  return { ...${pick(r, NOUNS)}, ${pick(r, NOUNS)}: ${pick(r, NOUNS)}.${pick(r, NOUNS)} ?? null };`,
  (r) => `  expect(${camel(r)}(${int(r, 1000)})).toEqual({ ${pick(r, NOUNS)}: ${int(r, 100)} });`,
  () => '  }',
  () => '}',
  () => '',
];

const PY: ((r: Rand) => string)[] = [
  (r) => `def ${snake(r)}(self, ${pick(r, NOUNS)}, ${pick(r, NOUNS)}=None):`,
  (r) => `    """${cap(pick(r, VERBS))} the ${pick(r, NOUNS)} and return the ${pick(r, NOUNS)}."""`,
  (r) => `        return self._${pick(r, NOUNS)}.${pick(r, VERBS)}(${pick(r, NOUNS)}, retries=${int(r, 10)})`,
  (r) => `    ${snake(r)} = ${pick(r, NOUNS)}.get("${pick(r, NOUNS)}", ${int(r, 100)})`,
  (r) => `from ${pick(r, NOUNS)}.${pick(r, NOUNS)} import ${cap(pick(r, NOUNS))}${cap(pick(r, NOUNS))}`,
  (r) => `        logger.info("${pick(r, VERBS)} %s in %d ms", ${pick(r, NOUNS)}.id, elapsed)`,
  (r) => `    if not ${pick(r, NOUNS)}:\n        raise ValueError("missing ${pick(r, NOUNS)}")`,
  (r) => `class ${cap(pick(r, NOUNS))}${cap(pick(r, NOUNS))}(Base${cap(pick(r, NOUNS))}):`,
  (r) => `    password = models.CharField(max_length=${int(r, 200)})`,
  () => '',
];

const GO: ((r: Rand) => string)[] = [
  (r) => `func (s *${cap(pick(r, NOUNS))}Service) ${cap(camel(r))}(ctx context.Context, id string) error {`,
  (r) => `\tif err := s.${pick(r, NOUNS)}.${cap(pick(r, VERBS))}(ctx, ${pick(r, NOUNS)}); err != nil {`,
  (r) => `\t\treturn fmt.Errorf("${pick(r, VERBS)} ${pick(r, NOUNS)}: %w", err)`,
  (r) => `\t${pick(r, NOUNS)} := make(map[string]${pick(r, ['int', 'string', 'bool'])}, ${int(r, 64)})`,
  (r) => `\t${cap(pick(r, NOUNS))}${cap(pick(r, NOUNS))} string \`json:"${snake(r)}"\``,
  () => '\t}',
  () => '}',
];

const YAML: ((r: Rand) => string)[] = [
  (r) => `  ${snake(r)}: ${pick(r, ['true', 'false', String(int(r, 5000)), pick(r, NOUNS)])}`,
  (r) => `    - name: ${pick(r, NOUNS)}-${pick(r, NOUNS)}`,
  (r) => `      image: registry.internal/${pick(r, NOUNS)}:${int(r, 4)}.${int(r, 20)}.${int(r, 10)}`,
  (r) => `      env:\n        - name: ${snake(r).toUpperCase()}\n          value: "${pick(r, NOUNS)}"`,
  (r) => `  replicas: ${int(r, 8)}`,
  (r) => `    url: https://${pick(r, NOUNS)}.example.org/${pick(r, NOUNS)}`,
];

const JSON_LINES: ((r: Rand) => string)[] = [
  (r) =>
    `    "${pick(r, NOUNS)}${cap(pick(r, NOUNS))}": ${pick(r, ['true', 'false', 'null', String(int(r, 100000)), `"${pick(r, NOUNS)}"`])},`,
  (r) => `    "${pick(r, NOUNS)}": "^${int(r, 20)}.${int(r, 30)}.${int(r, 10)}",`,
  (r) => `    "integrity": "sha512-${hex(r, 40)}",`,
  (r) =>
    `  "${pick(r, NOUNS)}": { "id": "${hex(r, 8)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 4)}-${hex(r, 12)}" },`,
];

const MD: ((r: Rand) => string)[] = [
  (r) =>
    `The ${pick(r, NOUNS)} ${pick(r, VERBS)}s each ${pick(r, NOUNS)} once; see the ${pick(r, NOUNS)} section for the ${pick(r, NOUNS)} limits.`,
  (r) => `## ${cap(pick(r, VERBS))} a ${pick(r, NOUNS)}`,
  (r) => `- \`${camel(r)}()\` returns the ${pick(r, NOUNS)} (since v${int(r, 4)}.${int(r, 10)}).`,
];

const LANGUAGES: [number, ((r: Rand) => string)[]][] = [
  [0.45, TS],
  [0.2, PY],
  [0.12, GO],
  [0.1, YAML],
  [0.08, JSON_LINES],
  [0.05, MD],
];

/** About `chars` characters of source-like text: files of 50–400 lines, one language each. */
export function sourceText(chars: number, seed = 42): string {
  const r = prng(seed);
  const out: string[] = [];
  let size = 0;
  while (size < chars) {
    let x = r();
    let lines = TS;
    for (const [share, templates] of LANGUAGES) {
      lines = templates;
      if ((x -= share) < 0) break;
    }
    const count = 50 + int(r, 350);
    for (let i = 0; i < count && size < chars; i++) {
      const line = pick(r, lines)(r);
      out.push(line);
      size += line.length + 1;
    }
  }
  return out.join('\n');
}
