#!/usr/bin/env node
// Entry point of the `materialize` CLI (and of `materialize serve`). The project
// is written in TypeScript and run through tsx's loader, so there is no build
// step to forget.
import { register } from 'tsx/esm/api';

register();
const argv = process.argv.slice(2);
if (argv[0] === 'serve') {
  // The server lives in serving/, which the runtime does not know about.
  const { main } = await import('../serving/main.ts');
  await main(argv.slice(1));
} else {
  const { main } = await import('../runtime/cli/main.ts');
  process.exitCode = await main(argv);
}
