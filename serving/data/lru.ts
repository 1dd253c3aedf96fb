// A least-recently-used map of bounded size, for the feature and prediction caches:
// mnemonist's LRUMap, which keeps the order in typed arrays, so a hit moves an index. The
// Map this replaces kept its order by deleting and re-inserting the key on every hit, which
// churned the Map's table: ~250 ns more per hit (measured in a loop of the cached /predict
// lane's lookup), twice per cached answer.
import lruMap from 'mnemonist/lru-map.js';

type LRUMap<K, V> = import('mnemonist/lru-map.js').default<K, V>;

// mnemonist's typings declare an ES default export; its CommonJS module exports the class itself.
export const Lru = lruMap as unknown as new <K, V>(capacity: number) => LRUMap<K, V>;
export type Lru<K, V> = LRUMap<K, V>;
