#!/usr/bin/env node
// The CLI is bundled into dist/ by `npm run build` (run by `npm install` through `prepare`).
try {
  require('../dist/cli.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes('dist/cli.js')) {
    process.stderr.write('gridlock: the CLI is not built yet. Run `npm install` (or `npm run build`) in the gridlock folder first.\n');
    process.exit(70);
  }
  throw error;
}
