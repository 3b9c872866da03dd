"""The package's exported names, used as docs/python.md and the README use them: through ``import blurgen``."""

import importlib
import pkgutil
import subprocess
import sys

import numpy as np

import blurgen


def load_every_module() -> None:
    """Import every module of blurgen, as a long session (train, the viewer, the tests) ends up doing."""
    for module in pkgutil.walk_packages(blurgen.__path__, "blurgen."):
        if module.name != "blurgen.__main__":  # running the command line is not loading a module
            importlib.import_module(module.name)


def test_every_exported_name_is_the_object_its_module_defines_after_every_module_is_loaded():
    load_every_module()
    for name, module in blurgen._EXPORTS.items():
        assert getattr(blurgen, name) is getattr(importlib.import_module(module), name), name
    kernel = blurgen.sample_kernels(1, size=9).kernels[0]
    blurred = blurgen.blur(np.zeros((32, 32, 3), np.uint8), kernel)
    assert blurred.shape == (32, 32, 3)
    from blurgen import blur

    assert callable(blur) and blur is blurgen.blur


def test_the_documented_first_lines_work_in_a_fresh_interpreter():
    code = ("import numpy as np, blurgen; import blurgen.blurring.camera, blurgen.pairs.synthesizer; blurgen.sample_kernels(4); "
            "print(blurgen.blur(np.zeros((64, 64, 3), np.uint8), np.ones((5, 5), np.float32) / 25).shape)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "(64, 64, 3)", result.stderr


def test_dir_lists_the_public_names_only():
    names = dir(blurgen)
    assert set(blurgen.__all__) <= set(names) and "Motion" in names and "__version__" in names
    assert not {"TYPE_CHECKING", "annotations", "importlib"} & set(names)
