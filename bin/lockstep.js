#!/usr/bin/env node
// Thin launcher: runs the compiled CLI (npm run build produces dist/).
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
    console.error('lockstep: not built yet. Run `npm run build` (npm start does this for you).');
    process.exit(1);
  }
  throw err;
});
