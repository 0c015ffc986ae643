import type { Language } from '../code.js';
import type { Rng } from '../rng.js';
import type { ExplainContext } from '../template.js';

/**
 * Shared wording for explanations, so every template describes its trigger and its heap calls the
 * same way and the text always names this instance's variables, sizes and lines.
 */

/** "When <subject> <condition>; <controller> controls that." or, for a constant, "Every call: ...". */
export function trigger(x: ExplainContext, condition: string): string {
  const s = x.src;
  if (s.kind === 'const') {
    return `Every call: ${s.subject} is ${s.constDescription} (line ${x.v('src')}), which ${condition}.`;
  }
  return `Whenever ${s.subject} ${condition}; ${s.controller} decides that.`;
}

/** Backticked identifier. */
export function q(name: string): string {
  return `\`${name}\``;
}

/** Heap vocabulary for one allocation: malloc/free in C, malloc or new[] in C++. */
export interface HeapApi {
  kind: 'malloc' | 'new';
  /** Declaration + allocation of `count` elements of `type` into `name`, with a NULL check for malloc. */
  alloc(name: string, type: string, count: string): string[];
  release(name: string): string;
  allocName: string;
  releaseName: string;
}

export function heapApi(kind: 'malloc' | 'new'): HeapApi {
  if (kind === 'new') {
    return {
      kind,
      alloc: (name, type, count) => [`${type} *${name} = new ${type}[${count}];`],
      release: (name) => `delete[] ${name};`,
      allocName: 'new[]',
      releaseName: 'delete[]',
    };
  }
  return {
    kind,
    alloc: (name, type, count) => [
      `${type} *${name} = (${type} *)malloc(${count === '1' ? '' : `${/^\w+$/.test(count) ? count : `(${count})`} * `}sizeof(${type}));`,
      `if (${name} == NULL) {`,
      '    return;',
      '}',
    ],
    release: (name) => `free(${name});`,
    allocName: 'malloc',
    releaseName: 'free',
  };
}

/** malloc in C; in C++ new[] half the time (chosen by the caller's coin). */
export function pickHeap(language: Language, coin: boolean): HeapApi {
  return heapApi(language === 'cpp' && coin ? 'new' : 'malloc');
}

/** A statement reporting rejected input, in one of several wordings (so no one string marks fixed code). */
export function rejectMessage(rng: Rng): string {
  const text = rng.pick(['value out of range', 'rejected input', 'invalid value', 'ignoring request', 'unexpected value', 'cannot process value']);
  return rng.chance(0.5) ? `fputs("${text}\\n", stderr);` : `fprintf(stderr, "%s\\n", "${text}");`;
}
