// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Modules that must stay pure: no network, no filesystem, no logger. */
const PURE = ['protocol/**/*.ts', 'models/*/core/**/*.ts'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'protocol/generated/**', 'bench/results/**', 'coverage/**', 'tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use a string union or an `as const` object instead of enum.' },
      ],
    },
  },
  {
    files: PURE,
    ignores: ['protocol/**/*.test.ts', 'models/*/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@grpc/grpc-js',
              message: 'protocol/ is pure: only adapter files in coordinator/ and party/ may import grpc-js.',
            },
            { name: 'pino', message: 'protocol/ is pure: pass a logger in instead.' },
            { name: 'node:fs', message: 'protocol/ is pure: read files at the edges.' },
            { name: 'node:fs/promises', message: 'protocol/ is pure: read files at the edges.' },
            { name: 'node:net', message: 'protocol/ is pure.' },
            { name: 'node:http', message: 'protocol/ is pure.' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
