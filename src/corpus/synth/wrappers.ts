import { indent, t, type Line } from './code.js';
import type { Names } from './names.js';
import type { Rng } from './rng.js';
import type { FlowVar } from './template.js';

/**
 * Control-flow wrappers around the sink statements. They do not change what the code does (every
 * condition is always true, every loop runs once) but they change its shape, so a model cannot
 * learn a template by its outline. The wrapper choice is the same for both members of a pair.
 */
export type WrapperKind = 'plain' | 'if-flag' | 'if-call' | 'switch' | 'while-once' | 'for-once' | 'goto' | 'helper';
export const allWrappers: readonly WrapperKind[] = ['plain', 'if-flag', 'if-call', 'switch', 'while-once', 'for-once', 'goto', 'helper'];

/** The per-pair random choices of a wrapper, drawn once so both variants get the same shape. */
export interface WrapperPlan {
  kind: WrapperKind;
  /** Global flag variable / predicate function / helper / label / loop counter name. */
  name: string;
  /** The constant compared against (if-flag, switch). */
  value: number;
  /** if-flag: compare with == value (true) or test for non-zero (false); switch: switch on a local (true) or a literal. */
  variantBit: boolean;
  /** switch: name of the selector local. */
  selector: string;
}

export function planWrapper(kind: WrapperKind, rng: Rng, names: Names): WrapperPlan {
  const name =
    kind === 'if-flag' ? names.v('flag') : kind === 'if-call' || kind === 'helper' ? names.fn() : kind === 'goto' ? names.v('label') : kind === 'for-once' ? names.v('iter') : '';
  return { kind, name, value: rng.int(1, 9), variantBit: rng.chance(0.5), selector: kind === 'switch' ? names.v('idx') : '' };
}

export interface Wrapped {
  /** Top-level lines to place before the entry function. */
  globals: Line[];
  /** Lines that replace the sink in the entry function's body. */
  body: Line[];
  /** The function that ends up holding the sink statements. */
  sinkFunction: string;
}

/** A function definition with its opening brace on its own line (both brace styles agree on that). */
export function functionDef(signature: Line, body: Line[]): Line[] {
  return [signature, '{', ...indent(body), '}'];
}

export function applyWrapper(plan: WrapperPlan, sink: Line[], flow: FlowVar[], entry: string): Wrapped {
  const { name, value } = plan;
  switch (plan.kind) {
    case 'plain':
      return { globals: [], body: sink, sinkFunction: entry };
    case 'if-flag':
      return {
        globals: [`static int ${name} = ${value};`],
        body: [`if (${plan.variantBit ? `${name} == ${value}` : name}) {`, ...indent(sink), '}'],
        sinkFunction: entry,
      };
    case 'if-call':
      return {
        globals: functionDef(`static int ${name}(void)`, [`return ${value};`]),
        body: [`if (${name}() == ${value}) {`, ...indent(sink), '}'],
        sinkFunction: entry,
      };
    case 'switch': {
      const on = plan.variantBit ? plan.selector : String(value);
      const head: Line[] = plan.variantBit ? [`int ${plan.selector} = ${value};`] : [];
      return {
        globals: [],
        body: [...head, `switch (${on}) {`, `case ${value}: {`, ...indent(sink), '    break;', '}', 'default:', '    break;', '}'],
        sinkFunction: entry,
      };
    }
    case 'while-once':
      return { globals: [], body: ['while (1) {', ...indent(sink), '    break;', '}'], sinkFunction: entry };
    case 'for-once':
      return { globals: [], body: [`for (int ${name} = 0; ${name} < 1; ${name}++) {`, ...indent(sink), '}'], sinkFunction: entry };
    case 'goto':
      return { globals: [], body: [`goto ${name};`, `${name}:`, '{', ...indent(sink), '}'], sinkFunction: entry };
    case 'helper': {
      const params = flow.length ? flow.map((v) => `${v.type}${v.type.endsWith('*') ? '' : ' '}${v.name}`).join(', ') : 'void';
      return {
        globals: functionDef(`static void ${name}(${params})`, sink),
        body: [t('call', `${name}(${flow.map((v) => v.name).join(', ')});`)],
        sinkFunction: name,
      };
    }
  }
}
