import { stripComments } from '../normalize.js';

/**
 * Turns one Juliet C/C++ 1.3 single-file test case into its two sides: the vulnerable program
 * (`#ifndef OMITGOOD` blocks removed) and the fixed one (`#ifndef OMITBAD` blocks removed), each
 * without main() (the `#ifdef INCLUDEMAIN` block), comments, blank lines, or any identifier
 * that gives the label away. Flaw lines are the lines after FLAW / POTENTIAL FLAW comments.
 */

export interface TestcaseName {
  testcase: string;
  /** "CWE-121" */
  cwe: string;
  /** The name between `__` and the flow variant: `CWE129_fgets` in `CWE121_..._Overflow__CWE129_fgets_01`. */
  functionalVariant: string;
  /** "01", or "51a" / "81_bad" for parts of multi-file test cases. */
  flowVariant: string;
  multiFile: boolean;
}

export function parseTestcaseName(baseName: string): TestcaseName | undefined {
  const testcase = baseName.replace(/\.(c|cpp)$/, '');
  const sep = testcase.indexOf('__');
  if (sep === -1) return undefined;
  const cwe = /^CWE(\d+)_/.exec(testcase);
  const flow = /^(.+)_(\d\d)([a-z]|_bad|_good\w*)?$/.exec(testcase.slice(sep + 2));
  if (!cwe || !flow) return undefined;
  return {
    testcase,
    cwe: `CWE-${Number(cwe[1])}`,
    functionalVariant: flow[1]!,
    flowVariant: flow[2]! + (flow[3] ?? ''),
    multiFile: flow[3] !== undefined,
  };
}

export interface JulietSide {
  code: string;
  /** 1-based lines of `code`. */
  flawLines: number[];
  /** Original identifier -> its neutral replacement (fn1, fn2, ...). */
  renamed: Record<string, string>;
}

type Block = 'bad' | 'good' | 'main' | 'other';

export function julietSides(source: string): { bad: JulietSide; good: JulietSide } | { error: string } {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const inBlock: Array<Set<Block>> = [];
  const directive: boolean[] = [];
  const stack: Block[] = [];
  const seen = new Set<Block>();
  for (const line of lines) {
    const m = /^\s*#\s*(ifndef|ifdef|if|elif|else|endif)\b\s*(\w*)/.exec(line);
    let isBlockDirective = false;
    if (m) {
      const [, kind, word] = m;
      if (kind === 'ifndef' && word === 'OMITBAD') stack.push('bad');
      else if (kind === 'ifndef' && word === 'OMITGOOD') stack.push('good');
      else if (kind === 'ifdef' && word === 'INCLUDEMAIN') stack.push('main');
      else if (kind!.startsWith('if')) stack.push('other');
      if (kind!.startsWith('if') && stack[stack.length - 1] !== 'other') {
        isBlockDirective = true;
        seen.add(stack[stack.length - 1]!);
      }
      if (kind === 'endif') {
        const closed = stack.pop();
        if (closed && closed !== 'other') isBlockDirective = true;
      }
    }
    inBlock.push(new Set(stack));
    directive.push(isBlockDirective);
  }
  if (!seen.has('bad') || !seen.has('good')) return { error: 'not a Juliet test case: no #ifndef OMITBAD and #ifndef OMITGOOD blocks' };
  const side = (drop: Block): JulietSide => {
    const kept: string[] = [];
    lines.forEach((line, i) => {
      const blocks = inBlock[i]!;
      if (directive[i] || blocks.has(drop) || blocks.has('main')) return;
      kept.push(line);
    });
    return finishSide(kept, drop === 'good');
  };
  return { bad: side('good'), good: side('bad') };
}

const flawComment = /(\/\*|\/\/)\s*(POTENTIAL\s+)?FLAW\b/;

function finishSide(kept: string[], vulnerable: boolean): JulietSide {
  const stripped = stripComments(kept.join('\n')).split('\n');
  // Flaw lines, as indices into `kept`: the first line with code after each FLAW comment ends.
  const flawIndices = new Set<number>();
  if (vulnerable) {
    for (let i = 0; i < kept.length; i++) {
      const m = flawComment.exec(kept[i]!);
      if (!m) continue;
      let end = i;
      let rest = '';
      if (m[1] === '/*') {
        const from = m.index + 2;
        let close = kept[i]!.indexOf('*/', from);
        while (close === -1 && end + 1 < kept.length) {
          end++;
          close = kept[end]!.indexOf('*/');
        }
        rest = close === -1 ? '' : kept[end]!.slice(close + 2);
      }
      if (rest.trim() !== '' && !/^\s*(\/\*|\/\/)/.test(rest)) {
        flawIndices.add(end);
        continue;
      }
      for (let k = end + 1; k < kept.length; k++) {
        if (stripped[k]!.trim() !== '') {
          flawIndices.add(k);
          break;
        }
      }
    }
  }
  const out: string[] = [];
  const flawLines: number[] = [];
  stripped.forEach((line, i) => {
    if (line.trim() === '') return;
    out.push(line.trimEnd());
    if (flawIndices.has(i)) flawLines.push(out.length);
  });
  const { code, renamed } = renameRevealingIdentifiers(out.join('\n'));
  return { code, flawLines, renamed };
}

const revealing = [/^CWE\d/, /(?:^|_)(?:bad|good)/i, /[a-z0-9](?:Bad|Good)/, /G2B|B2G/i];

export function isRevealing(identifier: string): boolean {
  return revealing.some((re) => re.test(identifier));
}

/**
 * Renames identifiers that name the label or the CWE to fn1, fn2, ... in order of first use.
 * A name used only after `.` or `->` is a member of some library type (`stream.good()`), not a
 * Juliet name, and is left alone. String and character literals are not touched.
 */
export function renameRevealingIdentifiers(code: string): { code: string; renamed: Record<string, string> } {
  const token = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|\d[\w.]*|[A-Za-z_]\w*/g;
  const order: string[] = [];
  const declared = new Set<string>();
  const existing = new Set<string>();
  for (let m = token.exec(code); m; m = token.exec(code)) {
    const t = m[0];
    if (!/^[A-Za-z_]/.test(t)) continue;
    existing.add(t);
    if (!isRevealing(t)) continue;
    if (!order.includes(t)) order.push(t);
    const before = code.slice(Math.max(0, m.index - 3), m.index).trimEnd();
    if (!before.endsWith('.') && !before.endsWith('->')) declared.add(t);
  }
  const renamed: Record<string, string> = {};
  let n = 0;
  for (const name of order) {
    if (!declared.has(name)) continue;
    let replacement: string;
    do replacement = `fn${++n}`;
    while (existing.has(replacement));
    renamed[name] = replacement;
  }
  if (Object.keys(renamed).length === 0) return { code, renamed };
  const result = code.replace(token, (t) => renamed[t] ?? t);
  return { code: result, renamed };
}
