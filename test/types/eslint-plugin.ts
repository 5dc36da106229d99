// Type tests of header-guard/eslint, checked by `npm run typecheck`: the plugin and its
// recommended config fit ESLint's own flat-config types (ESLint 9 and 10). Never run.
import { defineConfig } from 'eslint/config';
import type { ESLint, Linter, Rule } from 'eslint';
import headerGuard, { configs, meta, plugin, rules, type HeaderGuardPlugin } from '../../src/eslint/index.js';

export const flat: Linter.Config[] = [headerGuard.configs.recommended, { plugins: { 'header-guard': headerGuard }, rules: { 'header-guard/no-late-response': 'warn' } }];
export const defined = defineConfig(configs.recommended, { plugins: { 'header-guard': plugin }, extends: ['header-guard/recommended'] });
export const asPlugin: ESLint.Plugin = headerGuard;
export const typed: HeaderGuardPlugin = plugin;
export const rule: Rule.RuleModule = rules['no-late-response'];
export const namespace: string = meta.namespace;
// @ts-expect-error: the plugin has one rule, named no-late-response.
export const missing = rules['no-late-status'];
