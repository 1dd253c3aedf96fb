#!/usr/bin/env node
// Entry point of the `materialize` CLI. The project is written in TypeScript and
// run through tsx's loader, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../runtime/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
