/**
 * The example reader the trainer uses: chat JSONL, one conversation per line, checked line by
 * line. A malformed line is reported with its line number and skipped; the rest are returned.
 * Lines carry `messages` and, optionally, distill's metadata (checked when present; unknown keys
 * are allowed so other tools' chat JSONL reads too).
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { DISTILL_TASKS, type ExampleLine } from './types.js';

export const chatMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().min(1, 'empty message content'),
});

const pairSchema = z.strictObject({
  id: z.string().min(1),
  role: z.enum(['vulnerable', 'fixed']),
  twin_sample_id: z.number().int().positive().nullable(),
  twin_knowledge_id: z.number().int().positive().nullable(),
});

export const exampleLineSchema = z
  .looseObject({
    messages: z.array(chatMessageSchema).min(2, 'a conversation needs a user message and an assistant answer'),
    id: z.string().min(1).optional(),
    task: z.enum(DISTILL_TASKS).optional(),
    dataset: z.string().optional(),
    split: z.string().nullable().optional(),
    sample_id: z.number().int().positive().optional(),
    knowledge_id: z.number().int().positive().optional(),
    teacher: z.string().optional(),
    prompt_version: z.string().optional(),
    prompt_hash: z.string().optional(),
    label: z.enum(['vulnerable', 'not_vulnerable']).optional(),
    cwe: z.string().regex(/^CWE-[1-9][0-9]{0,4}$/).nullable().optional(),
    pair: pairSchema.nullable().optional(),
    code_lines: z.number().int().nonnegative().optional(),
    tokens: z.number().int().nonnegative().nullable().optional(),
    content_hash: z.string().optional(),
    run_id: z.string().optional(),
  })
  .superRefine((line, ctx) => {
    const problem = conversationProblem(line.messages.map((m) => m.role));
    if (problem) ctx.addIssue({ code: 'custom', path: ['messages'], message: problem });
  });

export type ChatExample = z.infer<typeof exampleLineSchema>;

/**
 * The turn structure training relies on: an optional system message first, then user and
 * assistant alternating from a user message, ending with the assistant (the trained answer).
 */
function conversationProblem(roles: string[]): string | undefined {
  let i = 0;
  if (roles[0] === 'system') i = 1;
  if (roles.slice(i).includes('system')) return 'a system message may only come first';
  if (roles[i] !== 'user') return 'the first message after the system message must be from the user';
  for (let j = i; j < roles.length; j++) {
    const want = (j - i) % 2 === 0 ? 'user' : 'assistant';
    if (roles[j] !== want) return `message ${j + 1} is from ${roles[j]}, expected ${want} (turns alternate)`;
  }
  if (roles[roles.length - 1] !== 'assistant') return 'the last message must be the assistant\'s answer';
  return undefined;
}

export interface ExampleProblem {
  /** 1-based line of the file. */
  line: number;
  message: string;
}

export interface ReadExamplesResult {
  examples: ChatExample[];
  /** The file line of each example (same order). */
  lineNumbers: number[];
  problems: ExampleProblem[];
  /** Non-empty lines read. */
  lines: number;
}

/** Checks one JSONL line; blank lines are not examples and give undefined. */
export function parseExampleLine(text: string, line: number): { ok: true; example: ChatExample } | { ok: false; problem: ExampleProblem } | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: { line, message: `not valid JSON (${(err as Error).message.split('\n')[0]})` } };
  }
  const parsed = exampleLineSchema.safeParse(value);
  if (parsed.success) return { ok: true, example: parsed.data };
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('').replace(/^\./, '');
  return { ok: false, problem: { line, message: `${path ? `${path}: ` : ''}${issue.message}` } };
}

/** Reads a chat JSONL file, streaming; every malformed line is reported with its number. */
export async function readExamples(path: string): Promise<ReadExamplesResult> {
  const result: ReadExamplesResult = { examples: [], lineNumbers: [], problems: [], lines: 0 };
  const stream = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolveOpen, reject) => {
    stream.once('open', () => resolveOpen());
    stream.once('error', (err) => reject(new InputError(`${path}: cannot read examples (${err.message})`, err)));
  });
  await opened;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const text of lines) {
    n++;
    const parsed = parseExampleLine(text, n);
    if (!parsed) continue;
    result.lines++;
    if (parsed.ok) {
      result.examples.push(parsed.example);
      result.lineNumbers.push(n);
    } else result.problems.push(parsed.problem);
  }
  return result;
}

/** One line per problem: "FILE:LINE: message". */
export function formatProblems(path: string, problems: ExampleProblem[], limit = 10): string {
  const shown = problems.slice(0, limit).map((p) => `${path}:${p.line}: ${p.message}`);
  if (problems.length > limit) shown.push(`... and ${problems.length - limit} more`);
  return shown.join('\n');
}

const DISTILL_FIELDS = [
  'id', 'task', 'dataset', 'split', 'sample_id', 'knowledge_id', 'teacher', 'prompt_version', 'prompt_hash', 'label', 'cwe', 'pair',
  'code_lines', 'tokens', 'content_hash', 'run_id',
] as const;

/** The example as distill wrote it, or the metadata fields it lacks (e.g. chat JSONL from elsewhere). */
export function asDistilledExample(e: ChatExample): { ok: true; example: ExampleLine } | { ok: false; missing: string[] } {
  const missing = DISTILL_FIELDS.filter((f) => e[f] === undefined);
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, example: e as unknown as ExampleLine };
}

/** Reads distill's JSONL: lines that are not valid examples or lack distill's metadata are problems. */
export async function readDistilledExamples(path: string): Promise<{ examples: ExampleLine[]; problems: ExampleProblem[]; lines: number }> {
  const read = await readExamples(path);
  const examples: ExampleLine[] = [];
  const problems = [...read.problems];
  read.examples.forEach((e, i) => {
    const checked = asDistilledExample(e);
    if (checked.ok) examples.push(checked.example);
    else problems.push({ line: read.lineNumbers[i]!, message: `not a finesec distill line: missing ${checked.missing.join(', ')}` });
  });
  problems.sort((a, b) => a.line - b.line);
  return { examples, problems, lines: read.lines };
}
