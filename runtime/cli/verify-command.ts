// `materialize verify [selection] [-p PARTITIONS] [--json]`: hashes every current file of the
// selection against its data version, reports each bad one (asset, partition, path, expected
// and found), records it as corrupt in the store so status shows it and the next run rewrites
// it, and exits 1 when any is bad.
import type { Instance } from '../instance.ts';
import { describeBadFile, verifyStore } from '../integrity.ts';
import { progressLine } from './render.ts';

export async function verifyCommand(
  instance: Instance<unknown>,
  selection: string,
  opts: { partition?: string; json?: boolean },
  out: NodeJS.WriteStream,
): Promise<number> {
  const progress = opts.json ? undefined : progressLine(out, 'verifying');
  let result: Awaited<ReturnType<typeof verifyStore>>;
  try {
    result = await verifyStore(instance, { selection, partitions: opts.partition, onProgress: (done, total) => progress?.update(done, total) });
  } finally {
    progress?.close();
  }
  if (opts.json) {
    out.write(JSON.stringify(result) + '\n');
    return result.bad.length > 0 ? 1 : 0;
  }
  for (const b of result.bad) out.write(`CORRUPT ${describeBadFile(b)}\n`);
  if (result.bad.length === 0) {
    out.write(`${result.checked} current file${result.checked === 1 ? '' : 's'} checked: every one matches its data version.\n`);
  } else {
    out.write(
      `${result.checked} current files checked, ${result.bad.length} bad. They are marked corrupt in the store: \`materialize status\` shows them, and \`materialize\` (or --force on them) rewrites them.\n`,
    );
  }
  if (result.cleared > 0)
    out.write(
      `${result.cleared} partition${result.cleared === 1 ? ' was' : 's were'} marked corrupt but now match${result.cleared === 1 ? 'es' : ''}; the mark${result.cleared === 1 ? ' is' : 's are'} cleared.\n`,
    );
  return result.bad.length > 0 ? 1 : 0;
}
