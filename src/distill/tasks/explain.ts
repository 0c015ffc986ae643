import { describeLocation, hasFindings, templateChat, type TaskBuilder } from './common.js';

/** Why and what to do: given each finding's CWE and place, its root cause, trigger, impact and remediation. */
export const explainTask: TaskBuilder = {
  task: 'explain',
  appliesTo: hasFindings,
  build: (item) => {
    const findings = item.report.findings;
    const listed = findings.map((f, i) => `${i + 1}. ${f.cwe} ${describeLocation(f)}`).join('\n');
    return templateChat(
      'explain',
      item,
      { numbered: true, findings: listed },
      {
        findings: findings.map((f) => ({ cwe: f.cwe, root_cause: f.root_cause, trigger: f.trigger, impact: f.impact, remediation: f.remediation })),
      },
    );
  },
};
