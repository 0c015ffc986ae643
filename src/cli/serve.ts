import { list, requireInt, requireStr, str, type CommandSpec } from './command.js';
import { parseAdapterArgs } from '../runtime/adapter-args.js';
import { UsageError } from '../util/errors.js';
import { startServer } from '../serve/server.js';

const loopback = new Set(['127.0.0.1', '::1', 'localhost']);

export const command: CommandSpec = {
  name: 'serve',
  summary: 'serve a student (base GGUF + LoRA adapters) over an OpenAI-compatible HTTP API',
  description:
    'Endpoints: GET /v1/models, POST /v1/chat/completions (streaming or not; response_format json_object and ' +
    'json_schema through grammars), GET /health. One request generates at a time; up to --max-queue wait, more ' +
    'get 429 with Retry-After. Requests without temperature are greedy. Stops cleanly on SIGINT or SIGTERM.',
  options: {
    model: { type: 'string', help: 'base model GGUF', arg: 'FILE' },
    lora: { type: 'string', help: 'LoRA adapter GGUF, optionally with a scale', arg: 'FILE[:SCALE]', multiple: true },
    'model-id': { type: 'string', help: 'id served in /v1/models (default: the model file name)', arg: 'ID' },
    host: { type: 'string', help: 'address to listen on (loopback unless you say otherwise)', default: '127.0.0.1' },
    port: { type: 'number', help: 'port (0 picks a free one)', default: 8080 },
    'api-key-env': { type: 'string', help: 'environment variable holding the bearer token clients must send', arg: 'VAR' },
    threads: { type: 'number', help: 'CPU threads for generation', default: 1 },
    ctx: { type: 'number', help: 'context size in tokens (default: the model\'s, at most 4096)', arg: 'N' },
    'max-queue': { type: 'number', help: 'requests that may wait behind the running one', default: 16 },
    'max-body-bytes': { type: 'number', help: 'largest request body', default: 1 << 20 },
    'max-tokens-limit': { type: 'number', help: 'largest max_tokens a request may ask for (default: the context size)', arg: 'N' },
  },
  async run(ctx) {
    const cmd = 'serve';
    const a = ctx.args;
    const model = requireStr(a, cmd, 'model');
    const host = str(a, 'host')!;
    const keyVar = str(a, 'api-key-env');
    let apiKey: string | undefined;
    if (keyVar !== undefined) {
      apiKey = process.env[keyVar];
      if (!apiKey) throw new UsageError(`${cmd}: --api-key-env ${keyVar}: the environment variable is not set or empty`);
    } else if (!loopback.has(host)) {
      ctx.logger.warn(`listening on ${host} without an API key: anyone who can reach it can use the model (see --api-key-env)`);
    }
    const modelId = str(a, 'model-id');
    const contextSize = requireInt(a, cmd, 'ctx', 16);
    const maxTokensLimit = requireInt(a, cmd, 'max-tokens-limit', 1);
    const server = await startServer({
      model,
      adapters: parseAdapterArgs(cmd, list(a, 'lora')),
      host,
      port: requireInt(a, cmd, 'port', 0)!,
      threads: requireInt(a, cmd, 'threads', 1)!,
      maxQueue: requireInt(a, cmd, 'max-queue', 0)!,
      maxBodyBytes: requireInt(a, cmd, 'max-body-bytes', 1)!,
      logger: ctx.logger,
      ...(modelId !== undefined ? { modelId } : {}),
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(contextSize !== undefined ? { contextSize } : {}),
      ...(maxTokensLimit !== undefined ? { maxTokensLimit } : {}),
    });
    ctx.result({ url: server.url, model: server.modelId }, `finesec serve: listening on ${server.url} (model ${server.modelId})`);
    await new Promise<void>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        ctx.logger.info(`${signal}: finishing the running request and shutting down`);
        void server.close().then(resolve, resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
