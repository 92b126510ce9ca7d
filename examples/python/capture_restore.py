#!/usr/bin/env python3
"""capture_restore.py: migstore's C API from Python, through ctypes alone.

    capture_restore.py [--library PATH] WORKDIR

Makes a small machine root under WORKDIR/old, captures it into an encrypted
store (a password handed over in a buffer the library zeroes) with a progress
callback, restores it into WORKDIR/new with a cancellation flag armed, and
checks the files came back. Exits 0 when they did, else with the failing
call's code (the migstore command's exit codes).

The library is --library, else $MIGSTORE_LIBRARY, else libmigstore found by
ctypes.util.find_library. The structs below mirror migstore/migstore.h field
for field; a new header only appends fields, so they stay valid.
"""

import argparse
import ctypes
import ctypes.util
import os
import sys

c_size = ctypes.c_size_t
c_u64 = ctypes.c_uint64
c_str = ctypes.c_char_p
c_strs = ctypes.POINTER(ctypes.c_char_p)


class Progress(ctypes.Structure):
    _fields_ = [("struct_size", c_size), ("phase", c_str),
                ("files_done", c_u64), ("files_total", c_u64),
                ("bytes_done", c_u64), ("bytes_total", c_u64),
                ("seconds", ctypes.c_double)]


PROGRESS_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(Progress))
FILE_ERROR_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, c_str, ctypes.c_int,
                                 c_str)

CALLBACKS = [("on_progress", PROGRESS_FN), ("on_file_error", FILE_ERROR_FN),
             ("user_data", ctypes.c_void_p), ("cancel", ctypes.c_void_p)]


class CaptureOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size), ("root", c_str),
                ("store_path", c_str), ("key", ctypes.c_void_p),
                ("no_encrypt", ctypes.c_int), ("overwrite", ctypes.c_int),
                ("continue_on_error", ctypes.c_int),
                ("cross_mounts", ctypes.c_int), ("threads", ctypes.c_int),
                ("level", ctypes.c_int), ("layout", c_str),
                ("rules_files", c_strs), ("rules_files_count", c_size),
                ("config_file", c_str),
                ("users_include", c_strs), ("users_include_count", c_size),
                ("users_exclude", c_strs), ("users_exclude_count", c_size),
                ("kdf_opslimit", c_u64), ("kdf_memlimit", c_u64)] + CALLBACKS


class CaptureResult(ctypes.Structure):
    _fields_ = [("struct_size", c_size), ("files", c_u64),
                ("directories", c_u64), ("symlinks", c_u64), ("bytes", c_u64),
                ("duplicate_files", c_u64), ("stored_bytes", c_u64),
                ("store_size", c_u64), ("files_skipped", c_u64),
                ("users_selected", c_u64), ("seconds", ctypes.c_double)]


class RestoreOptions(ctypes.Structure):
    _fields_ = [("struct_size", c_size), ("store_path", c_str),
                ("key", ctypes.c_void_p), ("target", c_str),
                ("map_users", c_strs), ("map_users_count", c_size),
                ("users_include", c_strs), ("users_include_count", c_size),
                ("users_exclude", c_strs), ("users_exclude_count", c_size),
                ("on_conflict", ctypes.c_int),
                ("rules_files", c_strs), ("rules_files_count", c_size),
                ("dry_run", ctypes.c_int), ("continue_on_error", ctypes.c_int),
                ("threads", ctypes.c_int)] + CALLBACKS


class RestoreResult(ctypes.Structure):
    _fields_ = [("struct_size", c_size), ("files", c_u64),
                ("directories", c_u64), ("symlinks", c_u64),
                ("hardlinks", c_u64), ("bytes", c_u64), ("renamed", c_u64),
                ("overwritten", c_u64), ("skipped", c_u64),
                ("identical", c_u64), ("files_failed", c_u64),
                ("seconds", ctypes.c_double)]


FILES = {
    "home/alice/Documents/report.txt": b"quarterly numbers\n",
    "home/alice/Documents/notes/todo.txt": b"migrate alice\n",
    "home/alice/.bashrc": b"export EDITOR=vi\n",
}


def load(path):
    path = path or os.environ.get("MIGSTORE_LIBRARY") or \
        ctypes.util.find_library("migstore")
    if not path:
        sys.exit("libmigstore not found: give --library")
    lib = ctypes.CDLL(path)
    lib.migstore_version.restype = c_str
    lib.migstore_code_name.restype = c_str
    lib.migstore_code_name.argtypes = [ctypes.c_int]
    lib.migstore_free.argtypes = [ctypes.c_void_p]
    lib.migstore_cancel_create.restype = ctypes.c_void_p
    lib.migstore_cancel_destroy.argtypes = [ctypes.c_void_p]
    lib.migstore_key_from_password.argtypes = [
        ctypes.c_void_p, c_size, ctypes.POINTER(ctypes.c_void_p),
        ctypes.POINTER(ctypes.c_void_p)]
    lib.migstore_key_destroy.argtypes = [ctypes.c_void_p]
    lib.migstore_capture.argtypes = [
        ctypes.POINTER(CaptureOptions), ctypes.POINTER(CaptureResult),
        ctypes.POINTER(ctypes.c_void_p)]
    lib.migstore_restore.argtypes = [
        ctypes.POINTER(RestoreOptions), ctypes.POINTER(RestoreResult),
        ctypes.POINTER(ctypes.c_void_p)]
    return lib


def check(lib, call, code, errmsg):
    """Raises SystemExit(code) with the library's message unless code is 0."""
    if code == 0:
        return
    text = ctypes.string_at(errmsg.value).decode() if errmsg.value else ""
    lib.migstore_free(errmsg)
    print(f"{call}: {code} ({lib.migstore_code_name(code).decode()}): {text}",
          file=sys.stderr)
    sys.exit(code)


def make_root(root):
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    with open(os.path.join(root, "etc/passwd"), "w") as f:
        f.write("alice:x:1000:1000::/home/alice:/bin/sh\n")
    for rel, data in FILES.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library")
    parser.add_argument("workdir")
    args = parser.parse_args()
    lib = load(args.library)
    print("migstore", lib.migstore_version().decode(), "through ctypes")

    old_root = os.path.join(args.workdir, "old")
    new_root = os.path.join(args.workdir, "new")
    store = os.path.join(args.workdir, "pc42.mig")
    make_root(old_root)

    # The password goes in a mutable buffer: the library copies it into
    # locked memory and zeroes this one before it returns.
    password = ctypes.create_string_buffer(b"correct horse battery staple")
    size = len(password.value)
    key = ctypes.c_void_p()
    errmsg = ctypes.c_void_p()
    check(lib, "migstore_key_from_password",
          lib.migstore_key_from_password(password, size, ctypes.byref(key),
                                         ctypes.byref(errmsg)), errmsg)
    assert password.raw[:size] == bytes(size), "the password was not zeroed"

    phases = []

    @PROGRESS_FN
    def on_progress(_user_data, progress):
        p = progress.contents
        phase = p.phase.decode()
        if not phases or phases[-1] != phase:
            phases.append(phase)
            print(f"  {phase:<12} {p.files_done}/{p.files_total} files")

    @FILE_ERROR_FN
    def on_file_error(_user_data, path, code, message):
        print(f"  file error ({code}) {path!r}: {message.decode()}",
              file=sys.stderr)

    co = CaptureOptions(struct_size=ctypes.sizeof(CaptureOptions),
                        root=old_root.encode(), store_path=store.encode(),
                        key=key, overwrite=1, kdf_opslimit=1,
                        kdf_memlimit=8192, on_progress=on_progress,
                        on_file_error=on_file_error)
    cr = CaptureResult(struct_size=ctypes.sizeof(CaptureResult))
    print("capture:")
    check(lib, "migstore_capture",
          lib.migstore_capture(ctypes.byref(co), ctypes.byref(cr),
                               ctypes.byref(errmsg)), errmsg)
    print(f"captured {cr.files} files, store {cr.store_size} bytes")

    cancel = lib.migstore_cancel_create()  # armed, never raised here
    ro = RestoreOptions(struct_size=ctypes.sizeof(RestoreOptions),
                        store_path=store.encode(), key=key,
                        target=new_root.encode(), on_progress=on_progress,
                        on_file_error=on_file_error, cancel=cancel)
    rr = RestoreResult(struct_size=ctypes.sizeof(RestoreResult))
    print("restore:")
    code = lib.migstore_restore(ctypes.byref(ro), ctypes.byref(rr),
                                ctypes.byref(errmsg))
    lib.migstore_cancel_destroy(cancel)
    lib.migstore_key_destroy(key)
    check(lib, "migstore_restore", code, errmsg)
    print(f"restored {rr.files} files")

    bad = []
    if cr.files != len(FILES) or rr.files != len(FILES):
        bad.append(f"expected {len(FILES)} files, captured {cr.files}, "
                   f"restored {rr.files}")
    for rel, data in FILES.items():
        with open(os.path.join(new_root, rel), "rb") as f:
            if f.read() != data:
                bad.append(rel + " did not come back intact")
    if "Done" not in phases:
        bad.append("no progress reached Done")
    if bad:
        print("\n".join(bad), file=sys.stderr)
        return 72
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
