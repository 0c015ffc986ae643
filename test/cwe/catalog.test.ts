import { describe, expect, it } from 'vitest';
import {
  ancestorsOf,
  childrenOf,
  cweLabel,
  getCwe,
  isAncestor,
  isKnownCwe,
  listCwes,
  normaliseCweId,
  parentsOf,
  PILLARS,
  relatedCwe,
} from '../../src/cwe/index.js';

/** The 117 CWEs of the Juliet C/C++ 1.3 single-file test cases (hard-coded: tests never read ../shared). */
const julietCwes = [
  15, 23, 36, 78, 90, 114, 121, 122, 123, 124, 126, 127, 134, 176, 188, 190, 191, 194, 195, 196, 197, 222, 223, 226, 242,
  244, 247, 252, 253, 256, 259, 272, 273, 284, 319, 321, 325, 327, 328, 338, 364, 366, 367, 369, 377, 390, 391, 396, 397,
  398, 400, 401, 404, 415, 416, 426, 427, 440, 457, 459, 464, 467, 468, 469, 475, 476, 478, 479, 480, 481, 482, 483, 484,
  506, 510, 511, 526, 534, 535, 546, 561, 562, 563, 570, 571, 587, 588, 590, 591, 605, 606, 615, 617, 620, 665, 666, 667,
  672, 674, 675, 676, 680, 681, 685, 688, 690, 758, 761, 762, 773, 775, 780, 785, 789, 832, 835, 843,
].map((n) => `CWE-${n}`);

/** The 2024 CWE Top 25 Most Dangerous Software Weaknesses. */
const top25 = [79, 787, 89, 352, 22, 125, 78, 416, 862, 434, 94, 20, 77, 287, 269, 502, 200, 863, 918, 119, 476, 798, 190, 400, 306].map(
  (n) => `CWE-${n}`,
);

describe('CWE catalog', () => {
  it('holds every Juliet CWE and the Top 25', () => {
    expect(julietCwes).toHaveLength(117);
    expect(top25).toHaveLength(25);
    expect(julietCwes.filter((id) => !isKnownCwe(id))).toEqual([]);
    expect(top25.filter((id) => !isKnownCwe(id))).toEqual([]);
  });

  it('has unique ids, names, descriptions, parents that exist, and no cycle', () => {
    const all = listCwes();
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    for (const e of all) {
      expect(e.name.length, e.id).toBeGreaterThan(3);
      expect(e.description.length, e.id).toBeGreaterThan(10);
      expect(e.description, e.id).not.toMatch(/\n/);
      for (const p of e.parents) expect(isKnownCwe(p), `${e.id} -> ${p}`).toBe(true);
      expect(e.parents, e.id).not.toContain(e.id);
    }
    // Depth-first search with colours: a grey node reached again means a cycle.
    const colour = new Map<string, 'grey' | 'black'>();
    const visit = (id: string, path: string[]): void => {
      if (colour.get(id) === 'black') return;
      if (colour.get(id) === 'grey') throw new Error(`cycle: ${[...path, id].join(' -> ')}`);
      colour.set(id, 'grey');
      for (const p of parentsOf(id)) visit(p, [...path, id]);
      colour.set(id, 'black');
    };
    for (const e of all) visit(e.id, []);
  });

  it('connects every entry to exactly the pillars at the top', () => {
    for (const e of listCwes()) {
      if (PILLARS.includes(e.id)) {
        expect(e.parents, e.id).toEqual([]);
        continue;
      }
      expect(e.parents.length, `${e.id} has no parent`).toBeGreaterThan(0);
      expect(ancestorsOf(e.id).some((a) => PILLARS.includes(a)), `${e.id} reaches no pillar`).toBe(true);
    }
  });

  it('normalises ids in the usual spellings', () => {
    expect(normaliseCweId('CWE121')).toBe('CWE-121');
    expect(normaliseCweId('121')).toBe('CWE-121');
    expect(normaliseCweId('CWE-121')).toBe('CWE-121');
    expect(normaliseCweId(' cwe_121 ')).toBe('CWE-121');
    expect(normaliseCweId(121)).toBe('CWE-121');
    expect(normaliseCweId('CWE-')).toBeUndefined();
    expect(normaliseCweId('stack overflow')).toBeUndefined();
    expect(normaliseCweId('CWE-0')).toBeUndefined();
  });

  it('looks entries up by any spelling and labels them', () => {
    expect(getCwe('476')?.name).toBe('NULL Pointer Dereference');
    expect(getCwe('CWE-99999')).toBeUndefined();
    expect(cweLabel('cwe416')).toBe('CWE-416 Use After Free');
    expect(cweLabel('CWE-99999')).toBe('CWE-99999');
  });

  it('answers ancestry questions along the Research view', () => {
    expect(parentsOf('CWE-121')).toEqual(['CWE-787', 'CWE-788']);
    expect(isAncestor('CWE-119', 'CWE-121')).toBe(true);
    expect(isAncestor('CWE-664', 'CWE-121')).toBe(true);
    expect(isAncestor('CWE-121', 'CWE-119')).toBe(false);
    expect(isAncestor('CWE-121', 'CWE-121')).toBe(false);
    expect(isAncestor('CWE-190', 'CWE-680')).toBe(true);
    expect(isAncestor('CWE-252', 'CWE-690')).toBe(true);
    expect(isAncestor('CWE-762', 'CWE-590')).toBe(true);
    expect(ancestorsOf('CWE-78').slice(0, 3)).toEqual(['CWE-77', 'CWE-74', 'CWE-707']);
    expect(childrenOf('CWE-506').sort()).toEqual(['CWE-510', 'CWE-511']);
  });

  it('relates equal, ancestral and sibling CWEs but not pillar-only cousins', () => {
    expect(relatedCwe('CWE-121', 'CWE121')).toBe(true);
    expect(relatedCwe('CWE-787', 'CWE-121')).toBe(true);
    expect(relatedCwe('CWE-121', 'CWE-119')).toBe(true);
    expect(relatedCwe('CWE-121', 'CWE-122')).toBe(true);
    expect(relatedCwe('CWE-126', 'CWE-121')).toBe(true);
    expect(relatedCwe('CWE-415', 'CWE-416')).toBe(true);
    expect(relatedCwe('CWE-190', 'CWE-191')).toBe(false);
    expect(relatedCwe('CWE-476', 'CWE-78')).toBe(false);
    expect(relatedCwe('CWE-121', 'not-a-cwe')).toBe(false);
  });
});
