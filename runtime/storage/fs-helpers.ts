// Small filesystem steps shared by the storage backends: existence checks and
// the fsyncs that make a rename-based publish survive an operating-system crash.
import { open, stat } from 'node:fs/promises';

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Flushes a file's (mode 'r+') or a directory's (mode 'r') contents to disk. */
export async function fsyncPath(path: string, mode: 'r+' | 'r' = 'r+'): Promise<void> {
  const fh = await open(path, mode);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
