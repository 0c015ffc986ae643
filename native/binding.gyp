# finesec compute kernels. The portable code is built with the compiler's default flags; each SIMD
# variant is a static library with its own -m flags, linked in and only called after a run-time
# CPU check (native/src/cpu.cc), so one build runs on any x86-64.
{
  'target_defaults': {
    'cflags': ['-O3', '-fPIC', '-Wno-maybe-uninitialized'],
    'cflags_cc': ['-std=gnu++17'],
    'xcode_settings': {'OTHER_CFLAGS': ['-O3'], 'CLANG_CXX_LANGUAGE_STANDARD': 'gnu++17'},
  },
  'targets': [
    {
      'target_name': 'finesec_kernels',
      'sources': [
        'src/addon.cc',
        'src/cpu.cc',
        'src/threadpool.cc',
        'src/gemm.cc',
        'src/gemm_scalar.cc',
        'src/q8.cc',
        'src/rows.cc',
      ],
      'conditions': [
        ['target_arch=="x64"', {
          'dependencies': ['finesec_kernels_avx2', 'finesec_kernels_avx512', 'finesec_kernels_vnni'],
        }],
      ],
    },
  ],
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          'target_name': 'finesec_kernels_avx2',
          'type': 'static_library',
          'sources': ['src/gemm_avx2.cc'],
          'cflags': ['-mavx2', '-mfma'],
          'xcode_settings': {'OTHER_CFLAGS': ['-mavx2', '-mfma']},
        },
        {
          'target_name': 'finesec_kernels_avx512',
          'type': 'static_library',
          'sources': ['src/gemm_avx512.cc'],
          'cflags': ['-mavx2', '-mfma', '-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq'],
          'xcode_settings': {'OTHER_CFLAGS': ['-mavx2', '-mfma', '-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512dq']},
        },
        {
          'target_name': 'finesec_kernels_vnni',
          'type': 'static_library',
          'sources': ['src/q8_vnni.cc'],
          'cflags': ['-mavx2', '-mfma', '-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512vnni'],
          'xcode_settings': {'OTHER_CFLAGS': ['-mavx2', '-mfma', '-mavx512f', '-mavx512bw', '-mavx512vl', '-mavx512vnni']},
        },
      ],
    }],
  ],
}
