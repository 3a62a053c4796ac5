// @ts-check
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Test-only code: never imported by what ships. */
const TEST_ONLY = ['./src/**/*.test.ts', './src/**/testing/**', './src/**/*.suite.ts'];
const PARTS = [
  'audit',
  'cli',
  'compose',
  'control',
  'egress',
  'errors',
  'gateway',
  'guard',
  'policy',
  'sandbox',
  'signin',
  'store',
  'web',
];
/** `part` may import only itself and `allowed` (DESIGN.md's boundaries). */
const only = (part, allowed, why) => ({
  target: `./src/${part}`,
  from: PARTS.filter((p) => p !== part && !allowed.includes(p)).map((p) => `./src/${p}`),
  message: why,
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'src/web/dist/', '.sluice/', 'assembly/', '.fuzz/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' },
      ],
    },
  },
  {
    // The boundaries of shared/DESIGN.md, checked on every import of what ships.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts', 'src/**/testing/**', 'src/**/*.suite.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            only('policy', [], 'policy is rules as data and a pure engine: it imports nothing of Sluice.'),
            only('guard', [], 'guard is a library of its own: it imports nothing of Sluice.'),
            only('errors', [], 'the error catalog imports nothing of Sluice.'),
            only('store', [], 'store knows nothing of the parts that use it (and no HTTP).'),
            only(
              'control',
              ['store', 'guard', 'policy', 'errors', 'egress', 'sandbox'],
              'control knows no HTTP surface.',
            ),
            only(
              'egress',
              ['control', 'store', 'policy', 'errors'],
              'egress does not depend on the gateway.',
            ),
            only(
              'gateway',
              ['control', 'store', 'guard', 'policy', 'errors', 'signin', 'web'],
              'the gateway uses the parts below it (and serves the console, web).',
            ),
            only(
              'signin',
              ['control', 'store', 'errors'],
              'company sign-in knows no HTTP listener: the gateway hands it requests.',
            ),
            only(
              'audit',
              ['policy', 'guard', 'egress', 'store', 'control'],
              'audit reads machines; it serves no HTTP.',
            ),
            only(
              'web',
              ['control', 'store', 'errors', 'policy', 'egress'],
              "the console serves the admin API's data under its rules; it knows no gateway stage.",
            ),
            {
              target: './src',
              from: TEST_ONLY,
              message:
                'test-only code (testing/, *.suite.ts) never ships: only tests and benchmarks import it.',
            },
          ],
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: [],
          patterns: [
            {
              group: ['**/cli/*', '**/compose/*'],
              message: 'only cli composes the parts and runs the process.',
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        ...['exit', 'argv', 'stdout', 'stderr', 'stdin', 'on', 'once', 'chdir', 'exitCode', 'env', 'cwd'].map(
          (property) => ({
            object: 'process',
            property,
            message: 'process-level things belong to cli (src/cli), the only caller of them.',
          }),
        ),
      ],
    },
  },
  {
    // STYLE.md: a function is read whole; past ~80 lines it is two functions (declarative tables aside).
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    ignores: TEST_ONLY,
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: { 'no-restricted-properties': 'off', 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/compose/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/cli/*'], message: 'compose never imports cli.' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
