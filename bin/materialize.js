#!/usr/bin/env node
// Entry point of the `materialize` CLI (and of `materialize serve`). The project
// is written in TypeScript and run through tsx's loader, so there is no build
// step to forget.
import { register } from 'tsx/esm/api';

register();
// `materialize show … | head` closes the pipe before the output ends: stop quietly with
// code 0, as `git log | head` does, instead of dying on an uncaught EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
const argv = process.argv.slice(2);
if (argv[0] === 'serve') {
  // A server answering thousands of small requests a second makes mostly short-lived
  // garbage: a larger young generation keeps it out of the old one, whose collections
  // paused the event loop for up to 100 ms (measured with bench/serving.ts).
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--max-semi-space-size=64');
  // The server lives in serving/, which the runtime does not know about.
  const { main } = await import('../serving/main.ts');
  await main(argv.slice(1));
} else {
  const { main } = await import('../runtime/cli/main.ts');
  process.exitCode = await main(argv);
}
