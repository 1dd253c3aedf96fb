#!/usr/bin/env node
// Entry point of the `materialize` CLI (and of `materialize serve`). It starts the
// precompiled JavaScript in dist/ when that is current (`npm run build`, which `npm ci`
// runs), and otherwise the TypeScript sources through tsx's loader, so an edited source
// runs as edited. MATERIALIZE_FROM_SOURCE=1 always runs the sources, and so do TypeScript
// definitions of a user's own (--definitions x.ts, $ASSET_DEFINITIONS): they import the
// runtime's sources, and one process must not hold two copies of the runtime's classes.
import { distIsCurrent } from './compiled.js';

const argv = process.argv.slice(2);
const definitionsArg = argv.find((a, i) => argv[i - 1] === '--definitions' || a.startsWith('--definitions='));
const definitions = definitionsArg?.replace(/^--definitions=/, '') ?? process.env.ASSET_DEFINITIONS;
const typescriptDefinitions = definitions !== undefined && /\.[mc]?ts$/.test(definitions);
const compiled = process.env.MATERIALIZE_FROM_SOURCE !== '1' && !typescriptDefinitions && distIsCurrent();
if (!compiled) (await import('tsx/esm/api')).register();
const entry = (path) => new URL(compiled ? `../dist/${path}.js` : `../${path}.ts`, import.meta.url).href;

// A reader that stops early (`materialize show … | head`) closes our stdout: end quietly,
// as `git log | head` does, instead of dying with an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

if (argv[0] === 'serve') {
  // A server answering thousands of small requests a second makes mostly short-lived
  // garbage: a larger young generation keeps it out of the old one, whose collections
  // paused the event loop for up to 100 ms (measured with bench/serving.ts).
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--max-semi-space-size=64');
  // The server lives in serving/, which the runtime does not know about.
  const { main } = await import(entry('serving/main'));
  await main(argv.slice(1));
} else {
  const { main } = await import(entry('runtime/cli/main'));
  process.exitCode = await main(argv);
}
