import { studentCweIds } from '../../runtime/generate-report.js';
import { buildReportMessages, codeLines } from '../../runtime/report-prompt.js';
import { reportToStudentText } from '../../runtime/report-schema.js';
import type { TaskBuilder } from './common.js';

/**
 * The full report, exactly as the runtime asks for it (buildReportMessages) and exactly as the
 * student's grammar would emit it (reportToStudentText). A report the student's schema cannot
 * express (a string over the student's limit, a CWE outside its list) gives no example.
 */
export const reportTask: TaskBuilder = {
  task: 'report',
  appliesTo: () => true,
  build: (item) => {
    const { code, language, file } = item.sample;
    const target = reportToStudentText(item.report, { lineCount: codeLines(code).length, cweIds: studentCweIds() });
    if (!target.ok) return { ok: false, reason: `the student's report schema cannot express it: ${target.reason}` };
    return {
      ok: true,
      messages: [...buildReportMessages(code, { language, ...(file ? { path: file } : {}) }), { role: 'assistant', content: target.text }],
    };
  },
};
