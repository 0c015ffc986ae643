/**
 * Generated C code for near-duplicate and split tests: "families" of functions in the style of
 * Juliet's flow variants. Variants of one family share a long body and differ in a control-flow
 * wrapper, in variable names and in one fixed statement (bad vs good); different families share
 * nothing but the language. Everything is deterministic by its arguments.
 */
import type { SampleInput } from '../../src/kb/samples.js';

export function rng(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WRAPPERS: Array<[string, string]> = [
  ['', ''],
  ['if (1) {', '}'],
  ['if (GLOBAL_CONST_TRUE) {', '}'],
  ['while (1) {', 'break; }'],
  ['switch (6) { case 6:', 'break; default: break; }'],
  ['for (int once = 0; once < 1; once++) {', '}'],
  ['if (staticFive == 5) {', '}'],
];

export interface FamilyOptions {
  /** Statements in the shared body (longer bodies make variants more similar). */
  statements?: number;
  /** Suffix appended to every local variable name (a rename). */
  rename?: string;
  /** The vulnerable (true) or fixed (false) form of the one statement that differs. */
  bad?: boolean;
}

/** Variant `variant` of family `family`: a complete C function. */
export function familyCode(family: number, variant: number, options: FamilyOptions = {}): string {
  const random = rng(1000 + family * 7919);
  const n = options.statements ?? 36;
  const v = (name: string): string => name + (options.rename ?? '');
  const calls = ['fam' + family + '_read', 'fam' + family + '_scale', 'fam' + family + '_check', 'fam' + family + '_emit'];
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const num = (): number => 1 + Math.floor(random() * 900) + family * 1000;
  const body: string[] = [];
  for (let i = 0; i < n; i++) {
    switch (Math.floor(random() * 5)) {
      case 0:
        body.push(`${v('count')} = ${pick(calls)}(${v('data')}, ${num()});`);
        break;
      case 1:
        body.push(`if (${v('count')} > ${num()}) { ${v('total')} += ${v('count')} * ${num()}; }`);
        break;
      case 2:
        body.push(`${v('buffer')}[${num() % 64}] = (char)(${v('total')} ^ ${num()});`);
        break;
      case 3:
        body.push(`for (${v('i')} = 0; ${v('i')} < ${num()}; ${v('i')}++) { ${v('data')}[${v('i')}] = ${pick(calls)}(${v('i')}, ${num()}); }`);
        break;
      default:
        body.push(`${v('total')} = ${pick(calls)}(${v('total')}, ${v('count')}) + ${num()};`);
    }
  }
  const sink = options.bad === false
    ? `if (${v('count')} < 64) { ${v('buffer')}[${v('count')}] = 0; }`
    : `${v('buffer')}[${v('count')}] = 0;`;
  const [open, close] = WRAPPERS[variant % WRAPPERS.length]!;
  return [
    `void fn${variant}(int *${v('data')})`,
    '{',
    `  int ${v('count')} = 0, ${v('total')} = 0, ${v('i')} = 0;`,
    `  char ${v('buffer')}[64];`,
    `  ${open}`,
    ...body.map((s) => '    ' + s),
    `    ${sink}`,
    `  ${close}`,
    `  fam${family}_emit(${v('buffer')}, ${v('total')});`,
    '}',
  ].join('\n');
}

/**
 * A Juliet-like dataset: `families` functional variants (the group), each with `variants` flow
 * variants, each a bad/good pair. Variable names differ per variant, as if written separately.
 */
export function julietLike(families: number, variants: number, options: { project?: (family: number) => string; commitTime?: (family: number) => string } = {}): SampleInput[] {
  const rows: SampleInput[] = [];
  for (let f = 0; f < families; f++) {
    for (let w = 0; w < variants; w++) {
      for (const bad of [true, false]) {
        rows.push({
          sourceKey: `f${f}_v${w}:${bad ? 'bad' : 'good'}`,
          code: familyCode(f, w, { bad, rename: `_${w}` }),
          language: 'c',
          label: bad ? 1 : 0,
          cwes: [`CWE-${121 + (f % 5)}`],
          flawLines: bad ? [42] : [],
          pairId: `f${f}_v${w}`,
          groupId: `family${f}`,
          project: options.project ? options.project(f) : null,
          commitId: options.project ? `commit-f${f}` : null,
          commitTime: options.commitTime ? options.commitTime(f) : null,
        });
      }
    }
  }
  return rows;
}
