import { charApi, printString, t, type Line } from '../code.js';
import { literalText, literalWord } from '../names.js';
import { allSources } from '../sources.js';
import type { SynthTemplate } from '../template.js';
import { heapApi, pickHeap, q, trigger } from './text.js';

/** Lifetime and release of heap memory and file handles. */

/** Declares `len`, allocates `buf` with len + 1 elements and copies the input into it. */
function heapCopyLines(alloc: string[], api: ReturnType<typeof charApi>, len: string, buf: string, data: string, allocTag?: string): Line[] {
  const [first, ...rest] = alloc;
  return [`size_t ${len} = ${api.strlen}(${data});`, allocTag ? t(allocTag, first!) : first!, ...rest, `${api.strcpy}(${buf}, ${data});`];
}

export const memoryLeak: SynthTemplate = {
  id: 'memory-leak',
  cwe: 'CWE-401',
  summary: 'heap copy of the input never released, on every path or on an early return',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const heap = pickHeap(ctx.language, rng.chance(0.5));
    const form = rng.pick(['no-release', 'early-return']);
    const marker = rng.pick(['#', ';', '!']);
    const source = ctx.stringSource({ charType: ctx.charType, constText: (form === 'early-return' ? marker : '') + literalText(rng, rng.int(4, 30)) });
    const data = source.facts.name;
    const buf = names.v('heap');
    const len = names.v('count');
    const alloc = heap.alloc(buf, api.type, `${len} + 1`);
    const show = printString(rng, api, buf);
    return {
      form,
      headers: ['stdio', 'stdlib', 'string'],
      source,
      sink(variant) {
        const vuln = variant === 'vulnerable';
        if (form === 'no-release') {
          return [...heapCopyLines(alloc, api, len, buf, data, vuln ? 'flaw' : undefined), vuln ? t('loc', show) : show, ...(vuln ? [] : [t('fix', heap.release(buf))])];
        }
        return [
          ...heapCopyLines(alloc, api, len, buf, data, vuln ? 'loc' : undefined),
          vuln ? t('flaw', `if (${buf}[0] == ${api.ch(marker)}) {`) : `if (${buf}[0] == ${api.ch(marker)}) {`,
          ...(vuln ? [t('flaw', '    return;')] : [t('fix', `    ${heap.release(buf)}`), '    return;']),
          '}',
          show,
          heap.release(buf),
        ];
      },
      explain(x) {
        const fn = x.sinkFunction;
        if (form === 'no-release') {
          return {
            title: `Memory leak: ${q(buf)} is never released`,
            severity: 'low',
            rootCause: `${q(fn)} allocates ${q(len)} + 1 ${api.unit} for ${q(buf)} with ${heap.allocName}, copies the input into it and prints it, but never calls ${heap.releaseName}; the pointer is lost when the function returns.`,
            trigger: `Every call leaks a block as large as ${x.src.subject}; ${x.src.controller ? `${x.src.controller} can make it large, and ` : ''}repeated calls grow memory use without bound.`,
            impact: `Memory use grows with every call until allocations fail or the process is killed: a denial of service for long-running programs.`,
            remediation: `Release ${q(buf)} with ${heap.releaseName} once it is no longer used.`,
            steps: [
              { line: x.v('flaw'), text: `${q(buf)} is allocated on the heap` },
              { line: x.v('loc'), text: `the last use of ${q(buf)}; no ${heap.releaseName} follows before the function returns` },
            ],
            why: [`The allocation on line ${x.v('flaw')} has no matching ${heap.releaseName} on any path.`],
            fixedWhy: [`Line ${x.f('fix')} releases ${q(buf)} with ${heap.releaseName} right after its last use.`],
          };
        }
        const [ifLine, retLine] = x.vAll('flaw') as [number, number];
        return {
          title: `Memory leak on early return when the input starts with '${marker}'`,
          severity: 'low',
          rootCause: `${q(fn)} returns early for input starting with '${marker}' without releasing ${q(buf)}; only the normal path calls ${heap.releaseName}.`,
          trigger: trigger(x, `starts with '${marker}'`),
          impact: `Each such input leaks a heap block the size of the input; repeated requests exhaust memory (denial of service).`,
          remediation: `Release ${q(buf)} before the early return too (or use a single exit path that always releases it).`,
          steps: [
            { line: x.v('loc'), text: `${q(buf)} is allocated on the heap` },
            { line: ifLine, text: `input starting with '${marker}' takes the early exit` },
            { line: retLine, text: `the function returns without releasing ${q(buf)}` },
          ],
          why: [`The return on line ${retLine} skips the ${heap.releaseName} that the normal path reaches.`],
          fixedWhy: [`Line ${x.f('fix')} releases ${q(buf)} before the early return, so every path frees it.`],
        };
      },
    };
  },
};

export const doubleFree: SynthTemplate = {
  id: 'double-free',
  cwe: 'CWE-415',
  summary: 'heap buffer released in a branch and again at the end, or twice in sequence',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const heap = pickHeap(ctx.language, rng.chance(0.5));
    const form = rng.pick(['branch', 'branch', 'sequential']);
    const marker = rng.pick(['-', '@', '~', '+']);
    const source = ctx.stringSource({ charType: ctx.charType, constText: marker + literalText(rng, rng.int(4, 30)) });
    const data = source.facts.name;
    const buf = names.v('heap');
    const len = names.v('count');
    const alloc = heap.alloc(buf, api.type, `${len} + 1`);
    const show = printString(rng, api, buf);
    const release = heap.release(buf);
    return {
      form,
      headers: ['stdio', 'stdlib', 'string'],
      source,
      sink(variant) {
        const vuln = variant === 'vulnerable';
        const head = [...heapCopyLines(alloc, api, len, buf, data), show];
        if (form === 'branch') {
          return [
            ...head,
            `if (${buf}[0] == ${api.ch(marker)}) {`,
            vuln ? t('flaw', `    ${release}`) : `    ${release}`,
            ...(vuln ? [] : [t('fix', `    ${buf} = NULL;`)]),
            '}',
            vuln ? t('flaw', release) : release,
          ];
        }
        return [...head, vuln ? t('flaw', release) : release, ...(vuln ? [] : [t('fix', `${buf} = NULL;`)]), `${len} = 0;`, vuln ? t('flaw', release) : release];
      },
      explain(x) {
        const [first, second] = x.vAll('flaw') as [number, number];
        const branch = form === 'branch';
        return {
          title: `Double free of ${q(buf)}`,
          severity: 'high',
          rootCause: branch
            ? `${q(x.sinkFunction)} releases ${q(buf)} when the input starts with '${marker}' but leaves the pointer unchanged, and then releases it again unconditionally.`
            : `${q(x.sinkFunction)} releases ${q(buf)} and then releases the same pointer a second time.`,
          trigger: branch ? trigger(x, `starts with '${marker}'`) : `Every call releases ${q(buf)} twice, whatever ${x.src.subject} contains.`,
          impact: `Releasing the same block twice corrupts the allocator's free lists; later allocations can return overlapping memory, which attackers use to overwrite data or gain code execution.`,
          remediation: `Set ${q(buf)} to NULL right after releasing it (releasing NULL is harmless), or restructure so exactly one release happens on every path.`,
          steps: [
            { line: first, text: `${q(buf)} is released here${branch ? ` for input starting with '${marker}'` : ''}` },
            { line: second, text: `the same, already released pointer is released again` },
          ],
          why: [`Line ${first} releases ${q(buf)} without clearing it, and line ${second} releases it again.`],
          fixedWhy: [`Line ${x.f('fix')} sets ${q(buf)} to NULL after the first release, so the second release is a no-op.`],
        };
      },
    };
  },
};

export const useAfterFree: SynthTemplate = {
  id: 'use-after-free',
  cwe: 'CWE-416',
  summary: 'heap copy or record read after it was released',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const form = rng.pick(['string', 'record']);
    const useNew = ctx.language === 'cpp' && rng.chance(0.5);
    if (form === 'string') {
      const api = charApi(ctx.charType);
      const heap = heapApi(useNew ? 'new' : 'malloc');
      const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, rng.int(4, 30)) });
      const data = source.facts.name;
      const buf = names.v('heap');
      const len = names.v('count');
      const show = printString(rng, api, buf);
      return {
        form,
        headers: ['stdio', 'stdlib', 'string'],
        source,
        sink(variant) {
          const head = heapCopyLines(heap.alloc(buf, api.type, `${len} + 1`), api, len, buf, data);
          return variant === 'vulnerable' ? [...head, t('flaw', heap.release(buf)), t('flaw', show)] : [...head, t('fix', show), t('fix', heap.release(buf))];
        },
        explain(x) {
          const [rel, use] = x.vAll('flaw') as [number, number];
          return {
            title: `Use after free: ${q(buf)} printed after ${heap.releaseName}`,
            severity: 'high',
            rootCause: `${q(x.sinkFunction)} releases ${q(buf)} and then reads it to print it; the memory may already have been reused.`,
            trigger: `Every call: the read on line ${use} always follows the release on line ${rel}.`,
            impact: `The freed block can be reallocated before the read, so the output leaks or mixes in other data; with allocator grooming a use after free can be escalated to code execution.`,
            remediation: `Use ${q(buf)} before releasing it, and set the pointer to NULL after ${heap.releaseName}.`,
            steps: [
              { line: rel, text: `${q(buf)} is released` },
              { line: use, text: `${q(buf)} is read after the release` },
            ],
            why: [`Line ${use} dereferences ${q(buf)} after line ${rel} released it.`],
            fixedWhy: [`Lines ${x.f('fix')}-${x.fAll('fix').at(-1)} print ${q(buf)} first and release it afterwards, so it is never used after ${heap.releaseName}.`],
          };
        },
      };
    }
    const source = ctx.intSource({ type: 'int', constExpr: String(rng.int(1, 5000)) });
    const v = source.facts.name;
    const type = names.type();
    const f1 = names.v('field');
    const f2 = names.v('field');
    const p = names.v('ptr');
    const scale = rng.int(2, 9);
    const alloc = useNew
      ? [`struct ${type} *${p} = new ${type};`]
      : [`struct ${type} *${p} = (struct ${type} *)malloc(sizeof(struct ${type}));`, `if (${p} == NULL) {`, '    return;', '}'];
    const release = useNew ? `delete ${p};` : `free(${p});`;
    const print = `printf("%d\\n", ${p}->${f1} * ${p}->${f2});`;
    return {
      form,
      headers: ['stdio', 'stdlib'],
      source,
      globals: () => [`struct ${type} {`, `    int ${f1};`, `    int ${f2};`, '};'],
      sink(variant) {
        const head: Line[] = [...alloc, `${p}->${f1} = ${v};`, `${p}->${f2} = ${scale};`];
        return variant === 'vulnerable' ? [...head, t('flaw', release), t('flaw', print)] : [...head, t('fix', print), t('fix', release)];
      },
      explain(x) {
        const [rel, use] = x.vAll('flaw') as [number, number];
        const releaseName = useNew ? 'delete' : 'free';
        return {
          title: `Use after free: fields of ${q(p)} read after ${releaseName}`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} releases the struct ${type} record ${q(p)} and then reads ${q(`${p}->${f1}`)} and ${q(`${p}->${f2}`)}.`,
          trigger: `Every call: line ${use} reads the record after line ${rel} released it.`,
          impact: `The record's memory may be reused by the time it is read, so the printed value is attacker-influenced or garbage; writes through such pointers are a classic route to code execution.`,
          remediation: `Finish using ${q(p)} before releasing it and clear the pointer afterwards.`,
          steps: [
            { line: rel, text: `${q(p)} is released with ${releaseName}` },
            { line: use, text: `${q(p)} is dereferenced after the release` },
          ],
          why: [`Line ${use} dereferences ${q(p)} after line ${rel} released it.`],
          fixedWhy: [`Lines ${x.f('fix')}-${x.fAll('fix').at(-1)} read the fields before releasing ${q(p)}.`],
        };
      },
    };
  },
};

export const freeNonHeap: SynthTemplate = {
  id: 'free-stack-buffer',
  cwe: 'CWE-590',
  summary: 'pointer that may still point to a stack buffer passed to free/delete[]',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const useNew = ctx.language === 'cpp' && rng.chance(0.5);
    const size = rng.pick([32, 64, 100, 128]);
    const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, rng.int(3, size - 1)) });
    const data = source.facts.name;
    const local = names.v('buffer');
    const buf = names.v('ptr');
    const len = names.v('count');
    const release = useNew ? `delete[] ${buf};` : `free(${buf});`;
    const show = printString(rng, api, buf);
    const grow = useNew
      ? [`    ${buf} = new ${api.type}[${len} + 1];`]
      : [`    ${buf} = (${api.type} *)malloc((${len} + 1) * sizeof(${api.type}));`, `    if (${buf} == NULL) {`, '        return;', '    }'];
    return {
      form: useNew ? 'delete' : 'free',
      headers: ['stdio', 'stdlib', 'string'],
      source,
      sink(variant) {
        return [
          `${api.type} ${local}[${size}];`,
          t('loc', `${api.type} *${buf} = ${local};`),
          `size_t ${len} = ${api.strlen}(${data});`,
          `if (${len} >= ${size}) {`,
          ...grow,
          '}',
          `memcpy(${buf}, ${data}, (${len} + 1) * sizeof(${api.type}));`,
          show,
          ...(variant === 'vulnerable' ? [t('flaw', release)] : [t('fix', `if (${buf} != ${local}) {`), t('fix', `    ${release}`), t('fix', '}')]),
        ];
      },
      explain(x) {
        const rel = useNew ? 'delete[]' : 'free';
        return {
          title: `${rel} of a pointer to the stack buffer ${q(local)}`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} starts ${q(buf)} at the stack array ${q(local)} and only moves it to the heap for long input, but always passes it to ${rel}.`,
          trigger: trigger(x, `is shorter than ${size} ${api.unit} (so ${q(buf)} still points to ${q(local)})`),
          impact: `Passing a stack address to ${rel} corrupts the allocator: an immediate abort with hardened allocators, otherwise heap metadata corruption that can be exploited.`,
          remediation: `Release ${q(buf)} only when it was heap-allocated (${q(buf)} != ${q(local)}).`,
          steps: [
            { line: x.v('loc'), text: `${q(buf)} points to the stack array ${q(local)}` },
            { line: x.v('flaw'), text: `${rel} is called on ${q(buf)} whether or not it was heap-allocated` },
          ],
          why: [`For short input ${q(buf)} never leaves ${q(local)}, yet line ${x.v('flaw')} releases it.`],
          fixedWhy: [`Line ${x.f('fix')} releases ${q(buf)} only when it no longer points to ${q(local)}.`],
        };
      },
    };
  },
};

export const freeOffset: SynthTemplate = {
  id: 'free-moved-pointer',
  cwe: 'CWE-761',
  summary: 'heap pointer advanced past leading spaces and then released',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const heap = pickHeap(ctx.language, rng.chance(0.5));
    const source = ctx.stringSource({ charType: ctx.charType, constText: ' '.repeat(rng.int(1, 4)) + literalText(rng, rng.int(4, 24)) });
    const data = source.facts.name;
    const buf = names.v('heap');
    const cursor = names.v('ptr');
    const len = names.v('count');
    const alloc = heap.alloc(buf, api.type, `${len} + 1`);
    const showMoved = printString(rng, api, buf);
    const showCursor = printString(rng, api, cursor);
    return {
      form: heap.kind,
      headers: ['stdio', 'stdlib', 'string'],
      source,
      sink(variant) {
        const head = heapCopyLines(alloc, api, len, buf, data);
        if (variant === 'vulnerable') {
          return [...head, t('loc', `while (*${buf} == ${api.ch(' ')}) {`), `    ${buf}++;`, '}', showMoved, t('flaw', heap.release(buf))];
        }
        return [
          ...head,
          t('fix', `${api.type} *${cursor} = ${buf};`),
          t('fix', `while (*${cursor} == ${api.ch(' ')}) {`),
          t('fix', `    ${cursor}++;`),
          t('fix', '}'),
          showCursor,
          heap.release(buf),
        ];
      },
      explain(x) {
        return {
          title: `${heap.releaseName} of ${q(buf)} after it was moved past leading spaces`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} skips leading spaces by incrementing ${q(buf)} itself, then passes the moved pointer to ${heap.releaseName}, which needs the address ${heap.allocName} returned.`,
          trigger: trigger(x, 'starts with a space'),
          impact: `${heap.releaseName} receives an address inside the block: allocators abort or treat the bytes before it as a chunk header, corrupting the heap in an exploitable way.`,
          remediation: `Keep the original pointer for the release and walk a separate cursor.`,
          steps: [
            { line: x.v('loc'), text: `${q(buf)} is advanced while it points to a space` },
            { line: x.v('flaw'), text: `the advanced ${q(buf)} is released` },
          ],
          why: [`Line ${x.v('loc')} changes ${q(buf)}, so line ${x.v('flaw')} releases an address that did not come from ${heap.allocName}.`],
          fixedWhy: [`Lines ${x.f('fix')}-${x.fAll('fix').at(-1)} move a separate cursor ${q(cursor)}; ${q(buf)} keeps the allocated address and is released unchanged.`],
        };
      },
    };
  },
};

export const mismatchedRelease: SynthTemplate = {
  id: 'mismatched-release',
  cwe: 'CWE-762',
  summary: 'memory released with a routine that does not match its allocation (new[]/delete, malloc/delete[], new[]/free)',
  languages: ['cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const form = rng.pick(['new[]-delete', 'malloc-delete[]', 'new[]-free']);
    const source = ctx.stringSource({ charType: ctx.charType, constText: literalText(rng, rng.int(4, 30)) });
    const data = source.facts.name;
    const buf = names.v('heap');
    const len = names.v('count');
    const alloc = form === 'malloc-delete[]' ? heapApi('malloc').alloc(buf, api.type, `${len} + 1`) : [`${api.type} *${buf} = new ${api.type}[${len} + 1];`];
    const allocName = form === 'malloc-delete[]' ? 'malloc' : 'new[]';
    const wrong = { 'new[]-delete': `delete ${buf};`, 'malloc-delete[]': `delete[] ${buf};`, 'new[]-free': `free(${buf});` }[form]!;
    const right = form === 'malloc-delete[]' ? `free(${buf});` : `delete[] ${buf};`;
    const wrongName = wrong.split(/[ (]/)[0]!;
    const rightName = right.split(/[ (]/)[0]!;
    const show = printString(rng, api, buf);
    return {
      form,
      headers: ['stdio', 'stdlib', 'string'],
      source,
      sink(variant) {
        return [...heapCopyLines(alloc, api, len, buf, data, 'loc'), show, variant === 'vulnerable' ? t('flaw', wrong) : t('fix', right)];
      },
      explain(x) {
        return {
          title: `Mismatched release: ${q(buf)} from ${allocName} released with ${wrongName}`,
          severity: 'high',
          rootCause: `${q(x.sinkFunction)} allocates ${q(buf)} with ${allocName} but releases it with ${wrongName}; each allocation routine must be paired with its own release (${allocName} with ${rightName}).`,
          trigger: `Every call: the release on line ${x.v('flaw')} always uses ${wrongName}, whatever ${x.src.subject} holds.`,
          impact: `Undefined behaviour: the allocator is handed a block in a layout it did not create, which corrupts the heap or aborts; with array cookies and custom allocators this is exploitable.`,
          remediation: `Release ${q(buf)} with ${rightName}, or better hold it in a std::vector / std::unique_ptr<${api.type}[]>.`,
          steps: [
            { line: x.v('loc'), text: `${q(buf)} is allocated with ${allocName}` },
            { line: x.v('flaw'), text: `${q(buf)} is released with ${wrongName}` },
          ],
          why: [`Line ${x.v('flaw')} pairs ${wrongName} with an allocation made by ${allocName}.`],
          fixedWhy: [`Line ${x.f('fix')} releases ${q(buf)} with ${rightName}, matching ${allocName}.`],
        };
      },
    };
  },
};

export const handleLeak: SynthTemplate = {
  id: 'file-handle-leak',
  cwe: 'CWE-775',
  summary: 'file opened for appending the input and never closed (always, or on an early return)',
  languages: ['c', 'cpp'],
  sources: allSources,
  charTypes: ['char', 'wchar_t'],
  build(ctx) {
    const { rng, names } = ctx;
    const api = charApi(ctx.charType);
    const form = rng.pick(['no-close', 'early-return']);
    const source = ctx.stringSource({ charType: ctx.charType, constText: form === 'early-return' ? '' : literalText(rng, rng.int(4, 30)) });
    const data = source.facts.name;
    const fh = names.v('file');
    const fname = `${literalWord(rng)}.${rng.pick(['log', 'txt', 'out', 'dat'])}`;
    const write = api.wide ? [`fputws(${data}, ${fh});`, `fputwc(L'\\n', ${fh});`] : [`fputs(${data}, ${fh});`, `fputc('\\n', ${fh});`];
    return {
      form,
      headers: ['stdio'],
      source,
      sink(variant) {
        const vuln = variant === 'vulnerable';
        const open: Line[] = [`FILE *${fh} = fopen("${fname}", "a");`, `if (${fh} == NULL) {`, '    return;', '}'];
        if (form === 'no-close') {
          return [vuln ? t('flaw', open[0] as string) : open[0]!, ...open.slice(1), write[0]!, vuln ? t('loc', write[1]!) : write[1]!, ...(vuln ? [] : [t('fix', `fclose(${fh});`)])];
        }
        return [
          vuln ? t('loc', open[0] as string) : open[0]!,
          ...open.slice(1),
          vuln ? t('flaw', `if (${data}[0] == ${api.nul}) {`) : `if (${data}[0] == ${api.nul}) {`,
          ...(vuln ? [t('flaw', '    return;')] : [t('fix', `    fclose(${fh});`), '    return;']),
          '}',
          ...write,
          `fclose(${fh});`,
        ];
      },
      explain(x) {
        if (form === 'no-close') {
          return {
            title: `File handle leak: ${q(fh)} ("${fname}") is never closed`,
            severity: 'low',
            rootCause: `${q(x.sinkFunction)} opens "${fname}" with fopen, writes the input to it, and returns without fclose; the FILE and its descriptor stay open.`,
            trigger: `Every call leaks one open file${x.src.controller ? `; ${x.src.controller} can trigger it as often as they like` : ''}.`,
            impact: `Descriptors run out after enough calls (typically 1024), after which every open fails; buffered data may also never reach the file.`,
            remediation: `Close ${q(fh)} with fclose when writing is finished.`,
            steps: [
              { line: x.v('flaw'), text: `"${fname}" is opened into ${q(fh)}` },
              { line: x.v('loc'), text: `last use of ${q(fh)}; no fclose follows` },
            ],
            why: [`The fopen on line ${x.v('flaw')} has no matching fclose.`],
            fixedWhy: [`Line ${x.f('fix')} closes ${q(fh)} after the last write.`],
          };
        }
        const [ifLine, retLine] = x.vAll('flaw') as [number, number];
        return {
          title: `File handle leak on early return for empty input`,
          severity: 'low',
          rootCause: `${q(x.sinkFunction)} returns early for empty input after opening "${fname}", skipping the fclose that the normal path reaches.`,
          trigger: trigger(x, 'is empty'),
          impact: `Each empty input leaks an open descriptor; enough of them exhaust the descriptor table and later opens fail.`,
          remediation: `Close ${q(fh)} before the early return, or check the input before opening the file.`,
          steps: [
            { line: x.v('loc'), text: `"${fname}" is opened into ${q(fh)}` },
            { line: ifLine, text: `empty input takes the early exit` },
            { line: retLine, text: `the function returns with ${q(fh)} still open` },
          ],
          why: [`The return on line ${retLine} leaves ${q(fh)} open.`],
          fixedWhy: [`Line ${x.f('fix')} closes ${q(fh)} before the early return.`],
        };
      },
    };
  },
};
