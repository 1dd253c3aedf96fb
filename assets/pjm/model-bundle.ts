// The `pjm/model` asset stores every ensemble member in one file: a one-line
// JSON manifest, then each member's XGBoost JSON model byte for byte. Keeping
// the members' exact bytes (no re-serialisation) means what is served is
// exactly what was trained, and `pjm/model_export` can write each member as a
// file Python xgboost loads.

const FORMAT = 'pjm-lmp-xgb-bundle/1';

interface Manifest {
  readonly format: typeof FORMAT;
  readonly members: readonly { readonly file: string; readonly bytes: number }[];
}

export function encodeModelBundle(members: readonly { readonly name: string; readonly bytes: Uint8Array }[]): Buffer {
  const manifest: Manifest = { format: FORMAT, members: members.map((m) => ({ file: m.name, bytes: m.bytes.byteLength })) };
  return Buffer.concat([
    Buffer.from(JSON.stringify(manifest) + '\n'),
    ...members.map((m) => Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength)),
  ]);
}

/** Member file name -> XGBoost JSON bytes. Throws naming what is wrong with a damaged bundle. */
export function decodeModelBundle(bundle: Uint8Array, where = 'model bundle'): Map<string, Uint8Array> {
  const buf = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const newline = buf.indexOf(0x0a);
  if (newline < 0) throw new Error(`${where} is not a ${FORMAT} file (no manifest line). Rematerialize pjm/model.`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(buf.subarray(0, newline).toString('utf8')) as Manifest;
  } catch {
    throw new Error(`${where} has an unreadable manifest line. Rematerialize pjm/model.`);
  }
  if (manifest.format !== FORMAT) throw new Error(`${where} has format ${JSON.stringify(manifest.format)}; expected ${FORMAT}.`);
  const out = new Map<string, Uint8Array>();
  let offset = newline + 1;
  for (const m of manifest.members) {
    if (offset + m.bytes > buf.byteLength)
      throw new Error(`${where} is truncated: member ${m.file} needs ${m.bytes} bytes at offset ${offset}, the file has ${buf.byteLength}.`);
    out.set(m.file, buf.subarray(offset, offset + m.bytes));
    offset += m.bytes;
  }
  if (offset !== buf.byteLength) throw new Error(`${where} has ${buf.byteLength - offset} unexpected trailing bytes.`);
  return out;
}
