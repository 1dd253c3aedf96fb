// Which module may import which: the layering the README describes, checked on the imports
// the TypeScript compiler itself resolves for the project.
import { spawnSync } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';

export interface BoundaryRule {
  /** Files the rule applies to: paths (from the project root) starting with this folder. */
  readonly from: string;
  /** Folders those files must not import from, unless the target is one of `except`. */
  readonly forbidden: readonly string[];
  readonly except?: readonly string[];
  readonly why: string;
}

export interface BoundaryViolation {
  readonly file: string;
  readonly imports: string;
  readonly rule: BoundaryRule;
}

/** The project's layering. */
export const BOUNDARY_RULES: readonly BoundaryRule[] = [
  { from: 'runtime/', forbidden: ['assets/', 'serving/', 'ui/'], why: 'the runtime knows nothing of PJM, of serving or of the UI' },
  { from: 'lib/', forbidden: ['assets/', 'runtime/', 'serving/', 'ui/'], why: 'general libraries know nothing of this project' },
  {
    from: 'serving/',
    forbidden: ['assets/'],
    except: ['assets/pjm/forecasting.ts'],
    why: 'serving reads the pipeline through its public module (assets/pjm/forecasting.ts) only',
  },
  ...['runtime/', 'assets/', 'serving/'].map((from) => ({
    from,
    forbidden: ['lib/xgboost/'],
    except: ['lib/xgboost/index.ts', 'lib/xgboost/config.ts'],
    why: 'the XGBoost binding is used through its public module (lib/xgboost/index.ts; config.ts, which loads no native code, for entry points): its native calls are internal',
  })),
];

/** One import edge: `file` imports `imports` (both project-relative; packages are left out). */
export interface ImportEdge {
  readonly file: string;
  readonly imports: string;
}

/**
 * Every import among the project's files as the TypeScript compiler resolves them (static and
 * type-only imports, re-exports, dynamic import() with a literal): `tsc --explainFiles` lists,
 * under each file, each "Imported via '<specifier>' from file '<importer>'". No type check is run.
 */
export function projectImports(root: string): ImportEdge[] {
  const tsc = resolve(root, 'node_modules/.bin/tsc');
  const r = spawnSync(tsc, ['-p', root, '--noEmit', '--noCheck', '--explainFiles'], { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0 && !r.stdout) throw new Error(`tsc --explainFiles failed (exit ${r.status}): ${r.stderr}`);
  const edges: ImportEdge[] = [];
  let current: string | undefined;
  for (const line of r.stdout.split('\n')) {
    if (line.length === 0) continue;
    if (!line.startsWith(' ')) {
      // A file: project files are listed relative to the root, packages by absolute path.
      current = isAbsolute(line) ? undefined : line.trim();
      continue;
    }
    const m = /^\s+Imported via .+ from file '([^']+)'/.exec(line);
    if (current !== undefined && m) edges.push({ file: m[1]!, imports: current });
  }
  if (edges.length === 0) throw new Error('tsc --explainFiles listed no import between project files: its output format changed; update projectImports.');
  return edges;
}

/** Every edge that breaks a rule. */
export function boundaryViolations(edges: readonly ImportEdge[], rules: readonly BoundaryRule[] = BOUNDARY_RULES): BoundaryViolation[] {
  const out: BoundaryViolation[] = [];
  for (const { file, imports } of edges) {
    for (const rule of rules) {
      if (file.startsWith(rule.from) && rule.forbidden.some((f) => imports.startsWith(f)) && !rule.except?.includes(imports)) out.push({ file, imports, rule });
    }
  }
  return out;
}
