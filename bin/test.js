#!/usr/bin/env node
// Runs every uvu test file (test/**/*.test.ts) in its own Node process, two at a
// time, and ends with the one summary line CI reads: `N passed, N failed`.
// A file that crashes or exits non-zero without a uvu summary counts as one failure,
// so a broken file can never pass silently; a file still running after TEST_FILE_TIMEOUT_S
// (default 300 s) is killed, with everything it started, and fails, named, instead of
// hanging the run.
//
//   node bin/test.js                 all test files
//   node bin/test.js test/runtime    only files under a path (or matching a substring)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { availableParallelism } from 'node:os';
import { stripVTControlCharacters } from 'node:util';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out.sort();
}

const files = findTests(join(root, 'test')).filter((file) => filters.length === 0 || filters.some((f) => file.includes(f.replace(/^\.\//, ''))));
if (files.length === 0) {
  console.error(`No test files match ${filters.join(' ') || 'test/**/*.test.ts'}.`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const stripAnsi = (s) => stripVTControlCharacters(s);

const fileTimeoutS = Number(process.env.TEST_FILE_TIMEOUT_S ?? 300);
if (!(fileTimeoutS > 0)) {
  console.error(`TEST_FILE_TIMEOUT_S=${JSON.stringify(process.env.TEST_FILE_TIMEOUT_S)} is not a number of seconds > 0.`);
  console.log('0 passed, 1 failed');
  process.exit(2);
}

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    // Its own process group, so a timeout can end the servers and browsers it started too.
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, fileTimeoutS * 1000);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const text =
        stripAnsi(output) +
        (timedOut ? `\n${file} was still running after ${fileTimeoutS} s (TEST_FILE_TIMEOUT_S) and was killed: it counts as failed.\n` : '');
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0);
      let result;
      if (timedOut || Number.isNaN(total) || Number.isNaN(passed)) {
        result = { passed: 0, failed: 1, skipped: 0 };
      } else {
        result = { passed, failed: total - passed - skipped, skipped };
        if (code !== 0 && result.failed === 0) result.failed = 1;
      }
      resolve({ file, code, signal, text, seconds: (Date.now() - started) / 1000, ...result });
    });
  });
}

const concurrency = Math.max(1, Math.min(Number(process.env.TEST_CONCURRENCY ?? 2), availableParallelism()));
const queue = [...files];
const results = [];
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (queue.length > 0) {
      const file = queue.shift();
      const r = await runFile(file);
      results.push(r);
      const state = r.failed > 0 ? 'FAIL' : 'ok  ';
      console.log(`${state} ${file}  ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}  (${r.seconds.toFixed(1)} s)`);
      if (r.failed > 0 || process.env.TEST_VERBOSE) console.log(r.text.replace(/^/gm, '    '));
    }
  }),
);

const sum = (k) => results.reduce((n, r) => n + r[k], 0);
const skipped = sum('skipped');
console.log(`${sum('passed')} passed, ${sum('failed')} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(sum('failed') > 0 ? 1 : 0);
