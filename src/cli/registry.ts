import type { CommandSpec } from './command.js';

/**
 * Every command: its name (one or two words) and the module that defines it. Modules load lazily
 * so `finesec --help` stays fast and a broken optional dependency only affects its own command.
 */
export const commands: Array<{ name: string; summary: string; load: () => Promise<{ command: CommandSpec }> }> = [
  { name: 'init', summary: 'create a workspace (.finesec/ with kb.sqlite and finesec.yaml)', load: () => import('./init.js') },
  { name: 'ingest', summary: 'import a corpus: primevul, bigvul, juliet, source tree or any jsonl', load: () => import('./ingest.js') },
  { name: 'datasets', summary: 'list the datasets: format, samples, rows read, labels, splits', load: () => import('./datasets.js') },
  { name: 'dataset stats', summary: 'statistics of one dataset: labels, CWEs, splits, languages, code lengths', load: () => import('./dataset-stats.js') },
  { name: 'split', summary: 'leakage-free train/valid/test splits (--by group|project|commit|time|random); --check finds leakage', load: () => import('./split.js') },
  { name: 'synth', summary: 'generate paired vulnerable/fixed C/C++ samples with ground-truth reports from CWE templates', load: () => import('./synth.js') },
  { name: 'model init', summary: 'write a random llama/qwen2 GGUF with a trained byte-level BPE tokenizer', load: () => import('./model-init.js') },
  { name: 'model info', summary: 'show architecture, parameters, tensor types, vocabulary and context of a GGUF', load: () => import('./model-info.js') },
  { name: 'model quantize', summary: 'convert a GGUF\'s weight matrices to Q8_0', load: () => import('./model-quantize.js') },
  { name: 'generate', summary: 'ask a student (GGUF + LoRA, or an endpoint) for a grounded vulnerability report on one file', load: () => import('./generate.js') },
  { name: 'serve', summary: 'serve a student over an OpenAI-compatible HTTP API (chat completions, JSON-schema grammars)', load: () => import('./serve.js') },
  { name: 'doctor', summary: 'show which compute kernels are active (native addon or TypeScript fallback, ISA, VNNI) and self-check them', load: () => import('./doctor.js') },
  { name: 'teach', summary: 'teacher knowledge: grounded, validated reports per sample (cached, resumable, cost-limited)', load: () => import('./teach.js') },
  { name: 'knowledge', summary: 'knowledge stats (acceptance by CWE, rejection reasons, spend) or show one record', load: () => import('./knowledge.js') },
  { name: 'distill', summary: 'chat training examples from accepted knowledge: 7 tasks, negatives, balancing, decontamination, length filter', load: () => import('./distill.js') },
  { name: 'distill stats', summary: 'distilled examples in the KB: by task, label and CWE, tokens, teachers, prompt versions', load: () => import('./distill-stats.js') },
  { name: 'export', summary: 'distilled examples for TRL / axolotl / LLaMA-Factory (or messages, sharegpt, alpaca) with config and data card', load: () => import('./export.js') },
  { name: 'demo', summary: 'run the whole pipeline offline on embedded defaults (no network, no API key)', load: () => import('./demo.js') },
  { name: 'eval', summary: 'evaluate models and baselines (cppcheck, flawfinder) side by side: paired metrics, VD-S, CWE, lines, quality, cost', load: () => import('./eval.js') },
  { name: 'report', summary: 're-render summary.md and report.html of an eval run from its results.json', load: () => import('./report.js') },
  { name: 'scan', summary: 'scan C/C++ trees with a student: SARIF / Markdown / JSON, baselines, suppressions, per-function cache', load: () => import('./scan.js') },
  { name: 'train', summary: 'fine-tune a GGUF base on chat examples: LoRA over the frozen Q8_0 base (or --full), checkpoints, exact --resume', load: () => import('./train.js') },
  { name: 'adapters export', summary: 'write an adapter or training checkpoint as llama.cpp GGUF LoRA or as a PEFT folder', load: () => import('./adapters-export.js') },
  { name: 'adapters import', summary: 'convert a PEFT LoRA folder (TRL, axolotl, LLaMA-Factory) to a GGUF adapter for a base', load: () => import('./adapters-import.js') },
  { name: 'adapters merge', summary: 'merge a GGUF LoRA adapter into its base (Q8_0): a model that runs with no adapter', load: () => import('./adapters-merge.js') },
  { name: 'adapters list', summary: 'registered adapters: status (candidate/promoted/rejected), the current one per base, lineage', load: () => import('./adapters-registry.js').then((m) => ({ command: m.adaptersList })) },
  { name: 'adapters show', summary: 'one adapter: files and hashes (checked), lineage, status history, gate figures', load: () => import('./adapters-registry.js').then((m) => ({ command: m.adaptersShow })) },
  { name: 'adapters promote', summary: 'make a registered adapter the current one for its base model', load: () => import('./adapters-registry.js').then((m) => ({ command: m.adaptersPromote })) },
  { name: 'adapters rollback', summary: 'make the previously promoted adapter current again (the rolled-back one becomes rejected)', load: () => import('./adapters-registry.js').then((m) => ({ command: m.adaptersRollback })) },
  { name: 'adapters register', summary: 'add a GGUF LoRA adapter to the registry (copied into the workspace) with its base and lineage', load: () => import('./adapters-registry.js').then((m) => ({ command: m.adaptersRegister })) },
  { name: 'feedback add', summary: 'record a false positive / false negative / wrong CWE / ungrounded report on a sample, function or finding', load: () => import('./feedback.js').then((m) => ({ command: m.feedbackAdd })) },
  { name: 'feedback import-sarif', summary: 'dismissed results of a triaged SARIF log become false-positive feedback', load: () => import('./feedback.js').then((m) => ({ command: m.feedbackImportSarif })) },
  { name: 'feedback list', summary: 'feedback items: accepted or refused (with the reason), kind, source, linked knowledge', load: () => import('./feedback.js').then((m) => ({ command: m.feedbackList })) },
  { name: 'learn', summary: 'continual learning: eval errors and feedback -> teacher -> warm-started update -> gated, versioned adapter', load: () => import('./learn.js') },
];
