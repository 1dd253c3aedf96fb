#!/usr/bin/env node
// `npm run build` (and `prepare`, which `npm ci` runs): compiles runtime/, assets/, serving/ and
// lib/ into dist/ (tsconfig.build.json; no type check, `npm run typecheck` does that) and
// records when, so bin/materialize.js knows dist/ is current. In a container's dependency
// stage, where only package.json is copied, there is nothing to compile yet: it says so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeStamp } from './compiled.js';

const root = new URL('..', import.meta.url).pathname;
if (!existsSync(join(root, 'tsconfig.build.json')) || !existsSync(join(root, 'runtime'))) {
  console.log('build: no sources here (a dependency-only install); nothing to compile.');
  process.exit(0);
}
// typescript's package exports hide bin/; its package.json is exported, and bin/tsc sits beside it.
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error(`build: tsc exited with ${r.status ?? r.signal}; dist/ is not marked current, so bin/materialize.js runs the sources.`);
  process.exit(r.status ?? 1);
}
writeStamp();
