// Module hooks that load the web app's files (plain ES modules in .js
// files with no package.json of their own, which Node 20 would otherwise
// read as CommonJS) as ES modules, so tests can import them unchanged.
// Registered by `import './frontend-esm.mjs'` before importing frontend code.

import { register } from 'node:module';
import { readFile } from 'node:fs/promises';
import { isMainThread } from 'node:worker_threads';

const FRONTEND = new URL('../../frontend/', import.meta.url).href;

export async function load(url, context, nextLoad) {
  if (url.startsWith(FRONTEND) && url.endsWith('.js')) {
    return { format: 'module', source: await readFile(new URL(url), 'utf8'), shortCircuit: true };
  }
  return nextLoad(url, context);
}

// In the main thread this file registers itself; in the hooks thread that
// `register` loads it into, `load` above is what is used.
if (isMainThread) register(import.meta.url);
