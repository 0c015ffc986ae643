// Run-time CPU feature detection and the choice of kernel variant. One build runs on any x86-64:
// the AVX2 / AVX-512 translation units are only called after __builtin_cpu_supports said yes
// (GCC's checks include the OS having enabled the wide register state).
#include <string.h>

#include "kernels.h"

namespace fsk {
namespace {

CpuFeatures detect() {
  CpuFeatures f = {};
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  f.avx2 = __builtin_cpu_supports("avx2");
  f.fma = __builtin_cpu_supports("fma");
  f.avx512f = __builtin_cpu_supports("avx512f");
  f.avx512bw = __builtin_cpu_supports("avx512bw");
  f.avx512vl = __builtin_cpu_supports("avx512vl");
  f.avx512dq = __builtin_cpu_supports("avx512dq");
  f.avx512vnni = __builtin_cpu_supports("avx512vnni");
  f.avxvnni = __builtin_cpu_supports("avxvnni");
#endif
  return f;
}

const CpuFeatures g_features = detect();
IsaKernels g_active = kScalarKernels;
bool g_vnni = false;

bool has_avx2() { return g_features.avx2 && g_features.fma; }
bool has_avx512() {
  return has_avx2() && g_features.avx512f && g_features.avx512bw && g_features.avx512vl && g_features.avx512dq;
}

// The best the CPU has, chosen when the library loads.
struct AutoSelect {
  AutoSelect() { select_isa("auto"); }
} g_auto_select;

}  // namespace

const CpuFeatures& cpu_features() { return g_features; }

bool select_isa(const char* name) {
  const bool is_auto = strcmp(name, "auto") == 0;
#if defined(__x86_64__) || defined(_M_X64)
  if ((is_auto && has_avx512()) || strcmp(name, "avx512") == 0) {
    if (!has_avx512()) return false;
    g_active = kAvx512Kernels;
    g_vnni = g_features.avx512vnni;
    if (g_vnni) {
      g_active.q8_unsigned_x = true;
      g_active.q8_panel_n = 32;
      g_active.q8_panel_bytes = q8_panel_bytes_vnni;
      g_active.q8_panel = q8_panel_vnni;
    }
    return true;
  }
  if ((is_auto && has_avx2()) || strcmp(name, "avx2") == 0) {
    if (!has_avx2()) return false;
    g_active = kAvx2Kernels;
    g_vnni = false;
    return true;
  }
#endif
  if (is_auto || strcmp(name, "scalar") == 0) {
    g_active = kScalarKernels;
    g_vnni = false;
    return true;
  }
  return false;
}

const char* active_isa() { return g_active.name; }
bool active_vnni() { return g_vnni; }
const IsaKernels& kernels() { return g_active; }

}  // namespace fsk
