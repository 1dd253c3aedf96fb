// Temporary directories for tests, removed when the process exits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  if (process.env.KEEP_TMP) return;
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export function tempDir(label = 'test'): string {
  const d = mkdtempSync(join(tmpdir(), `pjm-${label}-`));
  made.push(d);
  return d;
}
