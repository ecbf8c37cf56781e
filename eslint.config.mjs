/**
 * ESLint for the whole workspace: a small rule set on top of the recommended ones — nothing
 * unused, no floating promise, type-only imports written as such. Type-aware rules read each
 * package's own tsconfig (the `*.test.json` ones include the tests). Formatting is prettier's job
 * (`.prettierrc.json`), so no stylistic rule is enabled here.
 */
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const TS_PROJECTS = [
  './packages/protocol/tsconfig.test.json',
  './packages/server/tsconfig.test.json',
  './packages/element/tsconfig.test.json',
  './packages/demo/tsconfig.json',
  './packages/testkit/tsconfig.json',
  './chaos/tsconfig.json',
  './bench/tsconfig.json',
  './examples/tsconfig.json',
];

/** A package is used through its name, never by reaching into another package's sources. */
const NO_CROSS_PACKAGE_SRC = [
  'error',
  {
    patterns: [
      {
        group: ['**/packages/*/src/**', '../../*/src/**', '../../../*/src/**'],
        message: 'Import the workspace package by name (@live-device-form/...), not its src/ by a relative path.',
      },
    ],
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'bench/out/**',
      'chaos/out/**',
      '**/custom-elements.json',
      '.artifacts/**',
      // The example apps are projects of their own (own tsconfig, own deps, installed from the packed
      // tarballs): their tests type-check them (tsc, vue-tsc, ng build). Only the harness is linted here.
      'examples/*/**',
      '!examples/test/**',
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { project: TS_PROJECTS, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'no-restricted-imports': NO_CROSS_PACKAGE_SRC,
      // Control characters are matched on purpose: untrusted text is checked for them (docs/protocol.md rule 7).
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      'no-restricted-imports': NO_CROSS_PACKAGE_SRC,
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Root configs are not part of any package's tsconfig.
    files: ['*.ts', '*/vitest.config.ts'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
