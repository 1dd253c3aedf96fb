// How this process loads libxgboost, given before the first native call: the engine loads
// the library on first use (native.ts), never on import, so an entry point can say how first.
// No native code here: the CLI and the server import this at start at no cost.
//
// The one setting is OpenMP's idle-thread policy. libgomp, which libxgboost pulls in, reads
// OMP_WAIT_POLICY from the C environment once, when it is loaded, and never again: "active"
// threads spin between parallel regions, which on cores shared with the server and other
// jobs made 100 rounds take 27 s instead of 0.45 s; "passive" threads sleep.
import { XGBoostUsageError } from './errors.ts';

export type OmpWaitPolicy = 'passive' | 'active';

export interface XGBoostLoadOptions {
  /** OpenMP's idle-thread policy, put into the C environment right before libxgboost (and libgomp) load. */
  readonly ompWaitPolicy: OmpWaitPolicy;
}

let configured: XGBoostLoadOptions | undefined;
let loadedWith: XGBoostLoadOptions | undefined;

/**
 * Sets how the library will be loaded. Call it before the first XGBoost call (the CLI and the
 * server do, from their settings); once loaded, the same options are accepted and others throw,
 * since OpenMP cannot change its policy in a running process.
 */
export function configureXGBoost(options: XGBoostLoadOptions): void {
  if (loadedWith && loadedWith.ompWaitPolicy !== options.ompWaitPolicy) {
    throw new XGBoostUsageError(
      `configureXGBoost: libxgboost is already loaded with OMP_WAIT_POLICY=${loadedWith.ompWaitPolicy}; ` +
        'OpenMP reads it only when it loads. Configure XGBoost before its first use.',
    );
  }
  configured = options;
}

/**
 * The options to load with (native.ts asks once, when it loads the library): those configured,
 * or, when nothing was configured (a test, a script), `undefined`: then OMP_WAIT_POLICY is left
 * as the process's environment has it, and set to "passive" when it has none.
 */
export function loadOptions(): XGBoostLoadOptions | undefined {
  return configured;
}

/** Records the policy OpenMP was started with (native.ts, once loaded), so a later conflicting configureXGBoost throws. */
export function markLoaded(options: XGBoostLoadOptions): void {
  loadedWith = options;
}
