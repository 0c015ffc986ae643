import { an, bufferSizes, charApi, printString, t, type Line } from '../code.js';
import { literalText } from '../names.js';
import { allSources } from '../sources.js';
import type { SynthTemplate } from '../template.js';
import { pickHeap, q, trigger } from './text.js';

/** Out-of-bounds writes: stack and heap overflows, underwrites, off-by-one terminators. */

export const stackCopy: SynthTemplate = {
  id: 'stack-copy',
  cwe: 'CWE-121',
  summary: 'input string copied into a fixed-size stack array without a length bound',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const size = rng.pick(bufferSizes);
    const form = rng.pick(api.wide ? ['strcpy', 'strcat', 'memcpy'] : ['strcpy', 'strcat', 'memcpy', 'sprintf']);
    const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, size + rng.int(0, 30)), minCapacity: size + 8 });
    const data = source.facts.name;
    const dest = names.v('buffer');
    const len = names.v('count');
    const show = printString(rng, api, dest);
    const bound = !api.wide && rng.chance(0.5) ? `sizeof(${dest}) - 1` : String(size - 1);
    const decl = form === 'strcat' ? `${api.type} ${dest}[${size}] = ${api.lit('')};` : `${api.type} ${dest}[${size}];`;
    const call = { strcpy: api.strcpy, strcat: api.strcat, memcpy: 'memcpy', sprintf: 'sprintf' }[form]!;
    const fixedCall = { strcpy: api.strncpy, strcat: api.strncat, memcpy: 'memcpy', sprintf: 'snprintf' }[form]!;
    return {
      form,
      headers: ['string', 'stdio'],
      source,
      sink(variant) {
        const vuln = variant === 'vulnerable';
        switch (form) {
          case 'strcpy':
            return vuln
              ? [decl, t('flaw', `${api.strcpy}(${dest}, ${data});`), show]
              : [decl, t('fix', `${api.strncpy}(${dest}, ${data}, ${bound});`), t('fix', `${dest}[${size - 1}] = ${api.nul};`), show];
          case 'strcat':
            return [decl, vuln ? t('flaw', `${api.strcat}(${dest}, ${data});`) : t('fix', `${api.strncat}(${dest}, ${data}, ${bound});`), show];
          case 'memcpy':
            return vuln
              ? [decl, t('loc', `size_t ${len} = ${api.strlen}(${data});`), t('flaw', `memcpy(${dest}, ${data}, (${len} + 1) * sizeof(${api.type}));`), show]
              : [
                  decl,
                  `size_t ${len} = ${api.strlen}(${data});`,
                  t('fix', `if (${len} > ${size - 1}) {`),
                  t('fix', `    ${len} = ${size - 1};`),
                  t('fix', '}'),
                  t('fix', `memcpy(${dest}, ${data}, ${len} * sizeof(${api.type}));`),
                  t('fix', `${dest}[${len}] = ${api.nul};`),
                  show,
                ];
          default:
            return [decl, vuln ? t('flaw', `sprintf(${dest}, "%s", ${data});`) : t('fix', `snprintf(${dest}, sizeof(${dest}), "%s", ${data});`), show];
        }
      },
      explain(x) {
        const fn = x.sinkFunction;
        const steps =
          form === 'memcpy'
            ? [
                { line: x.v('loc'), text: `${q(len)} is the length of ${q(data)}, which nothing has limited` },
                { line: x.v('flaw'), text: `memcpy copies ${q(len)} + 1 ${api.unit} into ${q(dest)}, which holds only ${size}` },
              ]
            : [{ line: x.v('flaw'), text: `${call} writes all of ${q(data)} and its terminator into ${q(dest)}, which holds only ${size} ${api.unit}` }];
        return {
          title: `Stack buffer overflow: unbounded ${call} into ${q(`${dest}[${size}]`)}`,
          severity: 'high',
          rootCause: `${q(fn)} copies ${x.src.subject} into ${q(dest)}, ${an(size)}-element ${api.type} array on the stack, with ${call}${form === 'memcpy' ? ' and a length taken from the source string' : ''}; the copy is never compared with the size of ${q(dest)}.`,
          trigger: trigger(x, `is ${size} ${api.unit} or longer (the terminator needs one more slot)`),
          impact: `The ${api.unit} past the ${size}th overwrite the stack of ${q(fn)} beyond ${q(dest)}: neighbouring locals, saved registers and the return address. The result is a crash or, with crafted input, control of execution.`,
          remediation: `Bound the copy by the size of ${q(dest)}: use ${fixedCall} with at most ${size - 1} ${api.unit} and terminate the result, or reject input of ${size} ${api.unit} or more.`,
          steps,
          why: [`${q(dest)} has room for ${size - 1} ${api.unit} plus the terminator, but line ${x.v('flaw')} copies ${q(data)} without any length limit.`],
          fixedWhy: [`Line ${x.f('fix')}: the copy into ${q(dest)} is limited to ${size - 1} ${api.unit} and the result is always terminated, so it stays inside the ${size}-element array whatever the input length.`],
        };
      },
    };
  },
};

export const stackIndex: SynthTemplate = {
  id: 'stack-index',
  cwe: 'CWE-121',
  summary: 'input integer used as an index into a stack array with a missing upper bound',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const size = rng.pick([8, 10, 16, 20, 32, 50, 64, 100]);
    const elt = rng.pick(['int', 'char', 'double', 'long', 'unsigned int']);
    const value = elt === 'double' ? '1.0' : elt === 'char' ? "'A'" : '1';
    const form = rng.pick(['lower-only', 'no-check']);
    const source = ctx.intSource({ type: rng.pick(['int', 'long long'] as const), constExpr: String(size + rng.int(0, 40)) });
    const i = source.facts.name;
    const arr = names.v('table');
    const show = `printf("%d\\n", (int)${arr}[0]);`;
    const full = `if (${i} >= 0 && ${i} < ${size}) {`;
    return {
      form,
      headers: ['stdio'],
      source,
      sink(variant) {
        const decl = `${elt} ${arr}[${size}] = {0};`;
        if (variant === 'fixed') return [decl, t('fix', full), `    ${arr}[${i}] = ${value};`, t('fix', '}'), show];
        if (form === 'lower-only') return [decl, t('flaw', `if (${i} >= 0) {`), t('flaw', `    ${arr}[${i}] = ${value};`), '}', show];
        return [decl, t('flaw', `${arr}[${i}] = ${value};`), show];
      },
      explain(x) {
        const cond = form === 'lower-only' ? `is ${size} or larger` : `is negative or ${size} or larger`;
        return {
          title: `Stack buffer overflow: ${q(`${arr}[${i}]`)} written with an unchecked index`,
          severity: 'high',
          rootCause:
            form === 'lower-only'
              ? `${q(x.sinkFunction)} only checks that ${q(i)} is not negative before writing ${q(`${arr}[${i}]`)}; the upper bound of the ${size}-element stack array is never checked.`
              : `${q(x.sinkFunction)} writes ${q(`${arr}[${i}]`)} with ${q(i)} straight from the input; neither bound of the ${size}-element stack array is checked.`,
          trigger: trigger(x, cond),
          impact: `The write lands outside ${q(arr)} on the stack of ${q(x.sinkFunction)}, at an offset the input chooses: it can overwrite other locals or the return address.`,
          remediation: `Check both bounds before the write: 0 <= ${q(i)} < ${size}.`,
          steps: [{ line: x.vAll('flaw').at(-1)!, text: `${q(`${arr}[${i}]`)} is written although ${q(i)} can be ${size} or more` }],
          why: [form === 'lower-only' ? `Line ${x.v('flaw')} rejects only negative values of ${q(i)}, so ${size} and above reach the write.` : `Nothing checks ${q(i)} before line ${x.v('flaw')} indexes the array with it.`],
          fixedWhy: [`Line ${x.f('fix')} lets the write happen only when 0 <= ${q(i)} < ${size}, the bounds of ${q(arr)}.`],
        };
      },
    };
  },
};

export const heapCopy: SynthTemplate = {
  id: 'heap-copy',
  cwe: 'CWE-122',
  summary: 'input string copied into a heap buffer that is too small',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const heap = pickHeap(ctx.language, rng.chance(0.5));
    const size = rng.pick(bufferSizes);
    const form = rng.pick(['fixed-size', 'missing-terminator-slot']);
    const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, form === 'fixed-size' ? size + rng.int(0, 30) : rng.int(3, 40)), minCapacity: size + 8 });
    const data = source.facts.name;
    const buf = names.v('heap');
    const len = names.v('count');
    const show = printString(rng, api, buf);
    return {
      form,
      headers: ['string', 'stdio', 'stdlib'],
      source,
      sink(variant) {
        const vuln = variant === 'vulnerable';
        if (form === 'fixed-size') {
          const [first, ...rest] = heap.alloc(buf, api.type, String(size));
          const copy: Line[] = vuln
            ? [t('flaw', `${api.strcpy}(${buf}, ${data});`)]
            : [t('fix', `${api.strncpy}(${buf}, ${data}, ${size - 1});`), t('fix', `${buf}[${size - 1}] = ${api.nul};`)];
          return [t('loc', first!), ...rest, ...copy, show, heap.release(buf)];
        }
        const [first, ...rest] = heap.alloc(buf, api.type, vuln ? len : `${len} + 1`);
        return [`size_t ${len} = ${api.strlen}(${data});`, t(vuln ? 'flaw' : 'fix', first!), ...rest, vuln ? t('flaw', `${api.strcpy}(${buf}, ${data});`) : `${api.strcpy}(${buf}, ${data});`, show, heap.release(buf)];
      },
      explain(x) {
        const fn = x.sinkFunction;
        if (form === 'fixed-size') {
          return {
            title: `Heap buffer overflow: ${api.strcpy} of input into ${an(size)}-element allocation`,
            severity: 'high',
            rootCause: `${q(fn)} allocates ${size} ${api.unit} for ${q(buf)} with ${heap.allocName} and copies ${x.src.subject} into it with ${api.strcpy}, which stops only at the terminator of the source.`,
            trigger: trigger(x, `is ${size} ${api.unit} or longer`),
            impact: `The copy runs past the end of the heap block and corrupts the neighbouring allocations or the allocator's metadata: crashes, or code execution when the heap layout is groomed.`,
            remediation: `Size the copy to the allocation (${api.strncpy} with ${size - 1} and an explicit terminator), or allocate ${api.strlen}(${q(data)}) + 1 ${api.unit}.`,
            steps: [
              { line: x.v('loc'), text: `${q(buf)} gets room for ${size} ${api.unit} on the heap` },
              { line: x.v('flaw'), text: `${api.strcpy} copies the whole of ${q(data)} into ${q(buf)} regardless of that size` },
            ],
            why: [`The heap block behind ${q(buf)} holds ${size} ${api.unit}, and line ${x.v('flaw')} copies an input of unchecked length into it.`],
            fixedWhy: [`Line ${x.f('fix')}: at most ${size - 1} ${api.unit} are copied and the last slot is set to the terminator, so the copy fits the ${size}-element block.`],
          };
        }
        const [allocLine, copyLine] = x.vAll('flaw') as [number, number];
        return {
          title: `Heap buffer overflow: allocation of ${api.strlen}(${q(data)}) leaves no room for the terminator`,
          severity: 'high',
          rootCause: `${q(fn)} allocates exactly ${q(len)} = ${api.strlen}(${q(data)}) ${api.unit} for ${q(buf)}, then ${api.strcpy} copies those ${api.unit} plus the terminating NUL: one element more than was allocated.`,
          trigger: x.src.kind === 'const' ? trigger(x, 'like any string needs one more slot for its terminator') : `Every call, whatever ${x.src.subject} contains: even an empty string overflows the block by its terminator.`,
          impact: `One ${api.type} is written past the end of the heap block; an off-by-one heap write like this corrupts allocator metadata or a neighbouring object and has been exploited in practice.`,
          remediation: `Allocate ${q(len)} + 1 ${api.unit} so the terminator fits.`,
          steps: [
            { line: allocLine, text: `${q(buf)} gets ${q(len)} ${api.unit}, the string length without its terminator` },
            { line: copyLine, text: `${api.strcpy} writes ${q(len)} + 1 ${api.unit} into ${q(buf)}` },
          ],
          why: [`Line ${allocLine} allocates strlen(${q(data)}) ${api.unit}; line ${copyLine} needs one more for the terminator.`],
          fixedWhy: [`Line ${x.f('fix')} allocates ${q(len)} + 1 ${api.unit}, exactly what ${api.strcpy} writes.`],
        };
      },
    };
  },
};

export const underwrite: SynthTemplate = {
  id: 'underwrite',
  cwe: 'CWE-124',
  summary: 'write before the start of a buffer: negative index or length-minus-one on an empty string',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const form = rng.pick(['index', 'trim']);
    const size = rng.pick(bufferSizes);
    if (form === 'index') {
      const source = ctx.intSource({ type: rng.pick(['int', 'long long'] as const), constExpr: String(-rng.int(1, 20)) });
      const i = source.facts.name;
      const arr = names.v('table');
      const elt = rng.pick(['int', 'char', 'long', 'double']);
      const value = elt === 'double' ? '0.5' : elt === 'char' ? "'Z'" : '7';
      return {
        form,
        headers: ['stdio'],
        source,
        sink(variant) {
          const decl = `${elt} ${arr}[${size}] = {0};`;
          return variant === 'vulnerable'
            ? [decl, t('flaw', `if (${i} < ${size}) {`), t('flaw', `    ${arr}[${i}] = ${value};`), '}', `printf("%d\\n", (int)${arr}[0]);`]
            : [decl, t('fix', `if (${i} >= 0 && ${i} < ${size}) {`), `    ${arr}[${i}] = ${value};`, t('fix', '}'), `printf("%d\\n", (int)${arr}[0]);`];
        },
        explain(x) {
          return {
            title: `Buffer underwrite: negative ${q(i)} passes the bound check on ${q(arr)}`,
            severity: 'high',
            rootCause: `${q(x.sinkFunction)} checks only the upper bound (${q(i)} < ${size}) before writing ${q(`${arr}[${i}]`)}; ${q(i)} is signed, so a negative value passes and indexes before the start of the array.`,
            trigger: trigger(x, 'is negative'),
            impact: `The write lands before ${q(arr)} on the stack, overwriting whatever the compiler placed below it (other locals, saved state) at an offset the input chooses.`,
            remediation: `Also require ${q(i)} >= 0 (or make the index unsigned after checking it) before the write.`,
            steps: [
              { line: x.v('flaw'), text: `only ${q(i)} < ${size} is checked` },
              { line: x.vAll('flaw')[1]!, text: `${q(`${arr}[${i}]`)} is written with a possibly negative ${q(i)}` },
            ],
            why: [`A negative ${q(i)} satisfies the check on line ${x.v('flaw')} and the next line writes before the start of ${q(arr)}.`],
            fixedWhy: [`Line ${x.f('fix')} requires 0 <= ${q(i)} < ${size} before the write, so it always lands inside ${q(arr)}.`],
          };
        },
      };
    }
    const api = charApi(ctx.charType);
    const source = ctx.stringSource({ charType: ctx.charType, constText: '' });
    const data = source.facts.name;
    const work = names.v('buffer');
    const len = names.v('count');
    const show = printString(rng, api, work);
    return {
      form,
      headers: ['string', 'stdio'],
      source,
      sink(variant) {
        const head: Line[] = [`${api.type} ${work}[${size}];`, `${api.strncpy}(${work}, ${data}, ${size - 1});`, `${work}[${size - 1}] = ${api.nul};`, t('loc', `size_t ${len} = ${api.strlen}(${work});`)];
        return variant === 'vulnerable'
          ? [...head, t('flaw', `${work}[${len} - 1] = ${api.nul};`), show]
          : [...head, t('fix', `if (${len} > 0) {`), t('fix', `    ${work}[${len} - 1] = ${api.nul};`), t('fix', '}'), show];
      },
      explain(x) {
        return {
          title: `Buffer underwrite: ${q(`${work}[${len} - 1]`)} with ${q(len)} == 0`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} drops the last character of ${q(work)} by writing ${q(`${work}[${len} - 1]`)} without checking that the string is non-empty; ${q(len)} is a size_t, so 0 - 1 wraps to SIZE_MAX and the write lands one element before ${q(work)}.`,
          trigger: trigger(x, 'is empty (its first character is the terminator)'),
          impact: `A terminator is written just below ${q(work)} on the stack, corrupting the adjacent variable or saved data; the program state becomes inconsistent or it crashes.`,
          remediation: `Only strip the last character when ${q(len)} > 0.`,
          steps: [
            { line: x.v('loc'), text: `${q(len)} is the length of the copied input, 0 for an empty string` },
            { line: x.v('flaw'), text: `${q(`${work}[${len} - 1]`)} is written without checking ${q(len)}` },
          ],
          why: [`For an empty input ${q(len)} is 0, so line ${x.v('flaw')} writes to index SIZE_MAX, i.e. the element before ${q(work)}.`],
          fixedWhy: [`Line ${x.f('fix')} only writes ${q(`${work}[${len} - 1]`)} when ${q(len)} > 0, so the index stays inside ${q(work)}.`],
        };
      },
    };
  },
};

export const offByOne: SynthTemplate = {
  id: 'oob-write',
  cwe: 'CWE-787',
  summary: 'off-by-one terminator write or a fill loop bounded by an input count',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const form = rng.pick(['clamp', 'loop']);
    const size = rng.pick(bufferSizes);
    if (form === 'clamp') {
      const api = charApi(ctx.charType);
      const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, size + rng.int(0, 25)), minCapacity: size + 8 });
      const data = source.facts.name;
      const buf = names.v('buffer');
      const n = names.v('count');
      const show = printString(rng, api, buf);
      return {
        form,
        headers: ['string', 'stdio'],
        source,
        sink(variant) {
          const vuln = variant === 'vulnerable';
          const limit = vuln ? size : size - 1;
          const tag = vuln ? 'flaw' : 'fix';
          return [
            `${api.type} ${buf}[${size}];`,
            `size_t ${n} = ${api.strlen}(${data});`,
            t(tag, `if (${n} > ${limit}) {`),
            vuln ? `    ${n} = ${limit};` : t('fix', `    ${n} = ${limit};`),
            vuln ? '}' : t('fix', '}'),
            `memcpy(${buf}, ${data}, ${n} * sizeof(${api.type}));`,
            vuln ? t('flaw', `${buf}[${n}] = ${api.nul};`) : `${buf}[${n}] = ${api.nul};`,
            show,
          ];
        },
        explain(x) {
          const [clampLine, termLine] = x.vAll('flaw') as [number, number];
          return {
            title: `Off-by-one write: terminator stored at ${q(`${buf}[${size}]`)}`,
            severity: 'high',
            rootCause: `${q(x.sinkFunction)} clamps ${q(n)} to ${size}, the full size of ${q(buf)}, instead of ${size - 1}; after copying ${q(n)} ${api.unit} it writes the terminator at ${q(`${buf}[${n}]`)}, which is one past the last element when ${q(n)} == ${size}.`,
            trigger: trigger(x, `is ${size} ${api.unit} or longer`),
            impact: `One ${api.type} past the end of ${q(buf)} is overwritten on the stack; off-by-one stack writes can clobber a saved frame pointer or an adjacent variable.`,
            remediation: `Clamp ${q(n)} to ${size - 1} (sizeof the buffer minus one) so the terminator always fits.`,
            steps: [
              { line: clampLine, text: `${q(n)} is limited to ${size}, one too many for a terminated string in ${q(buf)}` },
              { line: termLine, text: `the terminator is written at index ${q(n)}, i.e. ${size} for long input` },
            ],
            why: [`With ${q(n)} clamped to ${size} (line ${clampLine}), line ${termLine} writes ${q(`${buf}[${size}]`)}, outside the ${size}-element array.`],
            fixedWhy: [`Line ${x.f('fix')} clamps ${q(n)} to ${size - 1}, so the terminator at ${q(`${buf}[${n}]`)} is at most index ${size - 1}.`],
          };
        },
      };
    }
    const ty = rng.pick(['int', 'size_t'] as const);
    const source = ctx.intSource({ type: ty, constExpr: String(size + rng.int(1, 40)) });
    const count = source.facts.name;
    const vals = names.v('table');
    const k = names.v('iter');
    const elt = rng.pick(['int', 'long', 'short', 'unsigned int']);
    return {
      form,
      headers: ['stdio'],
      source,
      sink(variant) {
        const vuln = variant === 'vulnerable';
        return [
          `${elt} ${vals}[${size}];`,
          vuln ? t('flaw', `for (${ty} ${k} = 0; ${k} < ${count}; ${k}++) {`) : t('fix', `for (${ty} ${k} = 0; ${k} < ${count} && ${k} < ${size}; ${k}++) {`),
          vuln ? t('flaw', `    ${vals}[${k}] = (${elt})${k};`) : `    ${vals}[${k}] = (${elt})${k};`,
          '}',
          `printf("%d\\n", (int)${vals}[0]);`,
        ];
      },
      explain(x) {
        const [loopLine, writeLine] = x.vAll('flaw') as [number, number];
        return {
          title: `Out-of-bounds write: loop fills ${q(vals)} up to ${q(count)} elements`,
          severity: 'high',
          rootCause: `The loop in ${q(x.sinkFunction)} runs ${q(count)} times and writes ${q(`${vals}[${k}]`)} each time, but ${q(vals)} has only ${size} elements and ${q(count)} is never compared with that.`,
          trigger: trigger(x, `is larger than ${size}`),
          impact: `Every iteration past the ${size}th writes further beyond ${q(vals)} on the stack, overwriting locals, saved registers and the return address with attacker-chosen length.`,
          remediation: `Stop the loop at the size of the array: ${q(k)} < ${q(count)} && ${q(k)} < ${size}, or reject ${q(count)} > ${size}.`,
          steps: [
            { line: loopLine, text: `the loop bound is ${q(count)}, not the size of ${q(vals)}` },
            { line: writeLine, text: `${q(`${vals}[${k}]`)} is written for every ${q(k)} below ${q(count)}` },
          ],
          why: [`${q(vals)} holds ${size} elements, yet line ${loopLine} iterates up to ${q(count)} and line ${writeLine} writes each index.`],
          fixedWhy: [`Line ${x.f('fix')} also stops at ${size}, so ${q(k)} is always a valid index of ${q(vals)}.`],
        };
      },
    };
  },
};

export const missingTerminator: SynthTemplate = {
  id: 'strncpy-terminator',
  cwe: 'CWE-170',
  summary: 'strncpy with the full buffer size leaves the copy unterminated',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const size = rng.pick(bufferSizes);
    const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, size + rng.int(0, 20)), minCapacity: size + 8 });
    const data = source.facts.name;
    const dest = names.v('buffer');
    const show = printString(rng, api, dest);
    return {
      form: 'strncpy',
      headers: ['string', 'stdio'],
      source,
      sink(variant) {
        return variant === 'vulnerable'
          ? [`${api.type} ${dest}[${size}];`, t('flaw', `${api.strncpy}(${dest}, ${data}, ${size});`), t('loc', show)]
          : [`${api.type} ${dest}[${size}];`, t('fix', `${api.strncpy}(${dest}, ${data}, ${size - 1});`), t('fix', `${dest}[${size - 1}] = ${api.nul};`), show];
      },
      explain(x) {
        return {
          title: `Missing terminator: ${api.strncpy} fills all ${size} elements of ${q(dest)}`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} copies with ${api.strncpy}(${q(dest)}, ${q(data)}, ${size}); when the source has ${size} or more ${api.unit}, ${api.strncpy} writes no terminator, and ${q(dest)} is then used as a string.`,
          trigger: trigger(x, `is ${size} ${api.unit} or longer`),
          impact: `Printing ${q(dest)} reads past its end through adjacent stack memory until a zero happens to appear: information disclosure or a crash.`,
          remediation: `Copy at most ${size - 1} ${api.unit} and set ${q(`${dest}[${size - 1}]`)} to the terminator.`,
          steps: [
            { line: x.v('flaw'), text: `${api.strncpy} fills ${q(dest)} completely and adds no terminator for long input` },
            { line: x.v('loc'), text: `${q(dest)} is read as a terminated string` },
          ],
          why: [`Line ${x.v('flaw')} passes the full size ${size} to ${api.strncpy}, which leaves ${q(dest)} unterminated for long input; line ${x.v('loc')} then reads it as a string.`],
          fixedWhy: [`Lines ${x.f('fix')}-${x.fAll('fix').at(-1)} copy at most ${size - 1} ${api.unit} and always store a terminator in the last element.`],
        };
      },
    };
  },
};
