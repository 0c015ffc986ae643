import { studentCweIds } from '../runtime/generate-report.js';
import { buildReportMessages } from '../runtime/report-prompt.js';
import { studentReportJsonSchema } from '../runtime/report-schema.js';
import type { ChatBackend, ChatMessage, ChatRequest, ChatResult } from '../runtime/chat-types.js';
import type { Language } from '../kb/samples.js';
import { canonicalJson, sha256 } from '../util/hash.js';
import type { PrefilterHit } from './types.js';

/**
 * What the student is asked for one function (or part): the runtime's report prompt, plus, with
 * `--prefilter ... --prefilter-mode hints`, the analyzer's hits as a short note after the code.
 * The prompt's identity (its version in the scan cache) is a hash of its text and of the report
 * grammar, so any change to either invalidates cached reports.
 */
let promptVersion: string | undefined;

export function reportPromptVersion(): string {
  promptVersion ??=
    'report-' +
    sha256(
      canonicalJson({
        probe: buildReportMessages('int f(void) { return 0; }', { language: 'c' }),
        probeCpp: buildReportMessages('int f() { return 0; }', { language: 'cpp' }),
        schema: studentReportJsonSchema({ lineCount: 1, cweIds: studentCweIds() }),
      }),
    ).slice(0, 16);
  return promptVersion;
}

/** Hits as the student sees them: line numbers relative to the code shown. */
export function hintText(tool: string, hits: readonly PrefilterHit[], firstLine: number, lineCount: number): string | undefined {
  const inside = hits.filter((h) => h.line >= firstLine && h.line < firstLine + lineCount);
  if (inside.length === 0) return undefined;
  const lines = inside.map((h) => `- line ${h.line - firstLine + 1}: ${h.cwe ? `${h.cwe} ` : ''}${h.rule}: ${h.message}`);
  return `Static analyzer hints (${tool}; they may be wrong, and it misses things):\n${lines.join('\n')}`;
}

export function withHints(messages: ChatMessage[], hints: string | undefined): ChatMessage[] {
  if (!hints) return messages;
  const out = messages.map((m) => ({ ...m }));
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i]!.role === 'user') {
      out[i]!.content += `\n\n${hints}`;
      break;
    }
  }
  return out;
}

export function scanMessages(code: string, language: Language, hints: string | undefined): ChatMessage[] {
  return withHints(buildReportMessages(code, { language }), hints);
}

/** A backend that adds the hints to every request it forwards (generateReport builds the base prompt). */
export class HintedBackend implements ChatBackend {
  constructor(
    private readonly inner: ChatBackend,
    private readonly hints: string,
  ) {}

  get id(): string {
    return this.inner.id;
  }

  complete(request: ChatRequest): Promise<ChatResult> {
    return this.inner.complete({ ...request, messages: withHints(request.messages, this.hints) });
  }

  async close(): Promise<void> {
    // The inner backend is shared and closed by its owner.
  }
}
