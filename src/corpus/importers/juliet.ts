import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { SampleInput } from '../../kb/samples.js';
import { sha256 } from '../../util/hash.js';
import { listInputFiles } from './files.js';
import { julietSides, parseTestcaseName } from './juliet-case.js';
import type { Importer, InputFile, OpenedInput, Unit } from './types.js';

/**
 * The original Juliet C/C++ 1.3 tree (testcases/CWE*\/.../*.c|*.cpp; testcasesupport is not a
 * test case). Each single-file test case gives a vulnerable and a fixed sample, paired by test
 * case and grouped by functional variant; multi-file test cases are skipped with a reason.
 */

export function julietUnit(input: InputFile, source: string): Omit<Unit, 'line'> {
  const name = parseTestcaseName(basename(input.path));
  if (!name) return { samples: [], rejections: [{ reason: 'file name is not a Juliet test case name (CWEnnn_Name__variant_NN)' }] };
  if (name.multiFile) {
    return { samples: [], rejections: [{ reason: `multi-file test case (flow variant ${name.flowVariant}): only single-file test cases are imported` }] };
  }
  const sides = julietSides(source);
  if ('error' in sides) return { samples: [], rejections: [{ reason: sides.error }] };
  const language = input.path.endsWith('.cpp') ? 'cpp' : 'c';
  const meta = {
    testcase: name.testcase,
    file: input.key,
    flow_variant: name.flowVariant,
    functional_variant: name.functionalVariant,
    windows_only: /w32/i.test(name.functionalVariant),
  };
  // The test case and file names reveal the label: they live in meta and the pair id only.
  const sample = (side: 'bad' | 'good'): SampleInput => ({
    sourceKey: `${input.key}#${side}`,
    code: sides[side].code,
    language,
    label: side === 'bad' ? 1 : 0,
    cwes: [name.cwe],
    flawLines: sides[side].flawLines,
    pairId: name.testcase,
    groupId: name.functionalVariant,
    meta: { ...meta, renamed: sides[side].renamed },
  });
  return { samples: [sample('bad'), sample('good')], rejections: [] };
}

async function openJulietFile(input: InputFile): Promise<OpenedInput> {
  const bytes = readFileSync(input.path);
  let done = false;
  return {
    contentHash: sha256(bytes),
    fraction: () => (done ? 1 : 0),
    async *units(skip: number): AsyncIterable<Unit> {
      if (skip > 0) return;
      done = true;
      yield { line: null, ...julietUnit(input, bytes.toString('utf8')) };
    },
  };
}

export const importer: Importer = {
  format: 'juliet',
  unit: 'files',
  async listInputs(settings) {
    return listInputFiles(settings.path, (rel) => /(^|\/)CWE\d+_[^/]*\.(c|cpp)$/.test(rel), { skipDirs: new Set(['testcasesupport']) });
  },
  async open(input) {
    return openJulietFile(input);
  },
};
