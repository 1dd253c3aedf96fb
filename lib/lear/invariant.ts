// epftoolbox's 'Invariant' transform (Uniejewski, Weron & Ziel 2018): per column
// z = asinh((x - median) / s), s the normal-consistent MAD (MAD / Φ⁻¹(3/4)); the inverse is
// x = sinh(z) s + median. A column whose MAD is 0 (a price stuck at one value for most of the
// window) is scaled by its standard deviation instead, or 1 if that is 0 too, so it never
// divides by zero.

const MAD_NORMAL = 0.6744897501960817;

export interface InvariantScaler {
  readonly median: Float64Array;
  readonly scale: Float64Array;
}

/** Fits a scaler on columns [0, cols) of a row-major rows × stride matrix. */
export function fitInvariant(data: Float64Array, rows: number, stride: number, cols = stride): InvariantScaler {
  const median = new Float64Array(cols);
  const scale = new Float64Array(cols);
  const column = new Float64Array(rows);
  for (let j = 0; j < cols; j++) {
    let mean = 0;
    for (let i = 0; i < rows; i++) {
      column[i] = data[i * stride + j]!;
      mean += column[i]!;
    }
    mean /= rows;
    const m = medianOf(column);
    let sd = 0;
    for (let i = 0; i < rows; i++) sd += (column[i]! - mean) ** 2;
    sd = Math.sqrt(sd / rows);
    for (let i = 0; i < rows; i++) column[i] = Math.abs(column[i]! - m);
    const mad = medianOf(column) / MAD_NORMAL;
    median[j] = m;
    scale[j] = mad > 0 ? mad : sd > 0 ? sd : 1;
  }
  return { median, scale };
}

/** Transforms columns [0, scaler cols) of a row-major matrix in place. */
export function applyInvariant(scaler: InvariantScaler, data: Float64Array, rows: number, stride: number): void {
  const cols = scaler.median.length;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) data[i * stride + j] = Math.asinh((data[i * stride + j]! - scaler.median[j]!) / scaler.scale[j]!);
  }
}

export function invertInvariant(scaler: InvariantScaler, column: number, z: number): number {
  return Math.sinh(z) * scaler.scale[column]! + scaler.median[column]!;
}

/** The median (mean of the two middle values for an even count), as numpy's. Sorts a copy. */
export function medianOf(values: Float64Array): number {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}
