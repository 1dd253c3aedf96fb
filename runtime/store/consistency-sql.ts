// The store's consistency rule as one query both stores run (checkConsistency): standard SQL
// that SQLite and PostgreSQL read alike.
/** Current pointers that break the store's promise: each names a published version of its own partition, with a file. */
export const BAD_CURRENT_SQL = `
  SELECT c.asset, c.partition,
    CASE WHEN m.id IS NULL THEN 'the current pointer names materialization ' || c.materialization_id || ', which does not exist'
         WHEN m.asset != c.asset OR m.partition != c.partition THEN 'the current pointer names materialization ' || m.id || ' of ' || m.asset || '[' || m.partition || ']'
         WHEN m.status != 'published' THEN 'the current version ' || m.id || ' was never published (status ' || m.status || ')'
         ELSE 'the current version ' || m.id || ' has no stored file' END AS problem
  FROM current c LEFT JOIN materializations m ON m.id = c.materialization_id
  WHERE m.id IS NULL OR m.asset != c.asset OR m.partition != c.partition OR m.status != 'published' OR m.location IS NULL
  ORDER BY c.asset, c.partition`;
