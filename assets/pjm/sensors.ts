// The PJM sensors the daemon evaluates. `da_prices_posted` asks the Data Miner API (source
// dataminer-api only) whether the next EPT delivery day's day-ahead prices are out — PJM
// posts them around 13:30 EPT — and requests exactly the raw price partitions of the nodes
// whose 24 (23, 25) hours are there. Its cursor is the last delivery day fully requested, so
// once a day is in, the sensor stops asking the API about it. It asks only for a day that is a
// partition of pjm/raw/prices at the evaluation's clock (on the live clock the raw prices reach
// the next delivery day, assets/pjm/data-assets.ts), and says why when it is not one.
import { DateTime } from 'luxon';
import { defineSensor, type Sensor } from '../../runtime/automation/sensors.ts';
import { errorMessage, type PartitionsDefinition } from '../../runtime/index.ts';
import type { PjmConfig } from './config.ts';
import { ASSET_KEYS } from './data-assets.ts';
import { DataMinerClient, type DataMinerClientOptions } from './sources/dataminer-api.ts';

export const DA_PRICES_POSTED = 'da_prices_posted';
const EPT = 'America/New_York';
/** Fewer rows than this for a node-day means "not posted yet" (a DST day has 23). */
const MIN_HOURS = 23;

export interface DaPricesSensorOptions {
  /** How often to ask (default 10 minutes: 6 requests an hour stay within a non-member's rate). */
  readonly intervalMs?: number;
  /** Client options beyond the configuration (tests: a small page size). */
  readonly client?: Partial<DataMinerClientOptions>;
}

/** `rawDays`: the day dimension of pjm/raw/prices (the requested partitions must be keys of it). */
export function daPricesPostedSensor(config: PjmConfig, rawDays: PartitionsDefinition, options: DaPricesSensorOptions = {}): Sensor<unknown> {
  return defineSensor({
    name: DA_PRICES_POSTED,
    intervalMs: options.intervalMs ?? 10 * 60_000,
    description: 'Requests pjm/raw_prices for the next EPT delivery day once its day-ahead prices are posted on Data Miner 2.',
    async evaluate({ cursor, now, signal }) {
      const day = DateTime.fromJSDate(now, { zone: EPT }).plus({ days: 1 }).toISODate()!;
      if (cursor !== undefined && cursor >= day) return { runRequests: [], skipReason: `day-ahead prices of ${day} were already requested` };
      try {
        rawDays.validate(day, now);
      } catch (err) {
        // Asking the API would be for nothing: the run could not take the partitions.
        return {
          runRequests: [],
          skipReason: `${day} is not a day of ${ASSET_KEYS.rawPrices} (${rawDays.description}): ${errorMessage(err)} Unset PJM_END to follow the clock.`,
        };
      }
      const client = new DataMinerClient({
        ...config.api,
        ...options.client,
        ...(options.client?.fetch ? {} : { fetch: (u, init) => fetch(u, { ...init, signal }) }),
      });
      const ids = config.nodes.map((n) => n.id);
      const rows = await client.fetchDay('da_hrl_lmps', day, { pnodeIds: ids });
      const hours = new Map<number, number>();
      for (const r of rows) hours.set(Number(r['pnode_id']), (hours.get(Number(r['pnode_id'])) ?? 0) + 1);
      const posted = ids.filter((id) => (hours.get(id) ?? 0) >= MIN_HOURS);
      if (posted.length === 0) return { runRequests: [], skipReason: `day-ahead prices of ${day} are not posted yet (0 of ${ids.length} nodes)` };
      const all = posted.length === ids.length;
      return {
        runRequests: [
          {
            selection: ASSET_KEYS.rawPrices,
            partitions: posted.map((id) => `${id}|${day}`),
            // The day and the nodes: a later evaluation that finds more nodes posted is a new request.
            dedupeKey: `${DA_PRICES_POSTED}:${day}:${posted.join(';')}`,
            reason: `day-ahead prices of ${day} posted for ${posted.length} of ${ids.length} nodes`,
          },
        ],
        // Only a complete day moves the cursor: until then, the missing nodes are asked for again.
        ...(all ? { cursor: day } : {}),
      };
    },
  });
}

/** The PJM sensors for a configuration: none on file sources, which have nothing to wait for. */
export function pjmSensors(config: PjmConfig, rawDays: PartitionsDefinition): Sensor<unknown>[] {
  return config.source === 'dataminer-api' ? [daPricesPostedSensor(config, rawDays)] : [];
}
