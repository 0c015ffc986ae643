import { catalogEntries, PILLARS, type CweEntry } from './catalog.js';

export type { CweEntry } from './catalog.js';
export { PILLARS } from './catalog.js';

const byId = new Map<string, CweEntry>(catalogEntries.map((e) => [e.id, e]));
const pillarSet = new Set(PILLARS);
const ancestorCache = new Map<string, ReadonlySet<string>>();

/**
 * "CWE-121", "CWE121", "cwe_121", "121" and " CWE-121 " all mean CWE-121. Returns undefined for
 * anything that is not a CWE id (the catalog is not consulted: see isKnownCwe).
 */
export function normaliseCweId(value: string | number): string | undefined {
  const text = String(value).trim();
  const m = /^(?:cwe[\s_-]?)?0*([1-9][0-9]{0,5})$/i.exec(text);
  return m ? `CWE-${m[1]}` : undefined;
}

export function getCwe(id: string | number): CweEntry | undefined {
  const norm = normaliseCweId(id);
  return norm ? byId.get(norm) : undefined;
}

export function isKnownCwe(id: string | number): boolean {
  return getCwe(id) !== undefined;
}

export function listCwes(): CweEntry[] {
  return [...catalogEntries].sort((a, b) => cweNumber(a.id) - cweNumber(b.id));
}

export function isPillar(id: string | number): boolean {
  const norm = normaliseCweId(id);
  return norm !== undefined && pillarSet.has(norm);
}

/** Direct parents (ChildOf, Research view); [] for pillars and unknown ids. */
export function parentsOf(id: string | number): string[] {
  return [...(getCwe(id)?.parents ?? [])];
}

/** Every entry whose parents include id. */
export function childrenOf(id: string | number): string[] {
  const norm = normaliseCweId(id);
  if (!norm) return [];
  return listCwes()
    .filter((e) => e.parents.includes(norm))
    .map((e) => e.id);
}

/** All ancestors, nearest first (breadth-first), without duplicates; [] for unknown ids. */
export function ancestorsOf(id: string | number): string[] {
  return [...ancestorSet(id)];
}

function ancestorSet(id: string | number): ReadonlySet<string> {
  const norm = normaliseCweId(id);
  if (!norm || !byId.has(norm)) return new Set();
  const cached = ancestorCache.get(norm);
  if (cached) return cached;
  const seen = new Set<string>();
  let frontier = byId.get(norm)!.parents;
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const p of frontier) {
      if (seen.has(p) || p === norm) continue;
      seen.add(p);
      next.push(...(byId.get(p)?.parents ?? []));
    }
    frontier = next;
  }
  ancestorCache.set(norm, seen);
  return seen;
}

/** True when `ancestor` is a (strict) ancestor of `descendant`. */
export function isAncestor(ancestor: string | number, descendant: string | number): boolean {
  const a = normaliseCweId(ancestor);
  return a !== undefined && ancestorSet(descendant).has(a);
}

/**
 * Two CWEs describe the same weakness for scoring purposes: they are equal, one is an ancestor of
 * the other, or they share a direct parent that is not a pillar (CWE-121 and CWE-122 share
 * CWE-787; CWE-190 and CWE-191 only share the pillar CWE-682, which is too broad to count).
 */
export function relatedCwe(a: string | number, b: string | number): boolean {
  const x = normaliseCweId(a);
  const y = normaliseCweId(b);
  if (!x || !y) return false;
  if (x === y) return true;
  if (isAncestor(x, y) || isAncestor(y, x)) return true;
  const px = parentsOf(x).filter((p) => !pillarSet.has(p));
  const py = new Set(parentsOf(y));
  return px.some((p) => py.has(p));
}

/** "CWE-121 Stack-based Buffer Overflow", or just the id when it is not in the catalog. */
export function cweLabel(id: string | number): string {
  const entry = getCwe(id);
  return entry ? `${entry.id} ${entry.name}` : (normaliseCweId(id) ?? String(id));
}

function cweNumber(id: string): number {
  return Number(id.slice(4));
}
