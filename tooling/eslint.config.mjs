// Shared ESLint flat config: typescript-eslint with type information, React hooks for the
// dashboard, sorted imports. Every workspace lints with it (`npm run lint` → turbo).
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import simpleImportSort from "eslint-plugin-simple-import-sort";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/.next/**",
      "**/dist/**",
      "**/generated/**",
      "**/.turbo/**",
      "**/coverage/**",
      "test-results/**",
      "**/*.d.ts",
      "clients/**",
      "packages/sdk/examples/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: { ...globals.node, ...globals.browser },
      parserOptions: { projectService: true, tsconfigRootDir: process.cwd() },
    },
    plugins: { "react-hooks": reactHooks, "simple-import-sort": simpleImportSort },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // the classic hook rules; the React Compiler rules of the plugin's preset judge code for a
      // compiler this dashboard does not use
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
      // handlers, executors and services are async by contract even when a body needs no await
      "@typescript-eslint/require-await": "off",
      // React event handlers may be async: their promise is deliberately not awaited
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
      "simple-import-sort/imports": "error",
      "simple-import-sort/exports": "error",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", destructuredArrayIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/consistent-type-definitions": ["error", "type"],
      // shapes and numbers in error messages read fine as `[28,28,1]`
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true, allowArray: true, allowBoolean: true }],
      // off: ESLint's program sees Prisma's JSON input types more loosely than tsc does, so it
      // calls assertions tsc needs (`as object` into a Json column) unnecessary, and its autofix
      // broke the typecheck; tsc (npm run typecheck) remains the judge of assertions
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
    },
  },
  {
    // tests read socket.io acks and JSON answers, typed `any` by those libraries; asserting on
    // them is the point of a test, so the unsafe-any rules apply to production code only
    files: ["**/*.test.ts", "**/testing/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/unbound-method": "off",
      // `emitWithAck(...) as Promise<Ack>` names what the test expects back
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
    },
  },
  {
    // tfjs ops are generic over the Tensor they return; a rank assertion (`as tf.Tensor4D`) on
    // the result reads better than type arguments on every op, and the rule asks for the latter
    files: ["packages/core/src/ml/**/*.ts"],
    rules: { "@typescript-eslint/no-unnecessary-type-assertion": "off" },
  },
  {
    files: ["**/*.mjs", "**/*.cjs", "**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
