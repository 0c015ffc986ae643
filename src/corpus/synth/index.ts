import { getCwe, normaliseCweId } from '../../cwe/index.js';
import { UsageError } from '../../util/errors.js';
import { buildPair, type SynthSample } from './pair.js';
import { cycled, Rng } from './rng.js';
import type { SynthTemplate } from './template.js';
import { tableRead, overRead, underRead } from './templates/buffer-read.js';
import { heapCopy, missingTerminator, offByOne, stackCopy, stackIndex, underwrite } from './templates/buffer-write.js';
import { commandInjection, formatString, pathTraversal } from './templates/injection.js';
import {
  allocOverflow,
  divideByZero,
  excessiveAlloc,
  integerOverflow,
  integerUnderflow,
  shiftTooFar,
  signedToUnsigned,
  truncation,
} from './templates/integer.js';
import { doubleFree, freeNonHeap, freeOffset, handleLeak, memoryLeak, mismatchedRelease, useAfterFree } from './templates/memory.js';
import { dangerousScanf, infiniteLoop, missingInit, reachableAssert, uninitializedVariable } from './templates/misc.js';
import { nullDeref, pointerScaling, returnLocal, sizeofPointer, uncheckedNull } from './templates/pointer.js';
import { allWrappers } from './wrappers.js';

export type { SynthSample } from './pair.js';
export type { SynthTemplate } from './template.js';
export { allWrappers, type WrapperKind } from './wrappers.js';
export { allSources, type SourceKind } from './sources.js';

/** Every template, in a fixed order (the seed shuffles the order in which pairs visit them). */
export const templates: readonly SynthTemplate[] = [
  stackCopy,
  stackIndex,
  heapCopy,
  underwrite,
  tableRead,
  overRead,
  underRead,
  formatString,
  missingTerminator,
  integerOverflow,
  integerUnderflow,
  signedToUnsigned,
  truncation,
  commandInjection,
  pathTraversal,
  divideByZero,
  memoryLeak,
  doubleFree,
  useAfterFree,
  uninitializedVariable,
  sizeofPointer,
  pointerScaling,
  nullDeref,
  returnLocal,
  freeNonHeap,
  reachableAssert,
  missingInit,
  dangerousScanf,
  allocOverflow,
  uncheckedNull,
  shiftTooFar,
  freeOffset,
  mismatchedRelease,
  handleLeak,
  offByOne,
  excessiveAlloc,
  infiniteLoop,
];

/** The CWEs the generator has templates for, in catalog order. */
export function supportedCwes(): string[] {
  return [...new Set(templates.map((t) => t.cwe))].sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
}

export interface SynthOptions {
  /** Number of samples; pairs stay together. An odd count ends with one unpaired vulnerable sample. */
  count: number;
  seed: number;
  /** Restrict to these CWEs (any spelling normaliseCweId accepts). */
  cwes?: string[];
}

/** Templates for the requested CWEs; a CWE without a template is a usage error naming the supported ones. */
export function selectTemplates(cwes: string[] | undefined): SynthTemplate[] {
  if (!cwes || cwes.length === 0) return [...templates];
  const wanted = new Set<string>();
  const unknown: string[] = [];
  for (const raw of cwes) {
    const id = normaliseCweId(raw);
    if (!id || !templates.some((t) => t.cwe === id)) unknown.push(raw);
    else wanted.add(id);
  }
  if (unknown.length > 0) {
    const what = unknown.map((u) => (normaliseCweId(u) && getCwe(u) ? `${normaliseCweId(u)} (no template)` : u)).join(', ');
    throw new UsageError(`synth: unsupported CWE ${what}; supported: ${supportedCwes().join(', ')}`);
  }
  return templates.filter((t) => wanted.has(t.cwe));
}

/**
 * Generates `count` samples as vulnerable/fixed pairs, deterministically from `seed`: the same seed
 * gives byte-identical samples, and sample i does not depend on `count`. Pair i uses template
 * i mod T of a seed-shuffled order, so the templates are spread evenly; each template cycles through
 * every wrapper, source and language before repeating one.
 */
export function generateSynth(options: SynthOptions): SynthSample[] {
  const out: SynthSample[] = [];
  for (const sample of iterateSynth(options)) out.push(sample);
  return out;
}

export function* iterateSynth(options: SynthOptions): Generator<SynthSample> {
  const { count, seed } = options;
  if (!Number.isInteger(count) || count < 0) throw new UsageError(`synth: count must be a non-negative integer, got ${count}`);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`synth: seed must be an integer, got ${seed}`);
  const chosen = selectTemplates(options.cwes);
  const order = new Rng(seed, `order:${chosen.map((t) => t.id).join(',')}`).shuffle(chosen);
  const pairs = Math.ceil(count / 2);
  for (let index = 0; index < pairs; index++) {
    const template = order[index % order.length]!;
    const round = Math.floor(index / order.length);
    const [vulnerable, fixed] = buildPair({
      template,
      index,
      seed,
      wrapper: cycled(seed, `${template.id}/wrapper`, round, allWrappers),
      source: cycled(seed, `${template.id}/source`, round, template.sources),
      language: cycled(seed, `${template.id}/language`, round, template.languages),
    });
    yield vulnerable;
    if (2 * index + 1 < count) yield fixed;
  }
}
