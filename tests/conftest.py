import sys
from pathlib import Path

# kwalitatief first: importing it pins OpenBLAS's kernels (kwalitatief.pin_blas_kernels), which only works
# before numpy is loaded; the tests compare files made here with files made in subprocesses.
import kwalitatief  # noqa: F401,E402

sys.path.insert(0, str(Path(__file__).parent))
