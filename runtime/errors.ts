// One error type for everything a user of the runtime can get wrong: a bad
// definition, a bad selection, a malformed partition. Each carries a `reason`
// (a closed set of strings) so the CLI, the server and the tests can react to
// the kind of failure without parsing messages, and a message that names the
// asset, partition or field involved and says what to do.

export type RuntimeErrorReason =
  | 'invalid-asset-key'
  | 'duplicate-asset'
  | 'missing-dependency'
  | 'cycle'
  | 'unknown-asset'
  | 'invalid-selection'
  | 'invalid-partition'
  | 'invalid-partition-mapping'
  | 'invalid-definition'
  | 'store-schema'
  | 'store-record'
  | 'store-config'
  | 'store-connection'
  | 'lease-timeout'
  | 'lease-lost'
  | 'storage'
  | 'resource-exhausted'
  | 'invalid-setting';

export class RuntimeError extends Error {
  override readonly name: string = 'RuntimeError';
  constructor(
    readonly reason: RuntimeErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/** True when `err` is a RuntimeError of one of the given reasons (any, when none given). */
export function isRuntimeError(err: unknown, ...reasons: RuntimeErrorReason[]): err is RuntimeError {
  return err instanceof RuntimeError && (reasons.length === 0 || reasons.includes(err.reason));
}

/** A short, human message for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
