import { hasFindings, templateChat, type TaskBuilder } from './common.js';

/** The minimal vulnerable code, verbatim: shown without line numbers so it can be copied exactly. */
export const fragmentTask: TaskBuilder = {
  task: 'fragment',
  appliesTo: hasFindings,
  build: (item) =>
    templateChat('fragment', item, { numbered: false }, { findings: item.report.findings.map((f) => ({ cwe: f.cwe, fragment: f.fragment })) }),
};
