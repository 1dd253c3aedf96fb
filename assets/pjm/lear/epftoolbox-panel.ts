// Reads epftoolbox's CSV files into LEAR's daily panel: PJM.csv (`Date, price, exogenous…`,
// one row per hour on the 24-hour EPT grid) and Forecasts_*_DNN_LEAR_ensembles.csv (the
// published forecasts, one column per model). Plain text parsing: the files are a few MB and
// the bench and tests need them without a DuckDB connection.
import { readFileSync } from 'node:fs';
import type { DailyPanel } from '../../../lib/lear/index.ts';

interface HourlyCsv {
  readonly header: string[];
  readonly days: string[];
  /** One Float64Array (days × 24) per value column. */
  readonly columns: Float64Array[];
}

function readHourlyCsv(path: string): HourlyCsv {
  const lines = readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = lines[0]!.split(',').map((s) => s.trim());
  const rows = lines.length - 1;
  if (rows % 24 !== 0) throw new Error(`${path}: ${rows} hourly rows is not a whole number of 24-hour days; the epftoolbox files have 24 rows per day.`);
  const days: string[] = [];
  const columns = header.slice(1).map(() => new Float64Array(rows));
  for (let r = 0; r < rows; r++) {
    const fields = lines[r + 1]!.split(',');
    const stamp = fields[0]!.trim();
    const hour = Number(stamp.slice(11, 13));
    if (hour !== r % 24)
      throw new Error(`${path} line ${r + 2}: timestamp ${stamp} should be hour ${r % 24} of its day; the file must be sorted with 24 hours per day.`);
    if (hour === 0) days.push(stamp.slice(0, 10));
    columns.forEach((c, k) => {
      const v = Number(fields[k + 1]);
      if (!Number.isFinite(v)) throw new Error(`${path} line ${r + 2}: column "${header[k + 1]}" is "${fields[k + 1]}", not a number.`);
      c[r] = v;
    });
  }
  return { header, days, columns };
}

/** PJM.csv (price, system load forecast, zonal load forecast) as a LEAR panel. */
export function readEpftoolboxPanel(path: string): DailyPanel {
  const csv = readHourlyCsv(path);
  if (csv.columns.length < 1) throw new Error(`${path}: no price column after the timestamp.`);
  return { days: csv.days, prices: csv.columns[0]!, exogenous: csv.columns.slice(1) };
}

/** The published forecasts: the days covered and each named column as days × 24. */
export function readPublishedForecasts(path: string): { days: string[]; byName: Map<string, Float64Array> } {
  const csv = readHourlyCsv(path);
  return { days: csv.days, byName: new Map(csv.header.slice(1).map((name, k) => [name, csv.columns[k]!])) };
}
