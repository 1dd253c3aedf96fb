// "Has the machine run out of something": recognizes a full disk, an exceeded quota or a
// read-only filesystem in any error (Node's fs, SQLite, DuckDB), and says in one message what
// ran out, where, and what to do. The executor stops a run at the first such error instead
// of failing every remaining step with the same message.
import { errorMessage } from './errors.ts';

export type ResourceKind = 'disk-full' | 'read-only';

export interface ResourceProblem {
  readonly kind: ResourceKind;
  /** The file or store that could not be written, when the error names one. */
  readonly where: string | undefined;
  /** The error as the failing layer reported it. */
  readonly cause: string;
}

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
const READ_ONLY_CODES = new Set(['EROFS', 'SQLITE_READONLY', 'SQLITE_READONLY_DBMOVED', 'SQLITE_READONLY_DIRECTORY']);
const DISK_FULL_TEXT = /no space left on device|database or disk is full|disk quota exceeded/i;
const READ_ONLY_TEXT = /read-only file system|attempt to write a readonly database/i;

/** The resource problem an error reports, or undefined for any other error. */
export function resourceProblem(err: unknown): ResourceProblem | undefined {
  const e = err as { code?: unknown; path?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const cause = errorMessage(err);
  const kind: ResourceKind | undefined =
    DISK_FULL_CODES.has(code) || DISK_FULL_TEXT.test(cause) ? 'disk-full' : READ_ONLY_CODES.has(code) || READ_ONLY_TEXT.test(cause) ? 'read-only' : undefined;
  if (!kind) return undefined;
  // Node names the path; DuckDB quotes it in its message ("Could not write file \"...\"").
  const where = typeof e?.path === 'string' ? e.path : /["']((?:\/|[A-Za-z]:\\)[^"']+)["']/.exec(cause)?.[1];
  return { kind, where, cause };
}

/** The one message a run that hit a resource problem ends with. */
export function describeResourceProblem(p: ResourceProblem, context: { dataDir: string; storePath: string; writing?: string }): string {
  const what = p.kind === 'disk-full' ? 'The disk is full' : 'The filesystem is read-only';
  const where = p.where ?? context.writing ?? context.storePath;
  const todo =
    p.kind === 'disk-full'
      ? `Free space on the filesystem that holds ${context.dataDir} (DATA_DIR), or point DATA_DIR at a larger one; \`materialize prune --older-than 30d\` removes superseded versions. Then rerun`
      : `Make ${context.dataDir} (DATA_DIR) writable, or point DATA_DIR at a writable directory. Then rerun`;
  return `${what}: writing ${where} failed (${p.cause.trim()}). The run stopped: no new step was started and nothing half-written was published. ${todo}: what was committed is kept.`;
}
