// Checks of automation declarations, run by defineAsset and defineDefinitions so a bad cron
// line, zone or deadline fails when the definitions load, naming what to fix.
import { RuntimeError } from '../errors.ts';
import type { AssetKey } from '../keys.ts';
import { parseCron } from './cron.ts';
import type { AutomationPolicy, FreshnessPolicy } from './types.ts';
import { validateTimeOfDay } from './zoned-time.ts';

/** Throws a RuntimeError naming the asset when its freshness declaration cannot be evaluated. */
export function validateFreshness(asset: AssetKey, policy: FreshnessPolicy, partitionsKind: string | undefined): void {
  validateTimeOfDay(`Asset ${asset} freshness`, policy);
  if (policy.partitionDay !== undefined && !Number.isInteger(policy.partitionDay)) {
    throw new RuntimeError('invalid-definition', `Asset ${asset} freshness: partitionDay must be a whole number of days, got ${policy.partitionDay}.`);
  }
  if (partitionsKind !== undefined && partitionsKind !== 'daily') {
    throw new RuntimeError(
      'invalid-definition',
      `Asset ${asset} freshness: a deadline applies to daily partitions or to an unpartitioned asset, not to ${partitionsKind} partitions.`,
    );
  }
  if (partitionsKind === undefined && policy.partitionDay !== undefined) {
    throw new RuntimeError('invalid-definition', `Asset ${asset} freshness: partitionDay names a day partition, but the asset is not partitioned; drop it.`);
  }
}

export function validateAutomation(asset: AssetKey, policy: AutomationPolicy): void {
  if (policy.kind === 'on_cron') parseCron(`Asset ${asset} automation`, policy.cron, policy.timezone);
  else if (policy.kind !== 'eager' && policy.kind !== 'missing') {
    throw new RuntimeError(
      'invalid-definition',
      `Asset ${asset}: automation kind ${JSON.stringify((policy as { kind: unknown }).kind)} is not one of eager, missing, on_cron.`,
    );
  }
}
