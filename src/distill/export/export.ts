/**
 * `finesec export`: distilled examples -> a folder another trainer can use as is: the data file
 * in the trainer's format, its configuration (with finesec.yaml's LoRA and training settings)
 * and a data card (README.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { FinesecConfig } from '../../config/schema.js';
import type { DistillSummary } from '../distill.js';
import { exampleFigures } from '../stats.js';
import type { ExampleLine } from '../types.js';
import { exampleJson } from '../example.js';
import { renderCard, type CardInput } from './card.js';
import { toAlpaca, toMessagesOnly, toSharegpt, type ExportFormat } from './formats.js';
import { axolotlConfig, BASE_MODEL_PLACEHOLDER, DATA_FILE, llamafactoryConfigs, trlConfigs, type TrainerSettings } from './trainer-configs.js';

export interface ExportOptions {
  format: ExportFormat;
  outDir: string;
  /** Examples as distill wrote them (full metadata) or as read back from a chat JSONL. */
  examples: ExampleLine[];
  config: FinesecConfig;
  source: string;
  runs: CardInput['runs'];
  malformed: number;
  baseModel?: string;
  template?: string;
  datasetName?: string;
}

export interface ExportSummary {
  format: ExportFormat;
  dir: string;
  files: string[];
  examples: number;
}

export function exportExamples(o: ExportOptions): ExportSummary {
  const dir = resolve(o.outDir);
  mkdirSync(dir, { recursive: true });
  const settings: TrainerSettings = {
    baseModel: o.baseModel ?? BASE_MODEL_PLACEHOLDER,
    outputDir: 'outputs/finesec-lora',
    template: o.template ?? 'qwen',
    datasetName: o.datasetName ?? 'finesec',
  };
  const files: string[] = [];
  const write = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    files.push(name);
  };
  const jsonl = (lines: unknown[]): string => lines.map((l) => JSON.stringify(l) + '\n').join('');

  switch (o.format) {
    case 'messages':
      write(DATA_FILE, o.examples.map((e) => exampleJson(e) + '\n').join(''));
      break;
    case 'sharegpt':
      write(DATA_FILE, jsonl(o.examples.map(toSharegpt)));
      break;
    case 'alpaca':
      write(DATA_FILE, jsonl(o.examples.map(toAlpaca)));
      break;
    case 'trl': {
      write(DATA_FILE, jsonl(o.examples.map(toMessagesOnly)));
      const { json, yaml } = trlConfigs(o.config, settings);
      write('trl_sft_config.json', JSON.stringify(json, null, 2) + '\n');
      write('trl_sft.yaml', yamlText(yaml, 'TRL SFT (trl sft --config trl_sft.yaml), written by finesec export. Set model_name_or_path.'));
      break;
    }
    case 'axolotl':
      write(DATA_FILE, jsonl(o.examples.map(toMessagesOnly)));
      write('axolotl.yaml', yamlText(axolotlConfig(o.config, settings), 'axolotl LoRA over an 8-bit base (axolotl train axolotl.yaml), written by finesec export. Set base_model.'));
      break;
    case 'llamafactory': {
      write(DATA_FILE, jsonl(o.examples.map(toMessagesOnly)));
      const { datasetInfo, yaml } = llamafactoryConfigs(o.config, settings);
      write('dataset_info.json', JSON.stringify(datasetInfo, null, 2) + '\n');
      write(
        'llamafactory_sft.yaml',
        yamlText(yaml, 'LLaMA-Factory LoRA SFT (llamafactory-cli train llamafactory_sft.yaml), written by finesec export. Set model_name_or_path and template.'),
      );
      break;
    }
  }
  const card = renderCard({ format: o.format, source: o.source, files: [...files, 'README.md'], figures: exampleFigures(o.examples), runs: o.runs, malformed: o.malformed });
  write('README.md', card);
  return { format: o.format, dir, files, examples: o.examples.length };
}

function yamlText(value: Record<string, unknown>, comment: string): string {
  return `# ${comment}\n${stringify(value, { lineWidth: 0 })}`;
}

/** The distill summaries the card lists, from the runs table. */
export type RunSummaries = Array<Pick<DistillSummary, 'run' | 'decontamination' | 'balance' | 'studentFormDropped' | 'length' | 'selection'>>;
