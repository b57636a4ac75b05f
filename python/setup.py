"""Builds the wheel: the Python package plus the native files it loads (libanser.so and the
World vocabulary), laid out as an installation lays them out (anser/lib, anser/share/anser).

The native files come from a CMake build of this repository: $ANSER_BUILD_DIR names an existing
one (absolute, or relative to the repository root), else one is made in python/build/native.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py

PYTHON_DIR = Path(__file__).resolve().parent
REPOSITORY = PYTHON_DIR.parent
# The package's files from a CMake build folder, and where they go in the package.
NATIVE_FILES = {
    "lib/libanser.so.0": "lib/libanser.so",
    "share/anser/rwkv_vocab_v20230424.txt": "share/anser/rwkv_vocab_v20230424.txt",
}
VOCAB_LICENSE = REPOSITORY / "models" / "rwkv_vocab_v20230424.LICENSE"


def project_version() -> str:
    text = (REPOSITORY / "CMakeLists.txt").read_text()
    return re.search(r"project\(anser VERSION ([0-9.]+)", text).group(1)


def cmake_build_dir() -> Path:
    given = os.environ.get("ANSER_BUILD_DIR")
    if given:
        return REPOSITORY / given  # an absolute path stays as it is
    build = PYTHON_DIR / "build" / "native"
    configure = ["cmake", "-S", str(REPOSITORY), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                 "-DANSER_BUILD_TESTS=OFF", "-DANSER_BUILD_BENCH=OFF"]
    subprocess.run(configure, check=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "anser_shared", "anser_data", "-j2"], check=True)
    return build


class BuildPyWithNativeFiles(build_py):
    def run(self) -> None:
        super().run()
        build = cmake_build_dir()
        package = Path(self.build_lib) / "anser"
        for source, target in NATIVE_FILES.items():
            path = build / source
            if not path.is_file():
                raise SystemExit(f"{path} is missing: build the targets anser_shared and anser_data in {build}")
            (package / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, package / target)
        shutil.copyfile(VOCAB_LICENSE, package / "share" / "anser" / VOCAB_LICENSE.name)


class NativeDistribution(Distribution):
    """Carries a native library: the wheel is platform-specific (its files at the root, platlib)."""

    def has_ext_modules(self) -> bool:
        return True


class PlatformWheel(bdist_wheel):
    """One wheel for every Python 3 on this platform: the package loads its library with ctypes."""

    def get_tag(self) -> tuple:
        return ("py3", "none", super().get_tag()[2])


setup(version=project_version(), distclass=NativeDistribution,
      cmdclass={"build_py": BuildPyWithNativeFiles, "bdist_wheel": PlatformWheel})
