"""Build hook: the native parity libraries go into the wheel when their toolchains exist.

All metadata is in pyproject.toml; this file only customises two setuptools commands.

- `build_py` runs `native/build.sh` (what `make native` runs) before copying the package, so
  `pip install .` and `pip wheel .` ship `scjax/_native/libscjax_{rust,go,mojo}.so` for every
  toolchain found (cargo; go + a C compiler; mojo). A missing toolchain, a failed compile, or
  an sdist without `native/` never fails the build: the reason is printed (`pip -v` shows it)
  and the wheel carries the libraries that exist, and `scjax.backends.native.available()`
  names the missing ones. `SCJAX_SKIP_NATIVE_BUILD=1` skips the hook (libraries already in
  `scjax/_native/` still ship). An editable install skips it too: `make native` fills the
  source folder, which is where an editable install looks.
- `bdist_wheel` tags the wheel `py3-none-<platform>` when it carries a shared library (they
  are machine code for one platform, called through ctypes, so no CPython ABI is involved),
  and `py3-none-any` when it carries none.

Why a hook rather than "run `make native` first": a plain `pip install .` (or an sdist built
elsewhere) would otherwise install a package whose native backends are all missing, with a
hint to run a Makefile the installed package no longer has.
"""

import os
import pathlib
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
from setuptools.command.build_py import build_py as _build_py

ROOT = pathlib.Path(__file__).resolve().parent
BUILD_SCRIPT = ROOT / "native" / "build.sh"
SKIP_VARIABLE = "SCJAX_SKIP_NATIVE_BUILD"


def _say(message: str) -> None:
    print(f"scjax build: {message}", file=sys.stderr, flush=True)


def build_native() -> None:
    """Run native/build.sh; report, never raise, when it cannot run or fails."""
    if os.environ.get(SKIP_VARIABLE):
        _say(f"native libraries not built: {SKIP_VARIABLE} is set")
        return
    if not BUILD_SCRIPT.is_file():
        _say(f"native libraries not built: {BUILD_SCRIPT} is absent (an sdist without native/)")
        return
    bash = shutil.which("bash")
    if bash is None:
        _say("native libraries not built: bash not found on PATH")
        return
    env = dict(os.environ)
    # A build backend must not download: build.sh would otherwise pip-install the Mojo
    # compiler. A mojo already installed next to the building interpreter is found.
    env["SCJAX_NO_MOJO_INSTALL"] = "1"
    env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")])
    try:
        done = subprocess.run(
            [bash, str(BUILD_SCRIPT)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as err:
        _say(f"native libraries not built: cannot run {BUILD_SCRIPT}: {err}")
        return
    for line in (done.stdout + done.stderr).splitlines():
        _say(line)
    if done.returncode != 0:
        _say(
            f"native/build.sh exited {done.returncode}; the wheel carries only the libraries "
            "that built (see above)"
        )


def shipped_libraries(build_lib: str) -> list[pathlib.Path]:
    return sorted((pathlib.Path(build_lib) / "scjax" / "_native").glob("*.so"))


class build_py(_build_py):
    def run(self) -> None:
        if not self.editable_mode:
            build_native()
            # In-tree builds reuse build/lib: a module deleted or moved in the source tree
            # would otherwise still ship in the wheel.
            shutil.rmtree(pathlib.Path(self.build_lib) / "scjax", ignore_errors=True)
            # the package-data globs were evaluated before build.sh copied the libraries
            self.__dict__.pop("data_files", None)
        super().run()


class bdist_wheel(_bdist_wheel):
    def run(self) -> None:
        if not self.skip_build:
            self.run_command("build")
        if shipped_libraries(self.get_finalized_command("build_py").build_lib):
            # machine code: the install step puts the package in platlib (not purelib) when
            # the distribution reports extension modules, and the tag names the platform
            self.distribution.has_ext_modules = lambda: True
            self.root_is_pure = False
        super().run()  # "build" has run: run_command does not repeat it

    def get_tag(self) -> tuple[str, str, str]:
        impl, abi, plat = super().get_tag()
        if self.root_is_pure:
            return impl, abi, plat
        return "py3", "none", plat


setup(cmdclass={"build_py": build_py, "bdist_wheel": bdist_wheel})
