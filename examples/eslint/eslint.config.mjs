// The whole setup: header-guard's recommended flat config (the plugin and no-late-response as an error).
import headerGuard from 'header-guard/eslint';

export default [headerGuard.configs.recommended];
