// SQL text for DuckDB: the one way this project quotes a string literal, an identifier or a
// list of files, so that a path or a key with a quote in it never ends a literal early.

/** Quotes a string as a SQL literal (paths, keys, markets): `it's` -> `'it''s'`. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Quotes an identifier (a view, table or column name): `a"b` -> `"a""b"`. */
export function sqlIdent(value: string): string {
  return `"${value.replaceAll('"', '""')}"`;
}

/** A DuckDB list literal of strings (file paths): `['a', 'b']`. */
export function sqlStringList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/** `read_parquet([...])` over the given files. */
export function readParquetSql(paths: readonly string[]): string {
  return `read_parquet(${sqlStringList(paths)})`;
}
