import { describe, expect, it } from 'vitest';
import { renderReportMarkdown } from '../../src/report/render.js';
import type { VulnerabilityReport } from '../../src/report/schema.js';

describe('renderReportMarkdown', () => {
  it('renders verdict, finding details, evidence, fix and reasoning', () => {
    const report: VulnerabilityReport = {
      verdict: 'vulnerable',
      findings: [
        {
          cwe: 'CWE-416',
          title: 'Use after free of buf',
          severity: 'high',
          location: { function: 'show', start_line: 5, end_line: 6 },
          fragment: 'free(buf);\nputs(buf);',
          root_cause: 'buf is printed after it was freed.',
          trigger: 'Every call.',
          impact: 'Reads freed memory.',
          remediation: 'Print before freeing.',
          evidence: [
            { line: 5, step: 'buf is freed' },
            { line: 6, step: 'buf is read' },
          ],
          fix: 'puts(buf);\nfree(buf);',
          confidence: 1,
        },
      ],
      reasoning: ['buf is heap memory', 'it is used after free'],
    };
    const md = renderReportMarkdown(report, { title: 'show()', language: 'cpp' });
    expect(md).toContain('# show()');
    expect(md).toContain('**Verdict:** vulnerable (1 finding)');
    expect(md).toContain('## 1. Use after free of buf');
    expect(md).toContain('- **CWE:** CWE-416 Use After Free');
    expect(md).toContain('- **Location:** `show`, lines 5-6');
    expect(md).toContain('```cpp\nfree(buf);\nputs(buf);\n```');
    expect(md).toContain('1. line 5: buf is freed\n2. line 6: buf is read');
    expect(md).toContain('**Fix.**\n\n```cpp\nputs(buf);\nfree(buf);\n```');
    expect(md).toContain('## Reasoning\n\n1. buf is heap memory\n2. it is used after free');
  });

  it('renders a clean report without finding sections', () => {
    const md = renderReportMarkdown({ verdict: 'not_vulnerable', findings: [], reasoning: ['the copy is bounded'] });
    expect(md).toContain('**Verdict:** not vulnerable');
    expect(md).not.toContain('## 1.');
    expect(md).toContain('1. the copy is bounded');
  });
});
