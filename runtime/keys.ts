// Asset keys: path-like names (`pjm/raw`) that also become storage paths, so
// they are validated once, here, and carried as a branded type afterwards.
import { RuntimeError } from './errors.ts';

export type AssetKey = string & { readonly __brand: 'AssetKey' };

/** A partition key; '' stands for "the whole asset" of an unpartitioned asset. */
export type PartitionKey = string;
export const UNPARTITIONED: PartitionKey = '';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAX_KEY_LENGTH = 200;

/** Validates and brands an asset key. Segments: letters, digits, `_ . -`; no `..`, no absolute path. */
export function assetKey(raw: string): AssetKey {
  const problem = assetKeyProblem(raw);
  if (problem) {
    throw new RuntimeError(
      'invalid-asset-key',
      `Invalid asset key ${JSON.stringify(raw)}: ${problem}. Use path-like keys such as "pjm/raw": segments of letters, digits, "_", "." or "-", separated by "/".`,
    );
  }
  return raw as AssetKey;
}

function assetKeyProblem(raw: string): string | undefined {
  if (typeof raw !== 'string' || raw.length === 0) return 'it is empty';
  if (raw.length > MAX_KEY_LENGTH) return `it is longer than ${MAX_KEY_LENGTH} characters`;
  if (raw.startsWith('/')) return 'it is an absolute path';
  if (raw.endsWith('/')) return 'it ends with "/"';
  for (const segment of raw.split('/')) {
    if (segment === '') return 'it has an empty segment ("//")';
    if (segment === '.' || segment === '..') return `it has a "${segment}" segment`;
    if (!SEGMENT.test(segment)) return `segment ${JSON.stringify(segment)} has characters other than letters, digits, "_", "." or "-"`;
  }
  return undefined;
}

/** The name an input is known by inside `materialize(ctx)`: the last key segment. */
export function defaultInputName(key: AssetKey): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/** "pjm/raw" or "pjm/raw[2025-05-01]" — how logs and errors name one asset partition. */
export function describePartition(asset: string, partition: PartitionKey): string {
  return partition === UNPARTITIONED ? asset : `${asset}[${partition}]`;
}
