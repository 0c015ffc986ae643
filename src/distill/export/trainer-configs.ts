/**
 * Ready-to-run configurations for GPU trainers, from finesec.yaml's train section (LoRA rank,
 * alpha, dropout, targets, rslora; learning rate, epochs, schedule, warmup, sequence length,
 * accumulation, seed). Paths are relative to the export folder: run the trainer from there.
 * The base model is a placeholder unless one is given: finesec trains GGUF bases, the GPU
 * trainers need the Hugging Face checkpoint of the same model.
 */
import type { FinesecConfig } from '../../config/schema.js';

export const BASE_MODEL_PLACEHOLDER = 'SET-ME/hf-base-model';
export const DATA_FILE = 'train.jsonl';

/** finesec's LoRA target names -> the Hugging Face (llama / qwen2) module names. */
export const HF_LORA_MODULES: Record<FinesecConfig['train']['lora']['targets'][number], string> = {
  q: 'q_proj',
  k: 'k_proj',
  v: 'v_proj',
  o: 'o_proj',
  gate: 'gate_proj',
  up: 'up_proj',
  down: 'down_proj',
};

export interface TrainerSettings {
  baseModel: string;
  outputDir: string;
  /** LLaMA-Factory's chat template name. */
  template: string;
  /** LLaMA-Factory's name for the dataset in dataset_info.json. */
  datasetName: string;
}

function hfModules(config: FinesecConfig): string[] {
  return config.train.lora.targets.map((t) => HF_LORA_MODULES[t]);
}

/** Sequences per device step: finesec batches by tokens, the trainers by sequences. */
function sequencesPerStep(config: FinesecConfig): number {
  return Math.max(1, Math.floor(config.train.batch_tokens / config.train.seq_len));
}

/** TRL: SFTConfig arguments and a peft LoraConfig (as JSON), and the same as a `trl sft --config` YAML. */
export function trlConfigs(config: FinesecConfig, s: TrainerSettings): { json: Record<string, unknown>; yaml: Record<string, unknown> } {
  const t = config.train;
  const sft = {
    output_dir: s.outputDir,
    max_length: t.seq_len,
    packing: false,
    learning_rate: t.lr,
    num_train_epochs: t.epochs,
    per_device_train_batch_size: sequencesPerStep(config),
    gradient_accumulation_steps: t.accum,
    warmup_steps: t.warmup,
    lr_scheduler_type: t.schedule,
    seed: t.seed,
    // finesec's loss covers the assistant turn only; this needs a chat template with generation
    // markers ({% generation %}). Set it to false for a template without them.
    assistant_only_loss: true,
  };
  const lora = {
    r: t.lora.rank,
    lora_alpha: t.lora.alpha,
    lora_dropout: t.lora.dropout,
    target_modules: hfModules(config),
    bias: 'none',
    task_type: 'CAUSAL_LM',
    use_rslora: t.lora.rslora,
  };
  const json = {
    model_name_or_path: s.baseModel,
    // BitsAndBytesConfig arguments: the frozen base in 8 bits, as finesec trains it.
    bnb_config: { load_in_8bit: true },
    dataset: { format: 'json', data_files: DATA_FILE, split: 'train', messages_field: 'messages' },
    sft_config: sft,
    lora_config: lora,
  };
  const yaml = {
    model_name_or_path: s.baseModel,
    datasets: [{ path: 'json', data_files: DATA_FILE, split: 'train' }],
    ...sft,
    use_peft: true,
    load_in_8bit: true,
    lora_r: t.lora.rank,
    lora_alpha: t.lora.alpha,
    lora_dropout: t.lora.dropout,
    lora_target_modules: hfModules(config),
    ...(t.lora.rslora ? { use_rslora: true } : {}),
    report_to: 'none',
  };
  return { json, yaml };
}

/** axolotl: one YAML, 8-bit base, LoRA adapter, chat_template dataset over the messages field. */
export function axolotlConfig(config: FinesecConfig, s: TrainerSettings): Record<string, unknown> {
  const t = config.train;
  return {
    base_model: s.baseModel,
    load_in_8bit: true,
    adapter: 'lora',
    lora_r: t.lora.rank,
    lora_alpha: t.lora.alpha,
    lora_dropout: t.lora.dropout,
    lora_target_modules: hfModules(config),
    ...(t.lora.rslora ? { peft_use_rslora: true } : {}),
    chat_template: 'tokenizer_default_fallback_chatml',
    datasets: [
      {
        path: DATA_FILE,
        ds_type: 'json',
        type: 'chat_template',
        field_messages: 'messages',
        message_property_mappings: { role: 'role', content: 'content' },
        roles_to_train: ['assistant'],
      },
    ],
    train_on_inputs: false,
    dataset_prepared_path: 'last_run_prepared',
    val_set_size: 0,
    output_dir: s.outputDir,
    sequence_len: t.seq_len,
    sample_packing: false,
    micro_batch_size: sequencesPerStep(config),
    gradient_accumulation_steps: t.accum,
    num_epochs: t.epochs,
    optimizer: 'adamw_torch',
    lr_scheduler: t.schedule,
    learning_rate: t.lr,
    warmup_steps: t.warmup,
    seed: t.seed,
  };
}

/** LLaMA-Factory: the dataset_info.json entry (OpenAI-style messages) and a LoRA SFT training YAML. */
export function llamafactoryConfigs(config: FinesecConfig, s: TrainerSettings): { datasetInfo: Record<string, unknown>; yaml: Record<string, unknown> } {
  const t = config.train;
  const datasetInfo = {
    [s.datasetName]: {
      file_name: DATA_FILE,
      formatting: 'sharegpt',
      columns: { messages: 'messages' },
      tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
    },
  };
  const yaml = {
    model_name_or_path: s.baseModel,
    quantization_bit: 8,
    quantization_method: 'bnb',
    stage: 'sft',
    do_train: true,
    finetuning_type: 'lora',
    lora_rank: t.lora.rank,
    lora_alpha: t.lora.alpha,
    lora_dropout: t.lora.dropout,
    lora_target: hfModules(config).join(','),
    ...(t.lora.rslora ? { use_rslora: true } : {}),
    dataset: s.datasetName,
    dataset_dir: '.',
    template: s.template,
    cutoff_len: t.seq_len,
    output_dir: s.outputDir,
    per_device_train_batch_size: sequencesPerStep(config),
    gradient_accumulation_steps: t.accum,
    learning_rate: t.lr,
    num_train_epochs: t.epochs,
    lr_scheduler_type: t.schedule,
    warmup_steps: t.warmup,
    seed: t.seed,
    report_to: 'none',
  };
  return { datasetInfo, yaml };
}
