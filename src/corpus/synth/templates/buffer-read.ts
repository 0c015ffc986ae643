import { an, charApi, printInt, intApi, printString, t } from '../code.js';
import { literalText } from '../names.js';
import { allSources } from '../sources.js';
import type { SynthTemplate } from '../template.js';
import { q, trigger } from './text.js';

/** Out-of-bounds reads: lookup tables, over-reads past the end, under-reads before the start. */

export const tableRead: SynthTemplate = {
  id: 'table-read',
  cwe: 'CWE-125',
  summary: 'lookup table indexed by an input integer with an incomplete range check',
  languages: ['c', 'cpp'],
  sources: allSources,
  build(ctx) {
    const { rng, names } = ctx;
    const size = rng.int(4, 12);
    const form = rng.pick(['lower-only', 'upper-only', 'no-check']);
    const outside = form === 'upper-only' || (form === 'no-check' && rng.chance(0.5)) ? String(-rng.int(1, 30)) : String(size + rng.int(0, 30));
    const ty = rng.pick(['int', 'long long'] as const);
    const source = ctx.intSource({ type: ty, constExpr: outside });
    const i = source.facts.name;
    const table = names.v('table');
    const out = names.v('result');
    const values = Array.from({ length: size }, () => rng.int(1, 999));
    const show = printInt(rng, intApi('int'), out);
    const check = { 'lower-only': `${i} >= 0`, 'upper-only': `${i} < ${size}`, 'no-check': '' }[form]!;
    return {
      form,
      headers: ['stdio'],
      source,
      globals: () => [`static const int ${table}[${size}] = {${values.join(', ')}};`],
      sink(variant) {
        if (variant === 'fixed') return [`int ${out} = -1;`, t('fix', `if (${i} >= 0 && ${i} < ${size}) {`), `    ${out} = ${table}[${i}];`, t('fix', '}'), show];
        if (!check) return [t('flaw', `int ${out} = ${table}[${i}];`), show];
        return [`int ${out} = -1;`, t('flaw', `if (${check}) {`), t('flaw', `    ${out} = ${table}[${i}];`), '}', show];
      },
      explain(x) {
        const cond = { 'lower-only': `is ${size} or larger`, 'upper-only': 'is negative', 'no-check': `is negative or ${size} or larger` }[form]!;
        const readLine = x.vAll('flaw').at(-1)!;
        return {
          title: `Out-of-bounds read of ${q(table)}[${q(i)}]`,
          severity: 'medium',
          rootCause: check
            ? `${q(x.sinkFunction)} guards the lookup with only ${q(check)}, so ${q(i)} can still be outside 0..${size - 1}, the valid indices of the ${size}-entry table ${q(table)}.`
            : `${q(x.sinkFunction)} indexes the ${size}-entry table ${q(table)} with ${q(i)} without any range check.`,
          trigger: trigger(x, cond),
          impact: `Memory outside ${q(table)} is read and used as a table value: wrong results, disclosure of adjacent data, or a crash on an unmapped address.`,
          remediation: `Check 0 <= ${q(i)} < ${size} before the lookup and handle other values explicitly.`,
          steps: [{ line: readLine, text: `${q(`${table}[${i}]`)} is read with an index that may be outside 0..${size - 1}` }],
          why: [check ? `The condition on line ${x.v('flaw')} checks only one side of the range.` : `Nothing bounds ${q(i)} before line ${readLine}.`],
          fixedWhy: [`Line ${x.f('fix')} reads ${q(table)} only when 0 <= ${q(i)} < ${size}.`],
        };
      },
    };
  },
};

export const overRead: SynthTemplate = {
  id: 'over-read',
  cwe: 'CWE-126',
  summary: 'read past the end of a string: fixed-size memcpy from shorter input, or an unterminated scan',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const form = rng.pick(['fixed-count', 'scan']);
    if (form === 'fixed-count') {
      const k = rng.pick([80, 100, 128, 160, 256, 300]);
      const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, rng.int(3, Math.floor(k / 2))), maxCapacity: k - 8 });
      const data = source.facts.name;
      const out = names.v('buffer');
      const n = names.v('count');
      const show = printString(rng, api, out);
      const cap = source.facts.capacity;
      return {
        form,
        headers: ['string', 'stdio'],
        source,
        sink(variant) {
          if (variant === 'vulnerable') return [`${api.type} ${out}[${k + 1}];`, t('flaw', `memcpy(${out}, ${data}, ${k} * sizeof(${api.type}));`), `${out}[${k}] = ${api.nul};`, show];
          return [
            `${api.type} ${out}[${k + 1}];`,
            t('fix', `size_t ${n} = ${api.strlen}(${data});`),
            t('fix', `if (${n} > ${k}) {`),
            t('fix', `    ${n} = ${k};`),
            t('fix', '}'),
            t('fix', `memcpy(${out}, ${data}, ${n} * sizeof(${api.type}));`),
            t('fix', `${out}[${n}] = ${api.nul};`),
            show,
          ];
        },
        explain(x) {
          const trig =
            cap !== undefined
              ? `Every call: ${q(data)} is ${an(cap + 1)}-element buffer, and memcpy always reads ${k} ${api.unit} from it.`
              : trigger(x, `is shorter than ${k} ${api.unit}`);
          return {
            title: `Buffer over-read: memcpy of ${k} ${api.unit} from ${q(data)}`,
            severity: 'medium',
            rootCause: `${q(x.sinkFunction)} copies a fixed ${k} ${api.unit} out of ${x.src.subject} without looking at its length${cap !== undefined ? `, although the buffer holds only ${cap + 1}` : ''}.`,
            trigger: trig,
            impact: `memcpy reads beyond the end of ${q(data)} into neighbouring memory; the bytes end up in ${q(out)} and are printed (information disclosure), or the read faults.`,
            remediation: `Copy min(${api.strlen}(${q(data)}), ${k}) ${api.unit} and terminate the copy.`,
            steps: [{ line: x.v('flaw'), text: `memcpy reads ${k} ${api.unit} from ${q(data)} whatever its actual length` }],
            why: [`Line ${x.v('flaw')} reads ${k} ${api.unit} from ${q(data)}, which can be shorter.`],
            fixedWhy: [`Lines ${x.f('fix')}-${x.fAll('fix').at(-1)} copy only as many ${api.unit} as ${q(data)} has, at most ${k}.`],
          };
        },
      };
    }
    const delim = rng.pick([':', '=', ';', ',', '|', '#']);
    const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, rng.int(5, 40)) });
    const data = source.facts.name;
    const pos = names.v('iter');
    return {
      form,
      headers: ['stdio'],
      source,
      sink(variant) {
        const head =
          variant === 'vulnerable'
            ? t('flaw', `while (${data}[${pos}] != ${api.ch(delim)}) {`)
            : t('fix', `while (${data}[${pos}] != ${api.nul} && ${data}[${pos}] != ${api.ch(delim)}) {`);
        return [`size_t ${pos} = 0;`, head, `    ${pos}++;`, '}', `printf("%zu\\n", ${pos});`];
      },
      explain(x) {
        return {
          title: `Buffer over-read: scan for '${delim}' does not stop at the end of ${q(data)}`,
          severity: 'medium',
          rootCause: `The loop in ${q(x.sinkFunction)} advances ${q(pos)} until it finds '${delim}' but never tests for the terminator, so it keeps reading after the end of ${x.src.subject}.`,
          trigger: trigger(x, `contains no '${delim}'`),
          impact: `The loop reads past the string into adjacent memory until some byte happens to be '${delim}': the reported position is garbage, and an unmapped page crashes the process.`,
          remediation: `Stop the scan at the terminator as well (or use ${api.strchr}).`,
          steps: [{ line: x.v('flaw'), text: `each iteration reads ${q(`${data}[${pos}]`)} and only '${delim}' ends the loop` }],
          why: [`The condition on line ${x.v('flaw')} has no terminator check.`],
          fixedWhy: [`Line ${x.f('fix')} stops at the terminator as well as at '${delim}', so ${q(pos)} never passes the end of ${q(data)}.`],
        };
      },
    };
  },
};

export const underRead: SynthTemplate = {
  id: 'under-read',
  cwe: 'CWE-127',
  summary: 'read before the start of a buffer: negative index or a backwards scan without a lower bound',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const form = rng.pick(['index', 'trailing-space']);
    if (form === 'index') {
      const size = rng.int(5, 40);
      const source = ctx.intSource({ type: rng.pick(['int', 'long long'] as const), constExpr: String(-rng.int(1, 12)) });
      const i = source.facts.name;
      const arr = names.v('table');
      const out = names.v('result');
      const init = Array.from({ length: rng.int(1, 4) }, () => rng.int(1, 99)).join(', ');
      return {
        form,
        headers: ['stdio'],
        source,
        sink(variant) {
          const head = [`int ${arr}[${size}] = {${init}};`, `int ${out} = 0;`];
          return variant === 'vulnerable'
            ? [...head, t('flaw', `if (${i} < ${size}) {`), t('flaw', `    ${out} = ${arr}[${i}];`), '}', `printf("%d\\n", ${out});`]
            : [...head, t('fix', `if (${i} >= 0 && ${i} < ${size}) {`), `    ${out} = ${arr}[${i}];`, t('fix', '}'), `printf("%d\\n", ${out});`];
        },
        explain(x) {
          return {
            title: `Buffer under-read: ${q(`${arr}[${i}]`)} with a negative index`,
            severity: 'medium',
            rootCause: `${q(x.sinkFunction)} checks only ${q(i)} < ${size} before reading ${q(`${arr}[${i}]`)}; a negative ${q(i)} passes and reads before the start of the array.`,
            trigger: trigger(x, 'is negative'),
            impact: `Stack memory below ${q(arr)} is read and printed: disclosure of other locals or saved data, or a crash for large negative values.`,
            remediation: `Require ${q(i)} >= 0 as well.`,
            steps: [
              { line: x.v('flaw'), text: `only the upper bound of ${q(i)} is checked` },
              { line: x.vAll('flaw')[1]!, text: `${q(`${arr}[${i}]`)} is read with a possibly negative index` },
            ],
            why: [`A negative ${q(i)} satisfies line ${x.v('flaw')}, and the next line reads before ${q(arr)}.`],
            fixedWhy: [`Line ${x.f('fix')} requires 0 <= ${q(i)} < ${size}.`],
          };
        },
      };
    }
    const api = charApi(ctx.charType);
    const source = ctx.stringSource({ charType: ctx.charType, constText: ' '.repeat(rng.int(0, 4)) });
    const data = source.facts.name;
    const end = names.v('ptr');
    return {
      form,
      headers: ['string', 'stdio'],
      source,
      sink(variant) {
        const head = variant === 'vulnerable' ? t('flaw', `while (${end}[-1] == ${api.ch(' ')}) {`) : t('fix', `while (${end} > ${data} && ${end}[-1] == ${api.ch(' ')}) {`);
        return [t('loc', `const ${api.type} *${end} = ${data} + ${api.strlen}(${data});`), head, `    ${end}--;`, '}', `printf("%d\\n", (int)(${end} - ${data}));`];
      },
      explain(x) {
        return {
          title: `Buffer under-read: trailing-space scan walks before ${q(data)}`,
          severity: 'medium',
          rootCause: `${q(x.sinkFunction)} moves ${q(end)} backwards while ${q(`${end}[-1]`)} is a space, without checking that ${q(end)} is still after the start of ${q(data)}.`,
          trigger: trigger(x, 'is empty or made only of spaces'),
          impact: `The loop reads the memory before ${q(data)}, continuing while it finds space bytes: wrong lengths, and a crash if it reaches an unmapped page.`,
          remediation: `Test ${q(end)} > ${q(data)} before reading ${q(`${end}[-1]`)}.`,
          steps: [
            { line: x.v('loc'), text: `${q(end)} starts at the end of ${q(data)}` },
            { line: x.v('flaw'), text: `${q(`${end}[-1]`)} is read with no lower bound on ${q(end)}` },
          ],
          why: [`For an empty or all-space string, line ${x.v('flaw')} reads ${q(`${data}[-1]`)}.`],
          fixedWhy: [`Line ${x.f('fix')} stops when ${q(end)} reaches ${q(data)}, so it never reads before the string.`],
        };
      },
    };
  },
};
