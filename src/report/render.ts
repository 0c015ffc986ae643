import { getCwe } from '../cwe/index.js';
import type { VulnerabilityReport } from './schema.js';

export interface RenderOptions {
  /** Heading of the document; defaults to "Vulnerability report". */
  title?: string;
  /** Fence language for code blocks. */
  language?: 'c' | 'cpp';
}

/** Markdown for one report: verdict, then each finding with its evidence and fix, then the reasoning. */
export function renderReportMarkdown(report: VulnerabilityReport, options: RenderOptions = {}): string {
  const lang = options.language ?? 'c';
  const out: string[] = [`# ${options.title ?? 'Vulnerability report'}`, ''];
  const count = report.findings.length;
  out.push(`**Verdict:** ${report.verdict === 'vulnerable' ? 'vulnerable' : 'not vulnerable'}${count ? ` (${count} finding${count === 1 ? '' : 's'})` : ''}`, '');
  report.findings.forEach((f, i) => {
    const name = getCwe(f.cwe)?.name;
    const where = `\`${f.location.function || '(file scope)'}\`, lines ${f.location.start_line}-${f.location.end_line}`;
    out.push(`## ${i + 1}. ${f.title}`, '');
    out.push(`- **CWE:** ${f.cwe}${name ? ` ${name}` : ''}`);
    out.push(`- **Severity:** ${f.severity}; **confidence:** ${f.confidence.toFixed(2)}`);
    out.push(`- **Location:** ${where}`, '');
    out.push(fence(f.fragment, lang), '');
    out.push(`**Root cause.** ${f.root_cause}`, '');
    out.push(`**Trigger.** ${f.trigger}`, '');
    out.push(`**Impact.** ${f.impact}`, '');
    out.push('**Evidence.**', '');
    f.evidence.forEach((e, j) => out.push(`${j + 1}. line ${e.line}: ${e.step}`));
    out.push('', `**Remediation.** ${f.remediation}`, '');
    if (f.fix) out.push('**Fix.**', '', fence(f.fix, lang), '');
  });
  out.push('## Reasoning', '');
  report.reasoning.forEach((step, i) => out.push(`${i + 1}. ${step}`));
  return out.join('\n') + '\n';
}

function fence(code: string, lang: string): string {
  const ticks = code.includes('```') ? '````' : '```';
  return `${ticks}${lang}\n${code.replace(/\n+$/, '')}\n${ticks}`;
}
