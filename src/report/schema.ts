import { z } from 'zod';

/**
 * The one record every stage speaks: teacher output, training target, student output and scan
 * finding. Field order here is the order the student is trained to emit.
 */
export const severitySchema = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof severitySchema>;

export const cweIdSchema = z.string().regex(/^CWE-[1-9][0-9]{0,4}$/, 'expected a CWE id like "CWE-476"');

const lineNumber = z.number().int().min(1).max(1_000_000);
/**
 * Text limits are in UTF-16 units and four times what a student may write: the student's grammar
 * counts characters of up to 4 bytes (src/runtime/report-schema.ts divides by 4), so a title of
 * 200 characters, say, is expressible by the student and accepted here whatever its encoding.
 */
const text = (max: number) => z.string().min(1).max(max * 4);

export const locationSchema = z.strictObject({
  function: z.string().max(200 * 4),
  start_line: lineNumber,
  end_line: lineNumber,
});

export const evidenceStepSchema = z.strictObject({
  line: lineNumber,
  step: text(400),
});

export const findingSchema = z.strictObject({
  cwe: cweIdSchema,
  title: text(200),
  severity: severitySchema,
  location: locationSchema,
  /** The minimal vulnerable code, verbatim from the input. */
  fragment: text(2000),
  root_cause: text(1000),
  /** Conditions under which the flaw fires. */
  trigger: text(1000),
  impact: text(1000),
  remediation: text(1000),
  /** Ordered steps from source to sink: line + what happens there. */
  evidence: z.array(evidenceStepSchema).min(1).max(20),
  /** Corrected code for the fragment, when the author can give one. */
  fix: z.string().max(4000 * 4).optional(),
  confidence: z.number().min(0).max(1),
});

export const reportSchema = z.strictObject({
  verdict: z.enum(['vulnerable', 'not_vulnerable']),
  findings: z.array(findingSchema).max(10),
  /** Short ordered steps explaining the verdict. */
  reasoning: z.array(text(600)).min(1).max(20),
});

export type Location = z.infer<typeof locationSchema>;
export type EvidenceStep = z.infer<typeof evidenceStepSchema>;
export type Finding = z.infer<typeof findingSchema>;
export type VulnerabilityReport = z.infer<typeof reportSchema>;
export type Verdict = VulnerabilityReport['verdict'];

/** JSON Schema of the report, for teachers' structured output and the student's grammar. */
export function reportJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(reportSchema, { target: 'draft-7' }) as Record<string, unknown>;
}
