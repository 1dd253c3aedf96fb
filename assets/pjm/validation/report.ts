// The typed report of the `validated` checks, stored as asset metadata: each check says whether
// it passed, how much it matters ('error' blocks everything downstream, 'warn' only flags), what
// it found in a sentence, and the offending rows in `details` (capped, with the full count).
export type Severity = 'error' | 'warn';

export interface CheckResult {
  readonly name: string;
  readonly passed: boolean;
  readonly severity: Severity;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface ValidationReport {
  /** False when any 'error' check failed. */
  readonly passed: boolean;
  readonly checks: readonly CheckResult[];
}

export function makeReport(checks: readonly CheckResult[]): ValidationReport {
  return { passed: checks.every((c) => c.passed || c.severity === 'warn'), checks };
}

/** The failed checks of a report, errors first, as one line each (for logs and exceptions). */
export function describeFailures(report: ValidationReport): string[] {
  return [...report.checks]
    .filter((c) => !c.passed)
    .sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1))
    .map((c) => `${c.severity}: ${c.name}: ${c.message}`);
}
