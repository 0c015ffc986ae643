/**
 * Our F16, BF16 and Q8_0 encoders against ggml itself: a small C program calls the conversion
 * functions of the libggml-base library that node-llama-cpp ships, on the same values.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers/cli.js';
import { f32ArrayToBf16Bytes, f32ArrayToF16Bytes, quantizeQ8_0 } from '../../src/engine/gguf/quant.js';

const tmp = tempDir('finesec-ggml-quant-');
afterAll(() => tmp.cleanup());

/** The folder holding libggml-base for this platform inside node-llama-cpp's prebuilt binaries. */
function ggmlLibraryDir(): string {
  const root = join(repoRoot, 'node_modules/@node-llama-cpp');
  const prefix = `${process.platform === 'darwin' ? 'mac' : process.platform}-${process.arch}`;
  for (const pkg of readdirSync(root).filter((p) => p.startsWith(prefix)).sort()) {
    const bins = join(root, pkg, 'bins');
    if (!existsSync(bins)) continue;
    for (const dir of readdirSync(bins)) {
      const full = join(bins, dir);
      if (readdirSync(full).some((f) => f.startsWith('libggml-base.'))) return full;
    }
  }
  throw new Error(`no prebuilt libggml-base for ${prefix} under ${root}`);
}

// Declarations written from ggml.h's signatures (enum ggml_type passed as int; GGML_TYPE_Q8_0 = 8).
const PROGRAM = `
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
size_t ggml_quantize_chunk(int type, const float * src, void * dst, int64_t start, int64_t nrows, int64_t n_per_row, const float * imatrix);
void ggml_quantize_init(int type);
void ggml_fp32_to_fp16_row(const float * x, uint16_t * y, int64_t n);
void ggml_fp32_to_bf16_row_ref(const float * x, uint16_t * y, int64_t n);
static void dump(const char * path, const void * data, size_t bytes) {
  FILE * f = fopen(path, "wb"); fwrite(data, 1, bytes, f); fclose(f);
}
int main(int argc, char ** argv) {
  FILE * f = fopen(argv[1], "rb");
  fseek(f, 0, SEEK_END); long n = ftell(f) / 4; fseek(f, 0, SEEK_SET);
  float * x = malloc(n * 4);
  if (fread(x, 4, n, f) != (size_t) n) return 1;
  fclose(f);
  void * q = malloc(n / 32 * 34);
  ggml_quantize_init(8);
  dump(argv[2], q, ggml_quantize_chunk(8, x, q, 0, n / 32, 32, NULL));
  uint16_t * h = malloc(n * 2);
  ggml_fp32_to_fp16_row(x, h, n);
  dump(argv[3], h, n * 2);
  ggml_fp32_to_bf16_row_ref(x, h, n);
  dump(argv[4], h, n * 2);
  return 0;
}
`;

/** Values that exercise every branch: ties at .5, f16-subnormal scales, large and zero blocks. */
function testValues(blocks: number): Float32Array {
  let s = 42;
  const r = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5;
  const x = new Float32Array(blocks * 32);
  for (let i = 0; i < x.length; i++) {
    const b = i >> 5;
    const kind = [0, 1, 2, 3, 4, 5, 6][b % 7]!;
    x[i] =
      kind === 0 ? r() * 0.05 : kind === 1 ? Math.round(r() * 254) / 2 : kind === 2 ? r() * 1e-6 : kind === 3 ? r() * 1e5 : kind === 4 ? r() * 1e-9 : kind === 5 ? 0 : r() * 3;
  }
  return x;
}

describe('F16 / BF16 / Q8_0 bytes equal ggml\'s', () => {
  it('for 64k values of every kind', () => {
    const libDir = ggmlLibraryDir();
    const source = join(tmp.dir, 'quant.c');
    const exe = join(tmp.dir, 'quant');
    writeFileSync(source, PROGRAM);
    execFileSync('cc', ['-O1', source, '-o', exe, `-L${libDir}`, '-lggml-base', `-Wl,-rpath,${libDir}`]);
    const x = testValues(2048);
    const input = join(tmp.dir, 'x.bin');
    writeFileSync(input, x);
    const [q, h, b] = ['q.bin', 'h.bin', 'b.bin'].map((f) => join(tmp.dir, f));
    execFileSync(exe, [input, q!, h!, b!]);
    expect(Buffer.from(quantizeQ8_0(x)).equals(readFileSync(q!))).toBe(true);
    expect(Buffer.from(f32ArrayToF16Bytes(x)).equals(readFileSync(h!))).toBe(true);
    expect(Buffer.from(f32ArrayToBf16Bytes(x)).equals(readFileSync(b!))).toBe(true);
  });
});
