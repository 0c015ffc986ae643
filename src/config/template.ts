/** The commented finesec.yaml that `finesec init` writes. It must parse to the defaults (tested). */
export const configTemplate = `# finesec configuration. Unknown keys and bad values are errors that name the key.
version: 1

# Threads for llama.cpp and the training engine. 1 is the default on purpose: on small
# virtual machines two threads are often slower than one. Raise it after measuring.
threads: 1

corpus:
  # Source files larger than this are skipped with a recorded reason.
  max_file_bytes: 1000000
  # Functions longer than this many lines are skipped with a recorded reason.
  max_function_lines: 2000
  # Rows per transaction while importing (an interrupted import resumes after the last batch).
  batch_size: 2000
  near_duplicates:
    # Jaccard similarity of token shingles above which two functions are near-duplicates.
    threshold: 0.8
    shingle: 5
    permutations: 128
    bands: 16

split:
  # group | project | commit | time | random (random leaks on Juliet-like data; see split --check)
  by: group
  ratios: [0.8, 0.1, 0.1]
  seed: 1

teacher:
  # reference (offline, from ground truth), openai:MODEL[@BASE_URL], anthropic:MODEL
  spec: reference
  # Name of the environment variable holding the API key; the key itself is never written anywhere.
  # api_key_env: OPENAI_API_KEY
  concurrency: 4
  timeout_seconds: 120
  max_retries: 2
  # Resamples (with rising temperature) after a rejected answer.
  resamples: 2
  # Stop cleanly once this much has been spent (USD).
  # max_cost_usd: 5
  # USD per million tokens, by model name.
  prices: {}

student:
  # A GGUF base model, or an OpenAI-compatible endpoint (openai:MODEL@URL).
  # model: models/nano/nano-q8_0.gguf
  adapters: []
  context: 4096
  max_tokens: 1024

train:
  lr: 0.0002
  epochs: 1
  batch_tokens: 4096
  accum: 1
  warmup: 10
  schedule: cosine
  seq_len: 1024
  seed: 1
  lora:
    rank: 16
    alpha: 32
    dropout: 0.05
    targets: [q, k, v, o, gate, up, down]
    rslora: false

learn:
  # Share of each update batch drawn from earlier examples (stratified by CWE) against forgetting.
  replay: 0.3
  # A candidate adapter is promoted only if the target metric rises by at least margin and no
  # regression suite falls by more than tolerance; otherwise it is kept as rejected, with the numbers.
  margin: 0.02
  tolerance: 0.01
  # accuracy | precision | recall | f1 | mcc | pc (paired: both sides of a pair right)
  metric: accuracy
  # Optimizer steps of one update, warm-started from the current adapter.
  max_steps: 200
  rounds: 3
  tasks: [detect, classify, localize, fragment, explain, reasoning, report]
  # Share of hard cases held out of training and evaluated by the gate.
  holdout: 0.2
  # lr: 0.0001          (default: train.lr)
  # suite_limit: 200    (samples per gate suite; default: all)
  seed: 1
`;
