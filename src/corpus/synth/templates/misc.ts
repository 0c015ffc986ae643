import { bufferSizes, charApi, intApi, printInt, printString, t, type Line } from '../code.js';
import { literalText } from '../names.js';
import { allSources } from '../sources.js';
import type { SynthTemplate } from '../template.js';
import { heapApi, q, rejectMessage, trigger } from './text.js';

/** Initialization, assertions, dangerous library calls and loops that never end. */

export const uninitializedVariable: SynthTemplate = {
  id: 'uninitialized-variable',
  cwe: 'CWE-457',
  summary: 'variable assigned on only one branch and read on every path',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const form = rng.pick(['int', 'pointer']);
    if (form === 'int') {
      const threshold = rng.int(0, 100);
      const source = ctx.intSource({ type: 'int', constExpr: String(threshold - rng.int(0, 50)) });
      const v = source.facts.name;
      const chosen = names.v('result');
      return {
        form,
        headers: ['stdio'],
        source,
        sink(variant) {
          return [
            variant === 'vulnerable' ? t('loc', `int ${chosen};`) : t('fix', `int ${chosen} = 0;`),
            `if (${v} > ${threshold}) {`,
            `    ${chosen} = ${v} - ${threshold};`,
            '}',
            variant === 'vulnerable' ? t('flaw', `printf("%d\\n", ${chosen});`) : `printf("%d\\n", ${chosen});`,
          ];
        },
        explain(x) {
          return {
            title: `Use of uninitialized variable ${q(chosen)}`,
            severity: 'medium',
            rootCause: `${q(x.sinkFunction)} declares ${q(chosen)} without an initial value and assigns it only when ${q(v)} > ${threshold}, but reads it on every path.`,
            trigger: trigger(x, `is ${threshold} or less`),
            impact: `The printed value is whatever was on the stack: information leaks from earlier calls, and any decision based on it is unpredictable (reading an indeterminate value is undefined behaviour).`,
            remediation: `Initialise ${q(chosen)} at its declaration, or assign it on every branch.`,
            steps: [
              { line: x.v('loc'), text: `${q(chosen)} is declared without an initializer` },
              { line: x.v('flaw'), text: `${q(chosen)} is read even when the assignment was skipped` },
            ],
            why: [`When ${q(v)} <= ${threshold}, nothing writes ${q(chosen)} before line ${x.v('flaw')} reads it.`],
            fixedWhy: [`Line ${x.f('fix')} initialises ${q(chosen)} to 0, so every path reads a defined value.`],
          };
        },
      };
    }
    const api = charApi(ctx.charType);
    const source = ctx.stringSource({ charType: ctx.charType, constText: '' });
    const data = source.facts.name;
    const label = names.v('ptr');
    const fallback = api.lit(rng.pick(['(none)', 'unnamed', '-', 'default']));
    const show = printString(rng, api, label);
    return {
      form,
      headers: ['stdio'],
      source,
      sink(variant) {
        return [
          variant === 'vulnerable' ? t('loc', `const ${api.type} *${label};`) : t('fix', `const ${api.type} *${label} = ${fallback};`),
          `if (${data}[0] != ${api.nul}) {`,
          `    ${label} = ${data};`,
          '}',
          variant === 'vulnerable' ? t('flaw', show) : show,
        ];
      },
      explain(x) {
        return {
          title: `Use of uninitialized pointer ${q(label)}`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} declares the pointer ${q(label)} without a value and sets it only for non-empty input, then always prints through it.`,
          trigger: trigger(x, 'is empty'),
          impact: `The print dereferences a garbage address: a crash, or disclosure of whatever memory it happens to point to.`,
          remediation: `Initialise ${q(label)} to a fallback string at its declaration.`,
          steps: [
            { line: x.v('loc'), text: `${q(label)} is declared without an initializer` },
            { line: x.v('flaw'), text: `${q(label)} is dereferenced even when it was never set` },
          ],
          why: [`For empty input the assignment is skipped, so line ${x.v('flaw')} uses an indeterminate pointer.`],
          fixedWhy: [`Line ${x.f('fix')} gives ${q(label)} a fallback value, so it is always valid when printed.`],
        };
      },
    };
  },
};

export const missingInit: SynthTemplate = {
  id: 'uninitialized-buffer',
  cwe: 'CWE-665',
  summary: 'strncat onto a buffer that was never initialised as an empty string',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const form = rng.pick(['stack', 'heap']);
    const heap = heapApi(ctx.language === 'cpp' && rng.chance(0.5) ? 'new' : 'malloc');
    const size = rng.pick(bufferSizes);
    const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, rng.int(3, 30)) });
    const data = source.facts.name;
    const buf = names.v(form === 'stack' ? 'buffer' : 'heap');
    const show = printString(rng, api, buf);
    return {
      form: form === 'heap' ? `heap-${heap.kind}` : form,
      headers: ['stdio', 'string', 'stdlib'],
      source,
      sink(variant) {
        const vuln = variant === 'vulnerable';
        const decl = form === 'stack' ? [`${api.type} ${buf}[${size}];`] : heap.alloc(buf, api.type, String(size));
        const first = vuln ? t('flaw', decl[0]!) : decl[0]!;
        const append = `${api.strncat}(${buf}, ${data}, ${size - 1});`;
        return [
          first,
          ...decl.slice(1),
          ...(vuln ? [] : [t('fix', `${buf}[0] = ${api.nul};`)]),
          vuln ? t('flaw', append) : append,
          show,
          ...(form === 'heap' ? [heap.release(buf)] : []),
        ];
      },
      explain(x) {
        const [declLine, catLine] = x.vAll('flaw') as [number, number];
        const where = form === 'stack' ? 'stack array' : `block from ${heap.allocName}`;
        return {
          title: `Improper initialization: ${api.strncat} onto the uninitialised ${q(buf)}`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} appends to ${q(buf)} with ${api.strncat}, which starts writing at the first terminator already in the buffer, but ${q(buf)} (a ${where}) was never initialised to an empty string.`,
          trigger: `Every call: the initial contents of ${q(buf)} are indeterminate, so where the append starts is left to chance.`,
          impact: `If no zero is found inside the ${size} elements, the append writes past the end of ${q(buf)}; otherwise leftover memory is printed with the input (disclosure).`,
          remediation: `Set ${q(`${buf}[0]`)} to the terminator (or initialise the whole buffer) before appending.`,
          steps: [
            { line: declLine, text: `${q(buf)} is created without initial contents` },
            { line: catLine, text: `${api.strncat} searches the indeterminate contents for a terminator before appending` },
          ],
          why: [`Nothing between line ${declLine} and line ${catLine} gives ${q(buf)} a terminator.`],
          fixedWhy: [`Line ${x.f('fix')} makes ${q(buf)} an empty string before the append, so ${api.strncat} starts at index 0 and writes at most ${size - 1} ${api.unit} plus the terminator.`],
        };
      },
    };
  },
};

export const reachableAssert: SynthTemplate = {
  id: 'reachable-assert',
  cwe: 'CWE-617',
  summary: 'assert on an input value that the input can violate',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const limit = rng.pick([8, 16, 64, 100, 256, 1000, 4096]);
    const ty = rng.pick(['int', 'long long'] as const);
    const source = ctx.intSource({ type: ty, constExpr: String(limit + rng.int(0, 500)) });
    const v = source.facts.name;
    const r = names.v('result');
    const api = intApi(ty);
    const use: Line[] = [`${ty} ${r} = ${v} * 2;`, printInt(rng, api, r)];
    const complaint = rejectMessage(rng);
    return {
      form: 'assert',
      headers: ['stdio', 'assert'],
      source,
      sink(variant) {
        if (variant === 'vulnerable') return [t('flaw', `assert(${v} >= 0 && ${v} < ${limit});`), ...use];
        return [t('fix', `if (${v} < 0 || ${v} >= ${limit}) {`), t('fix', `    ${complaint}`), t('fix', '    return;'), t('fix', '}'), ...use];
      },
      explain(x) {
        return {
          title: `Reachable assertion on ${q(v)}`,
          severity: 'low',
          rootCause: `${q(x.sinkFunction)} validates ${x.src.subject} with assert(0 <= ${q(v)} < ${limit}); assert is for impossible states, but here the input decides whether it fails.`,
          trigger: trigger(x, `is negative or ${limit} or larger`),
          impact: `A failing assert calls abort(): the process dies (denial of service). In builds with NDEBUG the check disappears and the value is used unchecked.`,
          remediation: `Replace the assert with an explicit range check that rejects bad input gracefully.`,
          steps: [{ line: x.v('flaw'), text: `assert aborts the process when ${q(v)} is out of range` }],
          why: [`Line ${x.v('flaw')} turns invalid input into an abort instead of an error.`],
          fixedWhy: [`Line ${x.f('fix')} rejects out-of-range values with an error message and returns; no assert depends on the input.`],
        };
      },
    };
  },
};

export const dangerousScanf: SynthTemplate = {
  id: 'scanf-unbounded',
  cwe: 'CWE-676',
  summary: 'sscanf with an unbounded %s conversion into a fixed-size buffer',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const size = rng.pick(bufferSizes);
    const source = ctx.stringSource({ charType: 'char', constText: literalText(rng, size + rng.int(0, 30), '.'), minCapacity: size + 8 });
    const data = source.facts.name;
    const word = names.v('buffer');
    const show = printString(rng, charApi('char'), word);
    return {
      form: 'sscanf',
      headers: ['stdio'],
      source,
      sink(variant) {
        const head = variant === 'vulnerable' ? t('flaw', `if (sscanf(${data}, "%s", ${word}) == 1) {`) : t('fix', `if (sscanf(${data}, "%${size - 1}s", ${word}) == 1) {`);
        return [`char ${word}[${size}];`, head, `    ${show}`, '}'];
      },
      explain(x) {
        return {
          title: `Dangerous function: sscanf "%s" into ${q(`${word}[${size}]`)}`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} uses sscanf with a bare %s conversion, which stores a whole whitespace-delimited word of any length; ${q(word)} has ${size} bytes.`,
          trigger: trigger(x, `starts with a word of ${size} characters or more`),
          impact: `The conversion writes past ${q(word)} on the stack: corruption of locals and the return address, potentially code execution.`,
          remediation: `Give %s a field width of ${size - 1} ("%${size - 1}s"), or parse with a bounded routine.`,
          steps: [{ line: x.v('flaw'), text: `sscanf stores the first word of ${q(data)} into ${q(word)} with no length limit` }],
          why: [`The %s on line ${x.v('flaw')} has no width, so the word's length alone decides how much is written.`],
          fixedWhy: [`Line ${x.f('fix')} limits the conversion to ${size - 1} characters, leaving room for the terminator in ${q(word)}.`],
        };
      },
    };
  },
};

export const infiniteLoop: SynthTemplate = {
  id: 'infinite-loop',
  cwe: 'CWE-835',
  summary: 'loop whose exit condition the input can make unreachable (narrow counter, step past zero)',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const form = rng.pick(['narrow-counter', 'step-past-zero']);
    const ty = rng.pick(['int', 'long long'] as const);
    const source = ctx.intSource({ type: ty, constExpr: form === 'narrow-counter' ? String(256 + rng.int(0, 2000)) : String(2 * rng.int(1, 500) + 1) });
    const v = source.facts.name;
    const k = names.v('iter');
    const total = names.v('result');
    if (form === 'narrow-counter') {
      return {
        form,
        headers: ['stdio'],
        source,
        sink(variant) {
          const head = variant === 'vulnerable' ? t('flaw', `for (unsigned char ${k} = 0; ${k} < ${v}; ${k}++) {`) : t('fix', `for (${ty} ${k} = 0; ${k} < ${v}; ${k}++) {`);
          return [`unsigned long ${total} = 0;`, head, `    ${total} += ${k};`, '}', `printf("%lu\\n", ${total});`];
        },
        explain(x) {
          return {
            title: `Infinite loop: unsigned char counter ${q(k)} compared with ${q(v)}`,
            severity: 'medium',
            rootCause: `The loop in ${q(x.sinkFunction)} counts with an unsigned char, which wraps from 255 to 0, so ${q(k)} < ${q(v)} stays true forever when ${q(v)} is above 255.`,
            trigger: trigger(x, 'is greater than 255'),
            impact: `The function never returns and burns a CPU core: denial of service.`,
            remediation: `Use a counter of the same type as ${q(v)} (${ty}).`,
            steps: [{ line: x.v('flaw'), text: `${q(k)} can never reach a ${q(v)} above 255` }],
            why: [`An unsigned char cannot hold values above 255, so the condition on line ${x.v('flaw')} never becomes false for larger ${q(v)}.`],
            fixedWhy: [`Line ${x.f('fix')} counts in ${ty}, the type of ${q(v)}, so ${q(k)} reaches ${q(v)} and the loop ends.`],
          };
        },
      };
    }
    return {
      form,
      headers: ['stdio'],
      source,
      sink(variant) {
        const head = variant === 'vulnerable' ? t('flaw', `while (${v} != 0) {`) : t('fix', `while (${v} > 0) {`);
        return [`unsigned long ${total} = 0;`, head, `    ${v} -= 2;`, `    ${total}++;`, '}', `printf("%lu\\n", ${total});`];
      },
      explain(x) {
        return {
          title: `Infinite loop: ${q(v)} stepped by 2 until it equals 0`,
          severity: 'medium',
          rootCause: `The loop in ${q(x.sinkFunction)} subtracts 2 from ${q(v)} until it is exactly 0; an odd or negative start value skips 0 and the loop continues past it.`,
          trigger: trigger(x, 'is odd or negative'),
          impact: `The loop runs (practically) forever and eventually overflows ${q(v)}, which is undefined behaviour: the function hangs (denial of service).`,
          remediation: `Use a relational exit condition (${q(v)} > 0) instead of equality.`,
          steps: [{ line: x.v('flaw'), text: `the loop only stops when ${q(v)} hits exactly 0` }],
          why: [`Line ${x.v('flaw')} tests for equality with 0, which odd or negative values never reach by steps of 2.`],
          fixedWhy: [`Line ${x.f('fix')} stops as soon as ${q(v)} is no longer positive, which every start value reaches.`],
        };
      },
    };
  },
};
