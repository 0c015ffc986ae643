import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';

/**
 * One llama.cpp binding per process, CPU only, from the prebuilt binaries (never a build or a
 * download). Each context sets its own thread count, so the instance itself has no thread cap.
 * llama.cpp's warnings and errors are kept (not printed) so a failed load can say why.
 */
let shared: Promise<Llama> | undefined;
const recentLog: string[] = [];
const LOG_TAIL = 20;
/** Lines dropped from the front of recentLog so far. */
let logCounter = 0;

export function getSharedLlama(): Promise<Llama> {
  shared ??= getLlama({
    gpu: false,
    build: 'never',
    skipDownload: true,
    usePrebuiltBinaries: true,
    progressLogs: false,
    maxThreads: 0,
    logLevel: LlamaLogLevel.warn,
    logger(level, message) {
      if (level !== LlamaLogLevel.error && level !== LlamaLogLevel.fatal && level !== LlamaLogLevel.warn) return;
      const line = message.trim();
      if (line === '') return;
      recentLog.push(line);
      if (recentLog.length > LOG_TAIL) {
        recentLog.shift();
        logCounter++;
      }
      if (process.env.FINESEC_DEBUG) process.stderr.write(`llama.cpp: ${line}\n`);
    },
  }).catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

/** Marks the log so `llamaLogSince(mark)` returns only what llama.cpp said after it. */
export function llamaLogMark(): number {
  return logCounter + recentLog.length;
}

/** llama.cpp's warning/error lines since a mark, joined on one line (for error messages). */
export function llamaLogSince(mark: number): string {
  const start = Math.max(0, mark - logCounter);
  return recentLog.slice(start).join('; ');
}
