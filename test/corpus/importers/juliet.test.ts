import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/cli.js';
import { parseTestcaseName, renameRevealingIdentifiers } from '../../../src/corpus/importers/juliet-case.js';
import { openTestKb, type TestKb } from './kb.js';

/** Test case files in the shape of Juliet C/C++ 1.3 (written here, not copied). */
const C_CASE = 'CWE121_Stack_Based_Buffer_Overflow__CWE129_fgets_01';
const cFile = `/* TEMPLATE GENERATED TESTCASE FILE
Filename: ${C_CASE}.c
*/
#include "std_testcase.h"

#define CHAR_ARRAY_SIZE (3 * sizeof(data) + 2)

#ifndef OMITBAD

void ${C_CASE}_bad()
{
    int data;
    /* Initialize data */
    data = -1;
    {
        char inputBuffer[CHAR_ARRAY_SIZE] = "";
        /* POTENTIAL FLAW: Read data from the console using fgets() */
        if (fgets(inputBuffer, CHAR_ARRAY_SIZE, stdin) != NULL)
        {
            data = atoi(inputBuffer); // convert
        }
    }
    {
        int buffer[10] = { 0 };
        /* POTENTIAL FLAW: Attempt to write to an index of the array that is above the upper bound
         * This code does check to see if the array index is negative */

        if (data >= 0)
        {
            buffer[data] = 1;
        }
    }
}

#endif /* OMITBAD */

#ifndef OMITGOOD

/* goodG2B uses the GoodSource with the BadSink */
static void goodG2B()
{
    int data;
    data = -1;
    /* FIX: Use a value greater than 0, but less than 10 */
    data = 7;
    {
        int buffer[10] = { 0 };
        /* POTENTIAL FLAW: Attempt to write to an index of the array that is above the upper bound */
        if (data >= 0)
        {
            buffer[data] = 1;
        }
    }
}

void ${C_CASE}_good()
{
    goodG2B();
}

#endif /* OMITGOOD */

#ifdef INCLUDEMAIN

int main(int argc, char * argv[])
{
#ifndef OMITGOOD
    printLine("Calling good()...");
    ${C_CASE}_good();
#endif /* OMITGOOD */
#ifndef OMITBAD
    printLine("Calling bad()...");
    ${C_CASE}_bad();
#endif /* OMITBAD */
    return 0;
}

#endif
`;

const CPP_CASE = 'CWE762_Mismatched_Memory_Management_Routines__delete_array_char_malloc_01';
const cppFile = `#include "std_testcase.h"

namespace ${CPP_CASE}
{

#ifndef OMITBAD

void bad()
{
    char * data;
    data = NULL;
    data = (char *)malloc(100*sizeof(char));
    /* POTENTIAL FLAW: Deallocate memory using delete [] - the source memory allocation function may
     * require a call to free() to deallocate the memory */
    delete [] data;
}

#endif /* OMITBAD */

#ifndef OMITGOOD

static void goodG2B()
{
    char * data;
    data = NULL;
    /* FIX: Allocate memory using new [] */
    data = new char[100];
    /* POTENTIAL FLAW: Deallocate memory using delete [] */
    delete [] data;
}

void good()
{
    goodG2B();
}

#endif /* OMITGOOD */

} /* close namespace */

#ifdef INCLUDEMAIN

using namespace ${CPP_CASE};

int main(int argc, char * argv[])
{
    good();
    bad();
    return 0;
}

#endif
`;

let dir: string;
let cleanup: () => void;
let kb: TestKb;
let root: string;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  kb = openTestKb(dir);
  root = join(dir, 'juliet');
  const cwe121 = join(root, 'testcases', 'CWE121_Stack_Based_Buffer_Overflow', 's01');
  const cwe762 = join(root, 'testcases', 'CWE762_Mismatched_Memory_Management_Routines', 's01');
  for (const d of [cwe121, cwe762, join(root, 'testcasesupport')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(cwe121, `${C_CASE}.c`), cFile);
  writeFileSync(join(cwe762, `${CPP_CASE}.cpp`), cppFile.replace(/\n/g, '\r\n'));
  writeFileSync(join(cwe121, 'CWE121_Stack_Based_Buffer_Overflow__char_type_overrun_memcpy_51a.c'), cFile);
  writeFileSync(join(cwe121, 'CWE121_Stack_Based_Buffer_Overflow__char_type_overrun_memcpy_51b.c'), cFile);
  writeFileSync(join(cwe121, 'CWE121_Stack_Based_Buffer_Overflow__plain_02.c'), 'int main(void) { return 0; }\n');
  writeFileSync(join(cwe121, 'main_linux.cpp'), 'int main() { return 0; }\n');
  writeFileSync(join(root, 'testcasesupport', 'CWE000_Support__io_01.c'), cFile);
});
afterEach(() => {
  kb.close();
  cleanup();
});

describe('juliet tree importer', () => {
  it('makes a vulnerable and a fixed sample per single-file test case, without comments, main or revealing names', async () => {
    const s = await kb.ingest('juliet', root);
    expect(s).toMatchObject({ inputs: 5, read: 5, samples: 4, inserted: 4, rejected: 3 });
    const samples = kb.samples();
    const bad = samples.find((x) => x.pair_id === C_CASE && x.label === 1)!;
    const good = samples.find((x) => x.pair_id === C_CASE && x.label === 0)!;
    expect(bad.code).toBe(
      [
        '#include "std_testcase.h"',
        '#define CHAR_ARRAY_SIZE (3 * sizeof(data) + 2)',
        'void fn1()',
        '{',
        '    int data;',
        '    data = -1;',
        '    {',
        '        char inputBuffer[CHAR_ARRAY_SIZE] = "";',
        '        if (fgets(inputBuffer, CHAR_ARRAY_SIZE, stdin) != NULL)',
        '        {',
        '            data = atoi(inputBuffer);',
        '        }',
        '    }',
        '    {',
        '        int buffer[10] = { 0 };',
        '        if (data >= 0)',
        '        {',
        '            buffer[data] = 1;',
        '        }',
        '    }',
        '}',
      ].join('\n'),
    );
    expect(bad.flaw_lines).toEqual([9, 16]);
    expect(bad.meta.renamed).toEqual({ [`${C_CASE}_bad`]: 'fn1' });
    expect(good.code).toMatch(/^static void fn1\(\)$/m);
    expect(good.code).toMatch(/^void fn2\(\)$/m);
    expect(good.code).toMatch(/^ {4}fn1\(\);$/m);
    expect(good.flaw_lines).toEqual([]);
    expect(good.meta.renamed).toEqual({ goodG2B: 'fn1', [`${C_CASE}_good`]: 'fn2' });
    for (const x of [bad, good]) {
      expect(x.code).not.toMatch(/main|printLine|\/\*|\/\/|CWE|[Bb]ad|[Gg]ood|G2B/);
      expect(x.cwes).toEqual(['CWE-121']);
      expect(x.group_id).toBe('CWE129_fgets');
      expect(x.language).toBe('c');
      expect(x.file).toBeNull();
      expect(x.meta).toMatchObject({ testcase: C_CASE, flow_variant: '01', functional_variant: 'CWE129_fgets' });
    }
  });

  it('handles C++ test cases in a namespace (CRLF), renaming the namespace too', async () => {
    await kb.ingest('juliet', root);
    const bad = kb.samples().find((x) => x.pair_id === CPP_CASE && x.label === 1)!;
    expect(bad.language).toBe('cpp');
    expect(bad.group_id).toBe('delete_array_char_malloc');
    expect(bad.cwes).toEqual(['CWE-762']);
    expect(bad.meta.renamed).toEqual({ [CPP_CASE]: 'fn1', bad: 'fn2' });
    const lines = bad.code.split('\n');
    expect(lines[1]).toBe('namespace fn1');
    expect(bad.flaw_lines.map((n) => lines[n - 1]!.trim())).toEqual(['delete [] data;']);
    expect(bad.code).not.toMatch(/using namespace|\r/);
  });

  it('records why multi-file and non-test-case files were skipped, and never reads testcasesupport', async () => {
    await kb.ingest('juliet', root);
    const reasons = kb.rejections().map((r) => [r.source, r.reason]);
    expect(reasons).toEqual([
      ['testcases/CWE121_Stack_Based_Buffer_Overflow/s01/CWE121_Stack_Based_Buffer_Overflow__char_type_overrun_memcpy_51a.c', 'multi-file test case (flow variant 51a): only single-file test cases are imported'],
      ['testcases/CWE121_Stack_Based_Buffer_Overflow/s01/CWE121_Stack_Based_Buffer_Overflow__char_type_overrun_memcpy_51b.c', 'multi-file test case (flow variant 51b): only single-file test cases are imported'],
      ['testcases/CWE121_Stack_Based_Buffer_Overflow/s01/CWE121_Stack_Based_Buffer_Overflow__plain_02.c', 'not a Juliet test case: no #ifndef OMITBAD and #ifndef OMITGOOD blocks'],
    ]);
    expect(kb.sources().some((r) => r.source_key.includes('testcasesupport'))).toBe(false);
  });

  it('adds nothing when the tree is imported again', async () => {
    await kb.ingest('juliet', root);
    const again = await kb.ingest('juliet', root);
    expect(again).toMatchObject({ read: 0, inserted: 0, unchangedInputs: 5 });
    expect(kb.samples()).toHaveLength(4);
  });
});

describe('juliet names and renaming', () => {
  it('parses test case names into CWE, functional variant and flow variant', () => {
    expect(parseTestcaseName(`${C_CASE}.c`)).toEqual({ testcase: C_CASE, cwe: 'CWE-121', functionalVariant: 'CWE129_fgets', flowVariant: '01', multiFile: false });
    expect(parseTestcaseName('CWE476_NULL_Pointer_Dereference__class_81_bad.cpp')).toMatchObject({ flowVariant: '81_bad', multiFile: true });
    expect(parseTestcaseName('io.c')).toBeUndefined();
  });

  it('leaves library members and literals alone, and does not reuse a name already in the code', () => {
    const code = 'void badSink(int fn1) { if (std::cin.good()) puts("bad"); }\nvoid helperGood() { badSink(1); }';
    const { code: out, renamed } = renameRevealingIdentifiers(code);
    expect(renamed).toEqual({ badSink: 'fn2', helperGood: 'fn3' });
    expect(out).toBe('void fn2(int fn1) { if (std::cin.good()) puts("bad"); }\nvoid fn3() { fn2(1); }');
  });
});
