import type { Sample } from '../../kb/samples.js';
import { canonicalJson, sha256 } from '../../util/hash.js';
import { reportJsonSchema } from '../../report/schema.js';
import type { ChatMessage, TeacherPrompt } from '../provider.js';
import { detectV1, detectV1Hinted, type PromptTemplate } from './detect-v1.js';
import { fenceCode, fenceToken } from './fence.js';

export type { PromptTemplate } from './detect-v1.js';

/** The templates in use: one for blind answers (the default), one for hinted answers. */
export function templateFor(hinted: boolean): PromptTemplate {
  return hinted ? detectV1Hinted : detectV1;
}

/** The report schema, built once: every prompt shares this object (providers serialise it once). */
const responseSchema = reportJsonSchema();
const hashes = new Map<PromptTemplate, string>();

/** Hash of everything in a template that shapes the answer: its texts and the report schema. */
export function templateHash(template: PromptTemplate): string {
  let hash = hashes.get(template);
  if (hash === undefined) {
    hash = sha256(canonicalJson({ ...template, schema: responseSchema }));
    hashes.set(template, hash);
  }
  return hash;
}

/** Fills {{name}} fields in one pass; values are inserted verbatim and never scanned again. */
export function fill(text: string, vars: Record<string, string>): string {
  return text.replace(/\{\{([a-z_]+)\}\}/g, (whole, name: string) => (name in vars ? vars[name]! : whole));
}

export type PromptSample = Pick<Sample, 'code' | 'language' | 'label' | 'cwes' | 'flaw_lines'>;

export function renderPrompt(template: PromptTemplate, sample: PromptSample): TeacherPrompt {
  const token = fenceToken(sample.code, template.version);
  const lineCount = sample.code.split('\n').length;
  const vars = {
    token,
    language: sample.language === 'cpp' ? 'C++' : 'C',
    line_count: String(lineCount),
    fenced_code: fenceCode(sample.code, token),
    truth: truthNote(sample),
  };
  const messages: ChatMessage[] = [
    { role: 'system', content: fill(template.system, vars) },
    // The hint is filled first so that only the user template's own fields are expanded afterwards.
    { role: 'user', content: fill(template.user, { ...vars, hint: fill(template.hint, vars) }) },
  ];
  return { version: template.version, hash: templateHash(template), messages, responseSchema };
}

/** The label, CWEs and flaw lines, built only from validated fields (never free text from the dataset). */
function truthNote(sample: PromptSample): string {
  if (sample.label === null) return 'the label is unknown.';
  if (sample.label === 0) return 'the function is not vulnerable.';
  const cwes = sample.cwes.filter((c) => /^CWE-\d{1,5}$/.test(c));
  const lines = sample.flaw_lines.filter((n) => Number.isInteger(n) && n > 0);
  const parts = ['the function is vulnerable'];
  if (cwes.length) parts.push(`weakness ${cwes.join(', ')}`);
  if (lines.length) parts.push(`flawed line${lines.length > 1 ? 's' : ''} ${lines.join(', ')}`);
  return parts.join('; ') + '.';
}

/** The conversation extended with the unusable answer and a request to fix it (one repair attempt). */
export function repairPrompt(template: PromptTemplate, prompt: TeacherPrompt, badOutput: string, problem: string): TeacherPrompt {
  return {
    ...prompt,
    messages: [
      ...prompt.messages,
      { role: 'assistant', content: badOutput },
      { role: 'user', content: fill(template.repair, { problem }) },
    ],
  };
}
