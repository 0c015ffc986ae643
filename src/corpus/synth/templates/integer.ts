import { an, intApi, printInt, t, bufferSizes, type IntType, type Line } from '../code.js';
import { allSources } from '../sources.js';
import type { SynthTemplate } from '../template.js';
import { q, rejectMessage, trigger } from './text.js';

/** Arithmetic and conversion flaws on integers taken from input. */

function rangeGuard(cond: string, ok: Line[], complaint: string): Line[] {
  return [t('fix', `if (${cond}) {`), ...ok.map((l) => (typeof l === 'string' ? `    ${l}` : { text: `    ${l.text}`, tags: l.tags })), t('fix', '} else {'), t('fix', `    ${complaint}`), t('fix', '}')];
}

export const integerOverflow: SynthTemplate = {
  id: 'int-overflow',
  cwe: 'CWE-190',
  summary: 'addition, doubling, squaring or increment of an input integer without a range check',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const ty = rng.pick(['int', 'long long', 'unsigned int'] as const);
    const api = intApi(ty);
    const form = rng.pick(['add', 'multiply', 'square', 'increment']);
    const k = rng.int(1, 1000);
    const constExpr = {
      add: `${api.max} - ${rng.int(0, k - 1)}`,
      multiply: `${api.max} / 2 + ${rng.int(1, 100)}`,
      square: `${api.sqrtMax} + ${rng.int(1, 1000)}`,
      increment: api.max,
    }[form]!;
    const source = ctx.intSource({ type: ty, constExpr });
    const v = source.facts.name;
    const r = names.v('result');
    const expr = { add: `${v} + ${k}`, multiply: `${v} * 2`, square: `${v} * ${v}`, increment: `++${v}` }[form]!;
    const cond = {
      add: `${v} <= ${api.max} - ${k}`,
      multiply: api.signed ? `${v} <= ${api.max} / 2 && ${v} >= ${api.min} / 2` : `${v} <= ${api.max} / 2`,
      square: api.signed ? `${v} >= -${api.sqrtMax} && ${v} <= ${api.sqrtMax}` : `${v} <= ${api.sqrtMax}`,
      increment: `${v} < ${api.max}`,
    }[form]!;
    const when = {
      add: `is greater than ${api.max} - ${k}`,
      multiply: api.signed ? `is above ${api.max} / 2 or below ${api.min} / 2` : `is above ${api.max} / 2`,
      square: `has a magnitude above ${api.sqrtMax}`,
      increment: `equals ${api.max}`,
    }[form]!;
    const show = printInt(rng, api, r);
    const complaint = rejectMessage(rng);
    return {
      form,
      headers: ['stdio', api.limitsHeader],
      source,
      sink(variant) {
        const compute = `${ty} ${r} = ${expr};`;
        return variant === 'vulnerable' ? [t('flaw', compute), show] : rangeGuard(cond, [compute, show], complaint);
      },
      explain(x) {
        return {
          title: `Integer overflow in ${q(expr)} (${ty})`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} computes ${q(expr)} in ${ty} from ${x.src.subject} without checking that the result fits below ${api.max}.`,
          trigger: trigger(x, when),
          impact: api.signed
            ? `Signed overflow is undefined behaviour; in practice ${q(r)} wraps to a large negative value, and every size, index or decision derived from it is wrong.`
            : `The result wraps modulo 2^32 to a small number, so ${q(r)} is far smaller than intended and anything sized or checked with it is wrong.`,
          remediation: `Check the operand before the operation (${cond}) and reject or clamp values outside that range.`,
          steps: [{ line: x.v('flaw'), text: `${q(expr)} is evaluated in ${ty} with no range check` }],
          why: [`Line ${x.v('flaw')} computes ${q(expr)} for any value of ${q(v)}, and large values do not fit in ${ty}.`],
          fixedWhy: [`Line ${x.f('fix')} only computes ${q(expr)} when ${cond}, so the result always fits in ${ty}.`],
        };
      },
    };
  },
};

export const integerUnderflow: SynthTemplate = {
  id: 'int-underflow',
  cwe: 'CWE-191',
  summary: 'subtraction or decrement of an input integer that can go below the minimum of its type',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const ty = rng.pick(['int', 'long long', 'unsigned int', 'size_t'] as const);
    const api = intApi(ty);
    const form = api.signed ? rng.pick(['subtract', 'decrement']) : rng.pick(['subtract', 'header']);
    const k = form === 'header' ? rng.pick([4, 8, 12, 16, 20, 24, 32]) : form === 'decrement' ? 1 : rng.int(2, 500);
    const constExpr = api.signed ? (form === 'decrement' ? api.min : `${api.min} + ${rng.int(0, k - 1)}`) : String(rng.int(0, k - 1));
    const source = ctx.intSource({ type: ty, constExpr });
    const v = source.facts.name;
    const r = names.v(form === 'header' ? 'count' : 'result');
    const expr = form === 'decrement' ? `--${v}` : `${v} - ${k}`;
    const cond = api.signed ? `${v} >= ${api.min} + ${k}` : `${v} >= ${k}`;
    const when = api.signed ? `is below ${api.min} + ${k}` : `is less than ${k}`;
    const show = printInt(rng, api, r);
    const complaint = rejectMessage(rng);
    return {
      form,
      headers: ['stdio', api.limitsHeader],
      source,
      sink(variant) {
        const compute = `${ty} ${r} = ${expr};`;
        return variant === 'vulnerable' ? [t('flaw', compute), show] : rangeGuard(cond, [compute, show], complaint);
      },
      explain(x) {
        const header = form === 'header';
        return {
          title: header ? `Integer underflow: ${q(r)} = ${q(v)} - ${k} wraps for short input` : `Integer underflow in ${q(expr)} (${ty})`,
          severity: 'medium',
          rootCause: header
            ? `${q(x.sinkFunction)} derives the payload length ${q(r)} by subtracting ${an(k)}-byte header from ${x.src.subject} without checking that it is at least ${k}; the unsigned subtraction wraps.`
            : `${q(x.sinkFunction)} computes ${q(expr)} in ${ty} from ${x.src.subject} without checking that the result stays above ${api.min}.`,
          trigger: trigger(x, when),
          impact: api.signed
            ? `Signed underflow is undefined behaviour; in practice ${q(r)} wraps to a huge positive value and every later use of it is wrong.`
            : `${q(r)} wraps to a value close to ${api.max}; used as a length or count it leads to huge loops, allocations or copies.`,
          remediation: `Check ${cond} before subtracting, and handle smaller values as an error.`,
          steps: [{ line: x.v('flaw'), text: `${q(expr)} is evaluated without checking the lower bound` }],
          why: [`Line ${x.v('flaw')} subtracts from ${q(v)} even when the result cannot be represented in ${ty}.`],
          fixedWhy: [`Line ${x.f('fix')} requires ${cond} before the subtraction, so it cannot wrap.`],
        };
      },
    };
  },
};

export const divideByZero: SynthTemplate = {
  id: 'divide-by-zero',
  cwe: 'CWE-369',
  summary: 'division or remainder by an input integer that can be zero',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const ty = rng.pick(['int', 'long long', 'unsigned int', 'size_t'] as const);
    const api = intApi(ty);
    const form = rng.pick(['divide', 'modulo']);
    const total = rng.int(100, 100000);
    const source = ctx.intSource({ type: ty, constExpr: '0' });
    const v = source.facts.name;
    const r = names.v('result');
    const op = form === 'divide' ? '/' : '%';
    const show = printInt(rng, api, r);
    const complaint = rejectMessage(rng);
    return {
      form,
      headers: ['stdio'],
      source,
      sink(variant) {
        const compute = `${ty} ${r} = ${total} ${op} ${v};`;
        return variant === 'vulnerable' ? [t('flaw', compute), show] : rangeGuard(`${v} != 0`, [compute, show], complaint);
      },
      explain(x) {
        return {
          title: `Division by zero: ${total} ${op} ${q(v)}`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} uses ${x.src.subject} as the divisor of ${total} ${op} ${q(v)} without checking it for zero.`,
          trigger: trigger(x, 'is 0'),
          impact: `Integer division by zero is undefined behaviour; on common platforms it raises SIGFPE and kills the process (denial of service).`,
          remediation: `Test ${q(v)} != 0 before dividing and handle zero explicitly.`,
          steps: [{ line: x.v('flaw'), text: `${q(v)} is used as a divisor without a zero check` }],
          why: [`Line ${x.v('flaw')} divides by ${q(v)}, which the input can set to zero.`],
          fixedWhy: [`Line ${x.f('fix')} performs the ${form === 'divide' ? 'division' : 'remainder'} only when ${q(v)} != 0.`],
        };
      },
    };
  },
};

export const signedToUnsigned: SynthTemplate = {
  id: 'sign-conversion',
  cwe: 'CWE-195',
  summary: 'signed length checked only against an upper bound, then passed to memcpy as size_t',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const size = rng.pick(bufferSizes);
    const ty = rng.pick(['int', 'long long'] as const);
    const source = ctx.intSource({ type: ty, constExpr: String(-rng.int(1, 1000)) });
    const n = source.facts.name;
    const fill = names.v('buffer');
    const out = names.v('buffer');
    return {
      form: 'memcpy',
      headers: ['stdio', 'string'],
      source,
      sink(variant) {
        const head: Line[] = [`char ${fill}[${size}];`, `char ${out}[${size}];`, `memset(${fill}, 'A', sizeof(${fill}));`, `memset(${out}, 0, sizeof(${out}));`];
        const check = variant === 'vulnerable' ? t('flaw', `if (${n} < ${size}) {`) : t('fix', `if (${n} >= 0 && ${n} < ${size}) {`);
        const copy = `memcpy(${out}, ${fill}, ${n});`;
        return [...head, check, variant === 'vulnerable' ? t('flaw', `    ${copy}`) : `    ${copy}`, `    printf("%d\\n", (int)${out}[0]);`, '}'];
      },
      explain(x) {
        const copyLine = x.vAll('flaw')[1]!;
        return {
          title: `Signed-to-unsigned conversion: negative ${q(n)} becomes a huge memcpy size`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} checks only ${q(n)} < ${size}; ${q(n)} is a signed ${ty}, so a negative value passes and memcpy converts it to size_t, a value near SIZE_MAX.`,
          trigger: trigger(x, 'is negative'),
          impact: `memcpy copies an enormous length into the ${size}-byte stack buffer ${q(out)}, overwriting the stack until the process crashes; a classic path to code execution.`,
          remediation: `Reject negative lengths (${q(n)} >= 0) before the copy, or keep lengths in an unsigned type from the start.`,
          steps: [
            { line: x.v('flaw'), text: `only the upper bound of the signed ${q(n)} is checked` },
            { line: copyLine, text: `memcpy receives ${q(n)} as a size_t, so a negative value becomes huge` },
          ],
          why: [`A negative ${q(n)} passes the check on line ${x.v('flaw')}, and line ${copyLine} converts it to an unsigned size.`],
          fixedWhy: [`Line ${x.f('fix')} requires 0 <= ${q(n)} < ${size}, so the size passed to memcpy fits ${q(out)}.`],
        };
      },
    };
  },
};

export const truncation: SynthTemplate = {
  id: 'numeric-truncation',
  cwe: 'CWE-197',
  summary: 'input integer truncated to short, checked in its short form and used in its full form',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const size = rng.pick(bufferSizes);
    const ty = rng.pick(['int', 'long long'] as const);
    const source = ctx.intSource({ type: ty, constExpr: String(65536 + rng.int(0, size - 1)) });
    const v = source.facts.name;
    const buf = names.v('buffer');
    const len = names.v('count');
    return {
      form: 'short',
      headers: ['stdio', 'string'],
      source,
      sink(variant) {
        if (variant === 'vulnerable') {
          return [
            `char ${buf}[${size}];`,
            t('flaw', `short ${len} = (short)${v};`),
            t('loc', `if (${len} >= 0 && ${len} < ${size}) {`),
            `    memset(${buf}, 'x', (size_t)${v});`,
            `    printf("%d\\n", (int)${buf}[0]);`,
            '}',
          ];
        }
        return [
          `char ${buf}[${size}];`,
          t('fix', `if (${v} >= 0 && ${v} < ${size}) {`),
          t('fix', `    short ${len} = (short)${v};`),
          t('fix', `    memset(${buf}, 'x', (size_t)${len});`),
          `    printf("%d\\n", (int)${buf}[0]);`,
          '}',
        ];
      },
      explain(x) {
        return {
          title: `Numeric truncation: ${q(v)} checked as short but used as ${ty}`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} truncates ${x.src.subject} to the short ${q(len)} and checks that value against ${size}, but passes the untruncated ${q(v)} to memset.`,
          trigger: trigger(x, `is 65536 or more and its low 16 bits are below ${size}`),
          impact: `The check sees a small value while memset writes ${q(v)} bytes into the ${size}-byte stack buffer ${q(buf)}: a stack overflow of attacker-chosen length.`,
          remediation: `Range-check ${q(v)} itself (0 <= ${q(v)} < ${size}) before narrowing it, and use the checked value for the write.`,
          steps: [
            { line: x.v('flaw'), text: `${q(v)} is narrowed to short, dropping its high bits` },
            { line: x.v('loc'), text: `the narrowed ${q(len)} is what gets checked; memset then uses the full ${q(v)}` },
          ],
          why: [`The truncation on line ${x.v('flaw')} makes the check on line ${x.v('loc')} test a different number from the one written.`],
          fixedWhy: [`Line ${x.f('fix')} checks the full value before narrowing it, and the write uses the checked ${q(len)}.`],
        };
      },
    };
  },
};

export const allocOverflow: SynthTemplate = {
  id: 'alloc-size-overflow',
  cwe: 'CWE-680',
  summary: 'element count times element size overflows in malloc, then the loop writes every element',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const elt = rng.pick(['int', 'long', 'double', 'short']);
    const source = ctx.intSource({ type: 'size_t', constExpr: `SIZE_MAX / sizeof(${elt}) + ${rng.int(1, 9)}` });
    const n = source.facts.name;
    const arr = names.v('heap');
    const k = names.v('iter');
    const form = rng.pick(['guard', 'calloc']);
    return {
      form,
      headers: ['stdio', 'stdlib', 'stdint'],
      source,
      sink(variant) {
        const guard: Line[] =
          variant === 'fixed' && form === 'guard' ? [t('fix', `if (${n} == 0 || ${n} > SIZE_MAX / sizeof(${elt})) {`), t('fix', '    return;'), t('fix', '}')] : [];
        const alloc = `${elt} *${arr} = (${elt} *)malloc(${n} * sizeof(${elt}));`;
        const checkedAlloc = `${elt} *${arr} = (${elt} *)calloc(${n}, sizeof(${elt}));`;
        return [
          ...guard,
          variant === 'vulnerable' ? t('flaw', alloc) : form === 'calloc' ? t('fix', checkedAlloc) : alloc,
          `if (${arr} == NULL) {`,
          '    return;',
          '}',
          `for (size_t ${k} = 0; ${k} < ${n}; ${k}++) {`,
          variant === 'vulnerable' ? t('loc', `    ${arr}[${k}] = (${elt})${k};`) : `    ${arr}[${k}] = (${elt})${k};`,
          '}',
          `printf("%zu\\n", ${n});`,
          `free(${arr});`,
        ];
      },
      explain(x) {
        return {
          title: `Integer overflow to buffer overflow: malloc(${q(n)} * sizeof(${elt}))`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} multiplies ${x.src.subject} by sizeof(${elt}) without checking the product; for large ${q(n)} it wraps, malloc returns a small block, and the loop still writes ${q(n)} elements.`,
          trigger: trigger(x, `exceeds SIZE_MAX / sizeof(${elt})`),
          impact: `The loop writes far past the end of the undersized heap block: heap corruption and, with a controlled count, code execution.`,
          remediation: `Reject ${q(n)} > SIZE_MAX / sizeof(${elt}) before allocating (or use calloc, which checks the multiplication).`,
          steps: [
            { line: x.v('flaw'), text: `${q(n)} * sizeof(${elt}) can wrap around to a small allocation size` },
            { line: x.v('loc'), text: `${q(`${arr}[${k}]`)} is written for every ${q(k)} below ${q(n)}, beyond the block` },
          ],
          why: [`The size computed on line ${x.v('flaw')} can be smaller than ${q(n)} elements, but line ${x.v('loc')} writes all of them.`],
          fixedWhy: [
            form === 'calloc'
              ? `Line ${x.f('fix')} allocates with calloc, which fails (returns NULL, handled on the next lines) instead of wrapping when ${q(n)} * sizeof(${elt}) does not fit in size_t.`
              : `Line ${x.f('fix')} rejects counts whose byte size would not fit in size_t, so the allocation always holds ${q(n)} elements.`,
          ],
        };
      },
    };
  },
};

export const shiftTooFar: SynthTemplate = {
  id: 'shift-width',
  cwe: 'CWE-758',
  summary: 'shift by an input count that can be negative or at least the width of the type',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const ty: IntType = rng.pick(['int', 'long long'] as const);
    const source = ctx.intSource({ type: ty, constExpr: rng.chance(0.7) ? String(32 + rng.int(0, 40)) : String(-rng.int(1, 8)) });
    const bits = source.facts.name;
    const mask = names.v('result');
    return {
      form: 'shift',
      headers: ['stdio', 'limits'],
      source,
      sink(variant) {
        if (variant === 'vulnerable') return [t('flaw', `unsigned int ${mask} = 1U << ${bits};`), `printf("%u\\n", ${mask});`];
        return [
          `unsigned int ${mask} = 0;`,
          t('fix', `if (${bits} >= 0 && ${bits} < (${ty})(sizeof(${mask}) * CHAR_BIT)) {`),
          t('fix', `    ${mask} = 1U << ${bits};`),
          t('fix', '}'),
          `printf("%u\\n", ${mask});`,
        ];
      },
      explain(x) {
        return {
          title: `Undefined shift: 1U << ${q(bits)} with an unchecked count`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} shifts by ${x.src.subject} without checking it against the width of unsigned int; shifting by a negative count or by the width or more is undefined behaviour in C and C++.`,
          trigger: trigger(x, 'is negative or at least 32 (the width of unsigned int)'),
          impact: `The compiler may assume the shift is in range and optimise accordingly; in practice x86 masks the count, so ${q(mask)} silently gets the wrong bit and any permission or size mask built from it is wrong.`,
          remediation: `Check 0 <= ${q(bits)} < sizeof(unsigned int) * CHAR_BIT before shifting.`,
          steps: [{ line: x.v('flaw'), text: `1U is shifted by ${q(bits)} with no range check` }],
          why: [`Line ${x.v('flaw')} relies on behaviour the language leaves undefined for out-of-range counts.`],
          fixedWhy: [`Line ${x.f('fix')} shifts only for counts inside the width of ${q(mask)}.`],
        };
      },
    };
  },
};

export const excessiveAlloc: SynthTemplate = {
  id: 'excessive-alloc',
  cwe: 'CWE-789',
  summary: 'allocation sized directly by an input integer with no upper limit',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const ty = rng.pick(['size_t', 'unsigned int', 'int'] as const);
    const api = intApi(ty);
    const limit = rng.pick([4096, 65536, 1048576, 16777216]);
    const source = ctx.intSource({ type: ty, constExpr: ty === 'size_t' ? 'SIZE_MAX / 2' : api.max });
    const n = source.facts.name;
    const buf = names.v('heap');
    const size = ty === 'size_t' ? n : `(size_t)${n}`;
    return {
      form: 'malloc',
      headers: ['stdio', 'stdlib', 'string', api.limitsHeader],
      source,
      sink(variant) {
        const guard: Line[] =
          variant === 'fixed' ? [t('fix', `if (${api.signed ? `${n} <= 0` : `${n} == 0`} || ${n} > ${limit}) {`), t('fix', '    return;'), t('fix', '}')] : [];
        const alloc = `char *${buf} = (char *)malloc(${size});`;
        return [
          ...guard,
          variant === 'vulnerable' ? t('flaw', alloc) : alloc,
          `if (${buf} == NULL) {`,
          '    return;',
          '}',
          `memset(${buf}, 'A', ${size});`,
          `printf("${api.fmt}\\n", ${n});`,
          `free(${buf});`,
        ];
      },
      explain(x) {
        return {
          title: `Uncontrolled allocation size: ${q(`malloc(${n})`)}`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} allocates as many bytes as ${x.src.subject} asks for, with no upper limit${api.signed ? ' and no check for negative values (which convert to huge sizes)' : ''}.`,
          trigger: trigger(x, `is larger than the program can afford (anything above ${limit} here)`),
          impact: `A huge request exhausts memory or address space: the allocation fails or succeeds and then memset touches gigabytes, stalling or killing the process (denial of service).`,
          remediation: `Bound ${q(n)} to a sane maximum (e.g. ${limit}) and reject ${api.signed ? 'non-positive' : 'zero'} values before allocating.`,
          steps: [{ line: x.v('flaw'), text: `malloc is called with the unchecked ${q(n)}` }],
          why: [`Line ${x.v('flaw')} lets the input choose the allocation size without limit.`],
          fixedWhy: [`Line ${x.f('fix')} returns early unless 0 < ${q(n)} <= ${limit}, so allocations stay bounded.`],
        };
      },
    };
  },
};
