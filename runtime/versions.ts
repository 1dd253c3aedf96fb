// Version identifiers. Branded so a code version can never be compared with a
// data version by accident.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Declared by the asset, or a hash of its function source. */
export type CodeVersion = string & { readonly __brand: 'CodeVersion' };
/** A content hash of what a materialization stored: identical data, identical version. */
export type DataVersion = string & { readonly __brand: 'DataVersion' };

const DATA_VERSION_LENGTH = 16;

export function dataVersionOfBytes(bytes: Uint8Array): DataVersion {
  return createHash('sha256').update(bytes).digest('hex').slice(0, DATA_VERSION_LENGTH) as DataVersion;
}

export async function dataVersionOfFile(path: string): Promise<DataVersion> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex').slice(0, DATA_VERSION_LENGTH) as DataVersion;
}

/** The first 8 characters, as shown in tables. */
export function shortVersion(v: string): string {
  return v.length > 10 ? v.slice(0, 8) : v;
}
