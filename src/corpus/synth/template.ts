import type { Severity } from '../../report/schema.js';
import type { CharType, Header, Language, Line } from './code.js';
import type { Names } from './names.js';
import type { Rng } from './rng.js';
import type { IntSourceOptions, SourceBlock, SourceFacts, SourceKind, StringSourceOptions } from './sources.js';

/**
 * A template writes one weakness as a pair: the vulnerable and the fixed statements, around data
 * obtained by a source and placed by a control-flow wrapper. It also explains the instance it
 * wrote, with the line numbers the assembler found for its tags.
 */
export type Variant = 'vulnerable' | 'fixed';

export interface BuildContext {
  rng: Rng;
  names: Names;
  language: Language;
  sourceKind: SourceKind;
  charType: CharType;
  /** Name of the entry function (already reserved). */
  entry: string;
  stringSource(opts: StringSourceOptions): SourceBlock;
  intSource(opts: IntSourceOptions): SourceBlock;
}

/** A variable the sink reads; becomes a parameter when the sink moves to a helper function. */
export interface FlowVar {
  name: string;
  type: string;
}

export interface TemplateParts {
  /** Sub-variant of the template (e.g. strcpy vs memcpy), recorded in the sample's metadata. */
  form: string;
  headers: Header[];
  source: SourceBlock;
  /** Statements after the source; the wrapper places them. Tags: flaw, loc, fix and any the explanation uses. */
  sink(variant: Variant): Line[];
  /** Top-level code the sink needs (types, tables, functions). */
  globals?(variant: Variant): Line[];
  /** Variables the sink uses from the source; defaults to the source's variable. */
  flow?: FlowVar[];
  explain(x: ExplainContext): Explanation;
}

export interface ExplainContext {
  /** First line carrying the tag in the vulnerable code (throws when absent). */
  v(tag: string): number;
  vAll(tag: string): number[];
  /** First line carrying the tag in the fixed code. */
  f(tag: string): number;
  fAll(tag: string): number[];
  src: SourceFacts;
  /** Function holding the sink statements (the helper when the wrapper moved them). */
  sinkFunction: string;
  entry: string;
  language: Language;
}

export interface Explanation {
  title: string;
  severity: Severity;
  rootCause: string;
  trigger: string;
  impact: string;
  remediation: string;
  /** Evidence from the sink side, in flow order; the source and helper-call steps are added for you. */
  steps: Array<{ line: number; text: string }>;
  /** Why the vulnerable code is flawed, one sentence each (reasoning). */
  why: string[];
  /** Why the fixed code is not, with fixed-code line numbers. */
  fixedWhy: string[];
  /** The function holding the flaw, when it is not the sink function. */
  flawFunction?: string;
}

export interface SynthTemplate {
  id: string;
  cwe: string;
  /** One line for listings. */
  summary: string;
  languages: readonly Language[];
  sources: readonly SourceKind[];
  /** Character types the template can use; defaults to char only. */
  charTypes?: readonly CharType[];
  build(ctx: BuildContext): TemplateParts;
}
