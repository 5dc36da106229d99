/**
 * header-guard/eslint: the ESLint plugin (flat config, ESLint 9 and 10) that finds in the source
 * the late response calls the runtime guard reports when a route runs, naming both calls.
 *
 * ```js
 * // eslint.config.js
 * import headerGuard from 'header-guard/eslint';
 * export default [headerGuard.configs.recommended];
 * ```
 *
 * The rules are plain objects: nothing here loads ESLint, so an Express-only install of
 * header-guard pulls nothing of it (ESLint is an optional peer dependency).
 *
 * @packageDocumentation
 */
import type { ESLint, Linter, Rule } from 'eslint';
import noLateResponse from './rules/no-late-response.js';

/** The plugin's rules, by name. @public */
export const rules: { readonly 'no-late-response': Rule.RuleModule } = { 'no-late-response': noLateResponse };

/** The plugin's name and version, as ESLint's cache and `--print-config` show them, and the namespace its rules go under. @public */
export const meta: { readonly name: string; readonly version: string; readonly namespace: string } = { name: 'header-guard/eslint', version: readVersion(), namespace: 'header-guard' };

/** The package version, read from package.json beside dist/ (unknown when bundled without it). */
function readVersion(): string {
  try {
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/**
 * The plugin's shape: ESLint's plugin object with its rules and configs known by name.
 *
 * @public
 */
export interface HeaderGuardPlugin extends ESLint.Plugin {
  readonly meta: { readonly name: string; readonly version: string; readonly namespace: string };
  readonly rules: { readonly 'no-late-response': Rule.RuleModule };
  readonly configs: { recommended: Linter.Config };
}

/** The plugin object: `plugins: { 'header-guard': plugin }`. @public */
const plugin: HeaderGuardPlugin = {
  meta,
  rules,
  configs: { recommended: {} as Linter.Config },
};

/**
 * The recommended flat config: the plugin under the name `header-guard`, `no-late-response` as
 * an error. Spread it into `eslint.config.js`: `export default [headerGuard.configs.recommended]`.
 *
 * @public
 */
export const configs: { readonly recommended: Linter.Config } = plugin.configs;
plugin.configs.recommended = {
  name: 'header-guard/recommended',
  plugins: { 'header-guard': plugin },
  rules: { 'header-guard/no-late-response': 'error' },
};

export { plugin };
export default plugin;
