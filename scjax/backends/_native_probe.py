"""Whether a file is a native library this process can load, decided without loading it here.

`dlopen` of a truncated or corrupt shared object can kill the process that calls it: a
loadable segment that lies past the end of the file is mapped anyway and the first access
raises SIGBUS; a broken initialiser segfaults. No Python exception catches either. So
`scjax.backends.native` loads a library only after two checks:

1. In this process, a read of the ELF header and program headers (a few hundred bytes): an
   ELF shared object of this interpreter's class, byte order and machine, whose loadable
   segments and section headers all lie inside the file. This rejects garbage, truncation and
   a library built for another architecture without running anything.
2. One subprocess per folder (`python -I -S`) that dlopens every library that passed step 1
   and calls its `scjax_abi_version()`. A crash, a fatal runtime error or a hang there costs
   that subprocess only; the libraries it had not reached yet are probed again in a new one.

Results are cached per file identity (path, device, inode, size, mtime): each library is
probed once per process, and a rebuilt file is probed again.

Every problem is reported as a reason string `"<code>: <path>: <detail> (<fix>)"`; the codes
are `unreadable-shared-library`, `corrupt-shared-library`, `wrong-architecture`,
`missing-runtime`, `abi-mismatch`, `library-crashed`, `library-hung` and `probe-failed`.
"""

import ctypes
import json
import os
import pathlib
import platform
import signal
import stat
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Literal

#: Seconds one probe subprocess may take to load its libraries before the one it is loading
#: is reported as hung. Generous: a loaded CI machine can be slow, and it is paid once.
PROBE_TIMEOUT_S = 30.0
REBUILD = "rebuild: make native"

Status = Literal[True] | str

# ELF constants (System V gABI, "ELF header" and "Program header").
_ELF_MAGIC = b"\x7fELF"
_ET_DYN = 3
_PT_LOAD, _PT_DYNAMIC = 1, 2
#: e_machine codes of the architectures Python commonly runs on, by `platform.machine()`.
_HOST_MACHINES = {
    "x86_64": 62,
    "amd64": 62,
    "aarch64": 183,
    "arm64": 183,
    "ppc64le": 21,
    "ppc64": 21,
    "s390x": 22,
    "riscv64": 243,
    "i386": 3,
    "i686": 3,
    "armv7l": 40,
    "loongarch64": 258,
}
_MACHINE_NAMES = {
    3: "i386",
    8: "MIPS",
    20: "PowerPC",
    21: "PowerPC64",
    22: "s390",
    40: "ARM",
    62: "x86-64",
    183: "AArch64",
    243: "RISC-V",
    258: "LoongArch",
}


def _host_elf() -> tuple[int, int, int | None]:
    """(EI_CLASS, EI_DATA, e_machine or None when unknown) of this interpreter."""
    elf_class = 2 if ctypes.sizeof(ctypes.c_void_p) == 8 else 1
    elf_data = 1 if sys.byteorder == "little" else 2
    return elf_class, elf_data, _HOST_MACHINES.get(platform.machine().lower())


def elf_problem(path: pathlib.Path) -> str | None:
    """None when `path` looks like a loadable ELF shared object for this process, else the
    reason (with its code). Reads only the headers."""
    try:
        info = os.stat(path)
    except OSError as e:
        return f"unreadable-shared-library: {path}: {e.strerror} (fix the file or {REBUILD})"
    if not stat.S_ISREG(info.st_mode):
        # a folder, FIFO or device in the library's place: opening a FIFO would block forever
        return (
            f"unreadable-shared-library: {path}: not a regular file "
            f"(mode {stat.filemode(info.st_mode)}; remove it and {REBUILD})"
        )
    try:
        with open(path, "rb") as f:
            return _elf_header_problem(f, path, info.st_size)
    except OSError as e:
        return f"unreadable-shared-library: {path}: {e.strerror} (fix its permissions or {REBUILD})"


def _corrupt(path, detail: str) -> str:
    return f"corrupt-shared-library: {path}: {detail} ({REBUILD})"


def _elf_ident_problem(head: bytes, path: pathlib.Path, size: int) -> str | None:
    """The ELF identification (magic, word size, byte order) against this machine's."""
    if head[:4] != _ELF_MAGIC:
        return _corrupt(path, f"not an ELF file ({size} bytes, starting {head[:8]!r})")
    host_class, host_data, _ = _host_elf()
    if len(head) < 16 or head[4] not in (1, 2) or head[5] not in (1, 2):
        return _corrupt(path, f"invalid ELF identification {head[:16]!r}")
    bits = {1: 32, 2: 64}
    if head[4] != host_class:
        return (
            f"wrong-architecture: {path}: a {bits[head[4]]}-bit library, this Python is "
            f"{bits[host_class]}-bit (rebuild on this machine: make native)"
        )
    if head[5] != host_data:
        order = {1: "little", 2: "big"}
        return (
            f"wrong-architecture: {path}: a {order[head[5]]}-endian library, this machine "
            f"is {sys.byteorder}-endian (rebuild on this machine: make native)"
        )
    return None


def _elf_header_problem(f, path: pathlib.Path, size: int) -> str | None:
    head = f.read(64)
    problem = _elf_ident_problem(head, path, size)
    if problem is not None:
        return problem
    is64 = head[4] == 2
    end = "<" if head[5] == 1 else ">"
    header_size = 64 if is64 else 52
    if len(head) < header_size:
        return _corrupt(path, f"truncated: {size} bytes, shorter than the ELF header")
    fields = struct.unpack_from(end + ("HHIQQQIHHHHHH" if is64 else "HHIIIIIHHHHHH"), head, 16)
    e_type, e_machine = fields[0], fields[1]
    e_phoff, e_shoff = fields[4], fields[5]
    e_phentsize, e_phnum, e_shentsize, e_shnum = fields[8], fields[9], fields[10], fields[11]
    if e_type != _ET_DYN:
        return _corrupt(path, f"not a shared object (ELF type {e_type})")
    host_machine = _host_elf()[2]
    if host_machine is not None and e_machine != host_machine:
        built = _MACHINE_NAMES.get(e_machine, f"ELF machine {e_machine}")
        return (
            f"wrong-architecture: {path}: built for {built}, this machine is "
            f"{platform.machine()} (rebuild on this machine: make native)"
        )
    phdr_size = 56 if is64 else 32
    if e_phnum == 0 or e_phentsize < phdr_size:
        return _corrupt(path, "no program headers")
    phdrs_end = e_phoff + e_phnum * e_phentsize
    if phdrs_end > size:
        return _corrupt(
            path, f"truncated: program headers end at byte {phdrs_end}, the file has {size}"
        )
    f.seek(e_phoff)
    table = f.read(e_phnum * e_phentsize)
    segments = [
        _segment(table[k * e_phentsize : (k + 1) * e_phentsize], is64, end) for k in range(e_phnum)
    ]
    problem = _segments_problem(segments, size)
    if problem is not None:
        return _corrupt(path, problem)
    # not needed to load, but a file cut short loses them first (they are at its end)
    if e_shoff and e_shoff + e_shnum * e_shentsize > size:
        return _corrupt(
            path,
            f"truncated: section headers end at byte "
            f"{e_shoff + e_shnum * e_shentsize}, the file has {size}",
        )
    return None


def _segment(entry: bytes, is64: bool, end: str) -> tuple[int, int, int, int, int, int]:
    """(p_type, p_offset, p_vaddr, p_filesz, p_memsz, p_align) of one program header."""
    if is64:
        p_type, _flags, off, vaddr, _paddr, filesz, memsz, align = struct.unpack_from(
            end + "IIQQQQQQ", entry
        )
    else:
        p_type, off, vaddr, _paddr, filesz, memsz, _flags, align = struct.unpack_from(
            end + "IIIIIIII", entry
        )
    return p_type, off, vaddr, filesz, memsz, align


#: Segments the loader reads or mprotects at their addresses, so they must lie inside the
#: mapped image: PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_PHDR, PT_TLS, PT_GNU_EH_FRAME, PT_GNU_RELRO.
_MAPPED_TYPES = (2, 3, 4, 6, 7, 0x6474E550, 0x6474E552)
_PAGE = 4096


def _segments_problem(segments, size: int) -> str | None:
    """What is wrong with a shared object's program headers, or None.

    Beyond truncation this rejects headers whose effect depends on where the library lands:
    a PT_GNU_RELRO pointing outside the image, say, makes the loader mprotect whatever else is
    mapped there, so the file loads in one process and crashes another. Such a file would pass
    the subprocess probe by chance."""
    loads = [seg for seg in segments if seg[0] == _PT_LOAD]
    if not loads or not any(seg[0] == _PT_DYNAMIC for seg in segments):
        return "no loadable segment or no dynamic section"
    for p_type, off, _vaddr, filesz, _memsz, _align in segments:
        if p_type in (_PT_LOAD, *_MAPPED_TYPES) and off + filesz > size:
            # for a PT_LOAD this is what dlopen would map and SIGBUS on
            return f"truncated: a segment ends at byte {off + filesz}, the file has {size}"
    last_end = 0
    for _type, off, vaddr, filesz, memsz, align in loads:
        if filesz > memsz:
            return f"a loadable segment has {filesz} bytes in the file but {memsz} in memory"
        if align > 1 and (align & (align - 1) or (vaddr - off) % align):
            return f"a loadable segment at {vaddr:#x} is not aligned to its {align:#x}"
        if vaddr < last_end:
            return f"loadable segments out of order or overlapping at {vaddr:#x}"
        last_end = vaddr + memsz
    pages = [(v // _PAGE * _PAGE, -(-(v + m) // _PAGE) * _PAGE) for _, _, v, _, m, _ in loads]
    for p_type, _off, vaddr, _filesz, memsz, _align in segments:
        if p_type in _MAPPED_TYPES and memsz and not _covered(vaddr, vaddr + memsz, pages):
            return (
                f"segment type {p_type:#x} at {vaddr:#x}..{vaddr + memsz:#x} lies outside "
                "the loaded image"
            )
    return None


def _covered(lo: int, hi: int, intervals: list[tuple[int, int]]) -> bool:
    """Whether [lo, hi) lies inside the union of the sorted `intervals`."""
    for a, b in intervals:
        if a <= lo < b:
            lo = b
            if lo >= hi:
                return True
    return False


# --- the subprocess probe -------------------------------------------------------------------

_PROBE_SCRIPT = r"""
import ctypes, json, sys
symbols = sys.argv[1].split(",")
for i, path in enumerate(sys.argv[2:]):
    print("scjax-probe start", i, flush=True)
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        print("scjax-probe", json.dumps({"i": i, "dlopen_error": str(e)}), flush=True)
        continue
    missing = [s for s in symbols if not hasattr(lib, s)]
    if missing:
        print("scjax-probe", json.dumps({"i": i, "missing": missing}), flush=True)
        continue
    lib.scjax_abi_version.restype = ctypes.c_int32
    lib.scjax_abi_version.argtypes = []
    version = int(lib.scjax_abi_version())
    print("scjax-probe", json.dumps({"i": i, "abi_version": version}), flush=True)
"""


def _run_probe(
    paths: Sequence[pathlib.Path],
    symbols: Sequence[str],
    abi_version: int,
) -> dict[pathlib.Path, Status]:
    """Probe `paths` in order in one subprocess; on a crash or hang, go on in a new one."""
    out: dict[pathlib.Path, Status] = {}
    todo = list(paths)
    while todo:
        cmd = [sys.executable, "-I", "-S", "-c", _PROBE_SCRIPT, ",".join(symbols), *map(str, todo)]
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
        except OSError as e:
            for path in todo:
                out[path] = (
                    f"probe-failed: {path}: could not start a probe process "
                    f"{sys.executable!r} ({e}) (check the Python installation)"
                )
            return out
        hung = False
        try:
            stdout, stderr = proc.communicate(timeout=PROBE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            hung = True
            proc.kill()
            stdout, stderr = proc.communicate()
        started, any_started = _read_probe_output(stdout, todo, abi_version, out)
        if not hung and proc.returncode == 0:
            return out
        if started is None:
            # it died outside any library's load (Python itself failed, or between two)
            for path in todo:
                if path not in out:
                    when = "before loading anything" if not any_started else "between two loads"
                    out[path] = (
                        f"probe-failed: {path}: the probe process ended with "
                        f"{_how(proc.returncode, hung)} {when}{_said(stderr)} "
                        "(check the Python installation)"
                    )
            return out
        culprit = todo[started]
        out[culprit] = _failure(culprit, proc.returncode, hung, stderr)
        todo = todo[started + 1 :]
    return out


def _read_probe_output(
    stdout: str, todo: list[pathlib.Path], abi_version: int, out: dict[pathlib.Path, Status]
) -> tuple[int | None, bool]:
    """Record in `out` the status of each library the probe finished; returns (the index of
    the library it was loading when it stopped, or None; whether it started any)."""
    started, any_started = None, False
    # the tag keeps apart anything a library itself prints while it loads
    for line in stdout.splitlines():
        if line.startswith("scjax-probe start "):
            started, any_started = int(line.split()[2]), True
        elif line.startswith("scjax-probe {"):
            result = json.loads(line.removeprefix("scjax-probe "))
            out[todo[result["i"]]] = _interpret(todo[result["i"]], result, abi_version)
            started = None
    return started, any_started


def _interpret(path: pathlib.Path, result: dict, abi_version: int) -> Status:
    if "dlopen_error" in result:
        message = result["dlopen_error"]
        if any(
            s in message
            for s in ("cannot open shared object file", "undefined symbol", "version `")
        ):
            # the file is sound; a library it needs is not there (e.g. the Mojo runtime)
            return f"missing-runtime: {path}: {message} ({REBUILD})"
        return _corrupt(path, f"dlopen refused it: {message}")
    if "missing" in result:
        return (
            f"abi-mismatch: {path}: lacks {', '.join(result['missing'])} of ABI "
            f"{abi_version} ({REBUILD})"
        )
    if result["abi_version"] != abi_version:
        return (
            f"abi-mismatch: {path}: library has ABI {result['abi_version']}, loader "
            f"expects {abi_version} ({REBUILD})"
        )
    return True


def _how(returncode: int, hung: bool) -> str:
    if hung:
        return f"no result within {PROBE_TIMEOUT_S:g} s"
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


def _said(stderr: str) -> str:
    last = [ln for ln in stderr.strip().splitlines() if ln.strip()][-1:]
    return f"; it said: {last[0][:200]}" if last else ""


def _failure(path: pathlib.Path, returncode: int, hung: bool, stderr: str) -> str:
    if hung:
        return (
            f"library-hung: {path}: loading it did not finish within "
            f"{PROBE_TIMEOUT_S:g} s in a probe process ({REBUILD})"
        )
    return (
        f"library-crashed: {path}: loading it and calling scjax_abi_version() ended a "
        f"probe process with {_how(returncode, hung)}{_said(stderr)} ({REBUILD})"
    )


# --- cache ----------------------------------------------------------------------------------

_CACHE: dict[tuple, Status] = {}
_CACHE_LOCK = threading.Lock()


def _identity(path: pathlib.Path) -> tuple | None:
    try:
        s = os.stat(path)
    except OSError:
        return None
    return (str(path), s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns)


def statuses(
    paths: Sequence[pathlib.Path],
    symbols: Sequence[str],
    abi_version: int,
) -> dict[pathlib.Path, Status | None]:
    """For each path: True (safe to dlopen here), the reason it is not, or None when there is
    no file. Runs at most one probe subprocess for all the uncached files together."""
    with _CACHE_LOCK:
        out: dict[pathlib.Path, Status | None] = {}
        to_probe: dict[pathlib.Path, tuple] = {}
        for path in paths:
            key = _identity(path)
            if key is None:
                out[path] = None
            elif key in _CACHE:
                out[path] = _CACHE[key]
            else:
                problem = elf_problem(path)
                if problem is None:
                    to_probe[path] = key
                else:
                    out[path] = _CACHE[key] = problem
        if to_probe:
            for path, status in _run_probe(list(to_probe), symbols, abi_version).items():
                out[path] = _CACHE[to_probe[path]] = status
        return out
