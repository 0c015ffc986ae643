import { charApi, printString, t, type Line } from '../code.js';
import { literalText } from '../names.js';
import { allSources } from '../sources.js';
import type { SynthTemplate } from '../template.js';
import { functionDef } from '../wrappers.js';
import { q, trigger } from './text.js';

/** Pointers that are NULL, stale, mis-sized or mis-scaled. */

export const nullDeref: SynthTemplate = {
  id: 'null-lookup',
  cwe: 'CWE-476',
  summary: 'lookup result that stays NULL when the key is missing is dereferenced',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const n = rng.int(3, 6);
    const keys = rng.shuffle(Array.from({ length: 60 }, (_, i) => (i + 1) * rng.int(3, 7))).slice(0, n);
    const uniqueKeys = [...new Set(keys)];
    const missing = Math.max(...uniqueKeys) + rng.int(1, 50);
    const source = ctx.intSource({ type: 'int', constExpr: String(missing) });
    const v = source.facts.name;
    const type = names.type();
    const key = names.v('field');
    const weight = names.v('field');
    const table = names.v('table');
    const found = names.v('ptr');
    const k = names.v('iter');
    const rows = uniqueKeys.map((kk) => `{${kk}, ${rng.int(1, 99)}}`).join(', ');
    const use = `printf("%d\\n", ${found}->${weight});`;
    return {
      form: 'lookup',
      headers: ['stdio'],
      source,
      globals: () => [`struct ${type} {`, `    int ${key};`, `    int ${weight};`, '};', `static struct ${type} ${table}[${uniqueKeys.length}] = {${rows}};`],
      sink(variant) {
        const head: Line[] = [
          t('loc', `struct ${type} *${found} = NULL;`),
          `for (int ${k} = 0; ${k} < ${uniqueKeys.length}; ${k}++) {`,
          `    if (${table}[${k}].${key} == ${v}) {`,
          `        ${found} = &${table}[${k}];`,
          '        break;',
          '    }',
          '}',
        ];
        return variant === 'vulnerable' ? [...head, t('flaw', use)] : [...head, t('fix', `if (${found} != NULL) {`), `    ${use}`, t('fix', '}')];
      },
      explain(x) {
        return {
          title: `NULL pointer dereference: ${q(found)} used when ${q(v)} is not in ${q(table)}`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} looks ${x.src.subject} up in ${q(table)}; ${q(found)} stays NULL when no entry matches, and it is dereferenced without a check.`,
          trigger: trigger(x, `matches none of the ${uniqueKeys.length} keys (${uniqueKeys.join(', ')})`),
          impact: `Reading ${q(`${found}->${weight}`)} through NULL crashes the process (denial of service).`,
          remediation: `Check ${q(found)} != NULL after the search and handle a missing key.`,
          steps: [
            { line: x.v('loc'), text: `${q(found)} starts as NULL and is only set when a key matches` },
            { line: x.v('flaw'), text: `${q(found)} is dereferenced without a NULL check` },
          ],
          why: [`An unknown key leaves ${q(found)} NULL, and line ${x.v('flaw')} dereferences it anyway.`],
          fixedWhy: [`Line ${x.f('fix')} dereferences ${q(found)} only when the search found an entry.`],
        };
      },
    };
  },
};

export const uncheckedNull: SynthTemplate = {
  id: 'unchecked-null-return',
  cwe: 'CWE-690',
  summary: 'return value of strchr or malloc dereferenced without a NULL check',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const form = rng.pick(['strchr', 'malloc']);
    if (form === 'strchr') {
      const api = charApi(ctx.charType);
      const delim = rng.pick(['=', ':', '@', '/']);
      const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, rng.int(4, 30)) });
      const data = source.facts.name;
      const sep = names.v('ptr');
      const show = printString(rng, api, `${sep} + 1`);
      return {
        form,
        headers: ['stdio', 'string'],
        source,
        sink(variant) {
          const find = t('loc', `const ${api.type} *${sep} = ${api.strchr}(${data}, ${api.ch(delim)});`);
          return variant === 'vulnerable' ? [find, t('flaw', show)] : [find, t('fix', `if (${sep} != NULL) {`), `    ${show}`, t('fix', '}')];
        },
        explain(x) {
          return {
            title: `Unchecked ${api.strchr} result dereferenced`,
            severity: 'medium',
            rootCause: `${q(x.sinkFunction)} searches ${x.src.subject} for '${delim}' with ${api.strchr} and prints the text after it without checking whether ${api.strchr} returned NULL.`,
            trigger: trigger(x, `contains no '${delim}'`),
            impact: `${q(`${sep} + 1`)} is then address 1 (NULL plus one element), and reading it crashes the process.`,
            remediation: `Check ${q(sep)} != NULL before using it and treat a missing '${delim}' as malformed input.`,
            steps: [
              { line: x.v('loc'), text: `${api.strchr} returns NULL when '${delim}' is absent` },
              { line: x.v('flaw'), text: `${q(sep)} + 1 is read without a NULL check` },
            ],
            why: [`Line ${x.v('flaw')} uses the result of ${api.strchr} from line ${x.v('loc')} unconditionally.`],
            fixedWhy: [`Line ${x.f('fix')} uses ${q(sep)} only when ${api.strchr} found '${delim}'.`],
          };
        },
      };
    }
    const source = ctx.intSource({ type: 'size_t', constExpr: `SIZE_MAX / ${rng.pick([4, 8, 16])}` });
    const n = source.facts.name;
    const elt = rng.pick(['int', 'long', 'double']);
    const arr = names.v('heap');
    return {
      form,
      headers: ['stdio', 'stdlib', 'string', 'stdint'],
      source,
      sink(variant) {
        const alloc = t('loc', `${elt} *${arr} = (${elt} *)malloc(${n} * sizeof(${elt}));`);
        const check: Line[] = variant === 'fixed' ? [t('fix', `if (${arr} == NULL) {`), t('fix', '    return;'), t('fix', '}')] : [];
        const fill = `memset(${arr}, 0, ${n} * sizeof(${elt}));`;
        return [alloc, ...check, variant === 'vulnerable' ? t('flaw', fill) : fill, `printf("%zu\\n", ${n});`, `free(${arr});`];
      },
      explain(x) {
        return {
          title: `Unchecked malloc result: ${q(arr)} used when the allocation fails`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} allocates ${q(n)} elements, a count taken from ${x.src.subject}, and writes to ${q(arr)} without checking that malloc succeeded.`,
          trigger: trigger(x, 'is so large that malloc fails and returns NULL'),
          impact: `memset writes through a NULL pointer and the process crashes (denial of service); on platforms where low addresses are mapped it corrupts memory.`,
          remediation: `Check ${q(arr)} != NULL after malloc (and bound ${q(n)} before allocating).`,
          steps: [
            { line: x.v('loc'), text: `malloc can return NULL for a huge ${q(n)}` },
            { line: x.v('flaw'), text: `${q(arr)} is written without a NULL check` },
          ],
          why: [`Line ${x.v('flaw')} writes through the result of the malloc on line ${x.v('loc')} unconditionally.`],
          fixedWhy: [`Line ${x.f('fix')} returns when malloc failed, before anything is written.`],
        };
      },
    };
  },
};

export const sizeofPointer: SynthTemplate = {
  id: 'sizeof-pointer',
  cwe: 'CWE-467',
  summary: 'struct allocated with sizeof(pointer) instead of sizeof(*pointer)',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const source = ctx.intSource({ type: 'int', constExpr: String(rng.int(1, 9999)) });
    const v = source.facts.name;
    const type = names.type();
    const [a, b, c] = [names.v('field'), names.v('field'), names.v('field')];
    const p = names.v('ptr');
    const right = rng.chance(0.5) ? `sizeof(*${p})` : `sizeof(struct ${type})`;
    const [half, whole] = [rng.int(1, 9), rng.int(10, 99)];
    return {
      form: 'struct',
      headers: ['stdio', 'stdlib'],
      source,
      globals: () => [`struct ${type} {`, `    int ${a};`, `    double ${b};`, `    long ${c};`, '};'],
      sink(variant) {
        const alloc = `struct ${type} *${p} = (struct ${type} *)malloc(${variant === 'vulnerable' ? `sizeof(${p})` : right});`;
        return [
          variant === 'vulnerable' ? t('flaw', alloc) : t('fix', alloc),
          `if (${p} == NULL) {`,
          '    return;',
          '}',
          `${p}->${a} = ${v};`,
          `${p}->${b} = ${half}.5;`,
          variant === 'vulnerable' ? t('loc', `${p}->${c} = ${whole}L;`) : `${p}->${c} = ${whole}L;`,
          `printf("%d\\n", ${p}->${a});`,
          `free(${p});`,
        ];
      },
      explain(x) {
        return {
          title: `sizeof applied to the pointer ${q(p)} instead of struct ${type}`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} allocates ${q(`sizeof(${p})`)}, the size of a pointer (8 bytes on 64-bit targets), for a struct ${type} that holds an int, a double and a long (at least 24 bytes).`,
          trigger: `Every call: the allocation is always too small, whatever ${x.src.subject} is.`,
          impact: `Writing the later fields of the struct overruns the heap block, corrupting neighbouring allocations and allocator metadata.`,
          remediation: `Allocate ${right} (the pointed-to type), not ${q(`sizeof(${p})`)}.`,
          steps: [
            { line: x.v('flaw'), text: `malloc gets ${q(`sizeof(${p})`)}, the size of a pointer` },
            { line: x.v('loc'), text: `${q(`${p}->${c}`)} lies beyond the allocated bytes and is written` },
          ],
          why: [`Line ${x.v('flaw')} measures the pointer rather than the struct, so the writes up to line ${x.v('loc')} overflow the block.`],
          fixedWhy: [`Line ${x.f('fix')} allocates ${right}, the full size of struct ${type}.`],
        };
      },
    };
  },
};

export const pointerScaling: SynthTemplate = {
  id: 'pointer-scaling',
  cwe: 'CWE-468',
  summary: 'pointer offset multiplied by sizeof although pointer arithmetic already scales it',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const [elt, width, fmt] = rng.pick([
      ['int', 4, '%d'],
      ['long', 8, '%ld'],
      ['double', 8, '%f'],
      ['short', 2, '%d'],
    ] as const);
    const n = rng.int(6, 20);
    const first = Math.ceil(n / width);
    const source = ctx.intSource({ type: 'int', constExpr: String(rng.int(first, n - 1)) });
    const i = source.facts.name;
    const vals = names.v('table');
    const p = names.v('ptr');
    const out = names.v('result');
    const init = Array.from({ length: n }, () => String(rng.int(1, 99))).join(', ');
    return {
      form: elt,
      headers: ['stdio'],
      source,
      sink(variant) {
        const read = variant === 'vulnerable' ? t('flaw', `    ${elt} ${out} = *(${p} + ${i} * sizeof(${elt}));`) : t('fix', `    ${elt} ${out} = *(${p} + ${i});`);
        return [`${elt} ${vals}[${n}] = {${init}};`, `const ${elt} *${p} = ${vals};`, `if (${i} >= 0 && ${i} < ${n}) {`, read, `    printf("${fmt}\\n", ${out});`, '}'];
      },
      explain(x) {
        return {
          title: `Incorrect pointer scaling: ${q(i)} * sizeof(${elt}) added to a ${elt} pointer`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} adds ${q(i)} * sizeof(${elt}) to ${q(p)}, a pointer to ${elt}; pointer arithmetic already multiplies by the element size, so the offset is scaled twice.`,
          trigger: trigger(x, `is at least ${first} (with ${width}-byte ${elt}, the doubly scaled offset then passes the ${n} elements of ${q(vals)})`),
          impact: `The read lands up to ${width} times further than intended, outside ${q(vals)}: stack memory is disclosed or the process crashes.`,
          remediation: `Index with ${q(`${p} + ${i}`)} (or ${q(`${vals}[${i}]`)}); scale by sizeof only for byte pointers.`,
          steps: [{ line: x.v('flaw'), text: `the element offset ${q(i)} is multiplied by sizeof(${elt}) before pointer arithmetic scales it again` }],
          why: [`The bounds check allows ${q(i)} up to ${n - 1}, but line ${x.v('flaw')} reads element ${q(i)} * ${width}.`],
          fixedWhy: [`Line ${x.f('fix')} adds the element index itself, which the preceding check keeps inside ${q(vals)}.`],
        };
      },
    };
  },
};

export const returnLocal: SynthTemplate = {
  id: 'return-stack-address',
  cwe: 'CWE-562',
  summary: 'helper returns the address of its local array, which the caller then prints',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const size = rng.pick([16, 32, 64, 100, 128]);
    const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, rng.int(4, 40)) });
    const data = source.facts.name;
    const helper = names.fn();
    const arg = names.v('text');
    const local = names.v('buffer');
    const view = names.v('ptr');
    const show = printString(rng, api, view);
    return {
      form: 'local-array',
      headers: ['stdio', 'string'],
      source,
      globals: (variant) =>
        functionDef(`static ${api.type} *${helper}(const ${api.type} *${arg})`, [
          variant === 'vulnerable' ? t('loc', `${api.type} ${local}[${size}];`) : t('fix', `static ${api.type} ${local}[${size}];`),
          `${api.strncpy}(${local}, ${arg}, ${size - 1});`,
          `${local}[${size - 1}] = ${api.nul};`,
          variant === 'vulnerable' ? t('flaw', `return ${local};`) : `return ${local};`,
        ]),
      sink: () => [t('use', `${api.type} *${view} = ${helper}(${data});`), show],
      explain(x) {
        return {
          title: `${q(helper)} returns the address of its local array ${q(local)}`,
          severity: 'high',
          rootCause: `${q(helper)} copies its argument into ${q(local)}, an automatic array, and returns its address; the array dies when ${q(helper)} returns.`,
          trigger: `Every call: the caller receives a pointer into a stack frame that no longer exists.`,
          impact: `${q(x.sinkFunction)} prints through ${q(view)} memory that the next calls (the print itself) overwrite: garbage output, disclosure of stack data, or a crash.`,
          remediation: `Return storage that outlives the call: a caller-provided buffer, a heap copy the caller frees, or static storage when re-entrancy does not matter.`,
          steps: [
            { line: x.v('use'), text: `${q(x.sinkFunction)} calls ${q(helper)} and keeps the returned pointer in ${q(view)}` },
            { line: x.v('loc'), text: `${q(local)} is an automatic array of ${q(helper)}` },
            { line: x.v('flaw'), text: `its address is returned to the caller` },
          ],
          why: [`Line ${x.v('flaw')} hands out the address of ${q(local)}, which is only valid until ${q(helper)} returns.`],
          fixedWhy: [`Line ${x.f('fix')} gives ${q(local)} static storage duration, so the returned pointer stays valid after ${q(helper)} returns.`],
          flawFunction: helper,
        };
      },
    };
  },
};
