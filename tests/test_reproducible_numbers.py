"""The same model bytes on every x86-64 processor: OpenBLAS's kernels are pinned (kwalitatief.pin_blas_kernels)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kwalitatief import BLAS_CORETYPE, cpu_flags, pin_blas_kernels

AVX2 = frozenset({"avx2", "fma", "sse2"})


def test_pins_haswell_kernels_on_an_x86_processor_with_avx2():
    env: dict[str, str] = {}
    assert pin_blas_kernels(env, machine="x86_64", flags=AVX2) == "Haswell"
    assert env == {"OPENBLAS_CORETYPE": "Haswell"}


def test_keeps_a_core_type_the_user_set():
    env = {"OPENBLAS_CORETYPE": "SkylakeX"}
    assert pin_blas_kernels(env, machine="x86_64", flags=AVX2) is None
    assert env == {"OPENBLAS_CORETYPE": "SkylakeX"}


@pytest.mark.parametrize("machine, flags", [("aarch64", AVX2), ("x86_64", frozenset({"sse2", "avx"})),
                                            ("x86_64", frozenset())])
def test_leaves_other_processors_to_openblas(machine, flags):
    """ARM, or an x86 processor that cannot run the Haswell kernels (they would crash it)."""
    env: dict[str, str] = {}
    assert pin_blas_kernels(env, machine=machine, flags=flags) is None
    assert env == {}


def test_cpu_flags_of_an_unreadable_file_are_empty(tmp_path):
    assert cpu_flags(str(tmp_path / "missing")) == frozenset()
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(str(info)) == frozenset({"fpu", "sse2", "avx2", "fma"})


@pytest.mark.skipif(not ({"avx2", "fma"} <= cpu_flags() and os.uname().machine == "x86_64"),
                    reason="the kernels are pinned on x86-64 processors with AVX2 and FMA only")
def test_numpy_and_scipy_load_the_pinned_kernels_in_a_new_process():
    """As a pipeline stage starts: kwalitatief first, then numpy, scipy and scikit-learn's liblinear."""
    script = ("import json, kwalitatief, numpy, scipy.linalg, sklearn.svm, threadpoolctl\n"
              "print(json.dumps([i.get('architecture') for i in threadpoolctl.threadpool_info()"
              " if i.get('internal_api') == 'openblas']))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True,
                         timeout=120)
    architectures = json.loads(out.stdout)
    assert architectures and set(architectures) == {BLAS_CORETYPE}


@pytest.mark.skipif(not ({"avx2", "fma"} <= cpu_flags() and os.uname().machine == "x86_64"),
                    reason="the kernels are pinned on x86-64 processors with AVX2 and FMA only")
def test_this_test_process_uses_the_kernels_its_subprocesses_use():
    """tests/conftest.py imports kwalitatief before numpy: files made here equal those made in subprocesses."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401
    import threadpoolctl

    architectures = {i.get("architecture") for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"}
    assert architectures == {BLAS_CORETYPE}
