"""Slim Chalice's deployment zip so it fits Lambda's 250 MB unzipped limit with room to spare.

Why a separate pass: Chalice zips whatever pip installed, including debug symbols in compiled
libraries (onnxruntime, numpy's OpenBLAS), test suites, Cython sources and
packages that only matter at build time. Rewriting the zip entry by entry keeps this fast and
makes the output reproducible (sorted entries, fixed timestamps), so CloudFormation sees a code
change only when the code changed.

Usage: slim_package.py IN_ZIP OUT_ZIP --report REPORT_JSON [--source-root DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import PurePosixPath

# Top-level names that are never imported at run time in Lambda.
#  - setuptools / pkg_resources / _distutils_hack / pip / wheel: installers.
#  - torch / transformers / safetensors / onnx: training and export only (training/train.py).
#  - huggingface_hub / hf_xet: pulled in by `tokenizers` for Hub downloads; the model is loaded
#    from nlp/artifacts/tokenizer.json, and no hub is reachable from Lambda anyway.
DROP_TOP_LEVEL = {
    "setuptools",
    "pkg_resources",
    "_distutils_hack",
    "distutils-precedence.pth",
    "pip",
    "wheel",
    "torch",
    "torchgen",
    "functorch",
    "transformers",
    "safetensors",
    "onnx",
    "huggingface_hub",
    "hf_xet",
    # protobuf: only onnxruntime's conversion tools (dropped below), GCS clients and Powertools'
    # Kafka deserializer import it; none runs here.
    "google",
}
# Distribution names (dist-info prefix, normalised) of the dropped packages.
DROP_DIST_PREFIXES = tuple(
    name.replace("-", "_").lower() + "-"
    for name in (
        "setuptools", "pip", "wheel", "torch", "transformers", "safetensors", "onnx",
        "huggingface_hub", "hf_xet", "protobuf",
    )
)

# Directory names dropped wherever they appear inside a package.
DROP_DIR_NAMES = {"__pycache__", "tests", "testing_data", "benchmarks"}

# File suffixes not needed at run time: bytecode (Lambda compiles on import; stale .pyc of
# another interpreter only waste space), type stubs, Cython and C/C++ sources and headers.
DROP_SUFFIXES = (
    ".pyc", ".pyo", ".pyi", ".pyx", ".pxd", ".pxi", ".c", ".cc", ".cpp", ".cxx", ".h", ".hh",
    ".hpp", ".md", ".rst",
)

# Specific paths (prefix match) dropped from otherwise needed packages.
DROP_PREFIXES = (
    # onnxruntime's model-conversion / optimisation tool kits (need onnx, torch, transformers)
    # and its C API library: the Python binding (onnxruntime_pybind11_state) links the whole
    # runtime statically and never loads libonnxruntime.so (checked with `readelf -d`).
    "onnxruntime/transformers/",
    "onnxruntime/quantization/",
    "onnxruntime/tools/",
    "onnxruntime/capi/libonnxruntime.so",
    # numpy's f2py / distutils build helpers, its typing test data and the SIMD test module
    # (numpy._core._simd is imported only by numpy's own tests).
    "numpy/f2py/",
    "numpy/_pyinstaller/",
    "numpy/typing/tests/",
    "numpy/_core/_simd.",
    # Powertools' bundled Swagger UI assets (served only with enable_swagger, which we never use).
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui",
)


# botocore ships the API models of ~440 services (28 MB); the functions call only these. The
# package test `test_every_boto3_service_used_in_source_is_packaged` fails when the source starts
# using a service missing here, so this list cannot silently fall behind the code.
BOTOCORE_DATA = "botocore/data/"
BOTOCORE_SERVICES = {
    # the application
    "dynamodb", "s3", "sqs", "sns", "ses", "sesv2", "secretsmanager", "ssm", "comprehend",
    "cloudwatch", "logs", "kms",
    # Powertools parameters / feature flags, and the credential providers botocore may load
    "appconfig", "appconfigdata", "sts", "sso", "sso-oidc",
}


def drop_reason(name: str) -> str | None:
    """Why the zip entry `name` is dropped, or None to keep it."""
    path = PurePosixPath(name)
    parts = path.parts
    if not parts:
        return None
    top = parts[0]
    if top in DROP_TOP_LEVEL:
        return f"build-only package {top}"
    if top.endswith(".dist-info") and top.lower().startswith(DROP_DIST_PREFIXES):
        return f"metadata of dropped package {top}"
    # Our own code (chatbot/, intents/, nlp/, chalicelib/) keeps everything except caches.
    for part in parts[:-1]:
        if part in DROP_DIR_NAMES and not (part == "tests" and top in OWN_PACKAGES):
            return f"{part}/ directory"
    if name.endswith(DROP_SUFFIXES) and top not in OWN_PACKAGES:
        return f"{path.suffix} file"
    if name.endswith((".pyc", ".pyo")):
        return "bytecode"
    if top.endswith(".dist-info") and len(parts) > 2 and parts[1] in ("sboms", "licenses_sbom"):
        return "software bill of materials of a wheel"
    for prefix in DROP_PREFIXES:
        if name.startswith(prefix):
            return f"unused part {prefix}"
    if name.startswith(BOTOCORE_DATA) and len(parts) > 3 and parts[2] not in BOTOCORE_SERVICES:
        return "botocore model of a service the functions do not call"
    return None


OWN_PACKAGES = {"app.py", "chalicelib", "chatbot", "intents", "nlp"}


def is_elf(data_head: bytes) -> bool:
    return data_head[:4] == b"\x7fELF"


def strip_library(data: bytes, strip_bin: str, tmpdir: str) -> bytes:
    """Strip symbols not needed for relocation; keep the original if strip fails."""
    src = os.path.join(tmpdir, "in.so")
    dst = os.path.join(tmpdir, "out.so")
    with open(src, "wb") as fh:
        fh.write(data)
    proc = subprocess.run(
        [strip_bin, "--strip-unneeded", "-o", dst, src], capture_output=True, text=True
    )
    if proc.returncode != 0 or not os.path.exists(dst):
        return data
    with open(dst, "rb") as fh:
        stripped = fh.read()
    os.unlink(dst)
    return stripped if len(stripped) < len(data) else data


def top_level_name(name: str) -> str:
    return name.split("/", 1)[0]


def slim(in_zip: str, out_zip: str) -> dict:
    strip_bin = shutil.which("strip")
    if strip_bin is None:
        sys.exit("slim_package: `strip` (binutils) is required; apt-get install binutils")
    sizes_before: Counter[str] = Counter()
    sizes_after: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    stripped_saving = 0
    files = 0
    tmp_out = out_zip + ".tmp"
    with tempfile.TemporaryDirectory() as tmpdir, zipfile.ZipFile(in_zip) as src, \
            zipfile.ZipFile(tmp_out, "w", compression=zipfile.ZIP_DEFLATED,
                            compresslevel=6) as dst:
        infos = sorted((i for i in src.infolist() if not i.is_dir()), key=lambda i: i.filename)
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if name in seen:
                continue
            seen.add(name)
            sizes_before[top_level_name(name)] += info.file_size
            reason = drop_reason(name)
            if reason is not None:
                dropped[reason] += info.file_size
                continue
            data = src.read(info)
            if is_elf(data) and (".so" in PurePosixPath(name).name):
                new = strip_library(data, strip_bin, tmpdir)
                stripped_saving += len(data) - len(new)
                data = new
            out_info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            mode = (info.external_attr >> 16) & 0o777 or 0o644
            out_info.external_attr = ((0o100000 | mode | 0o444) & 0xFFFF) << 16
            out_info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(out_info, data)
            sizes_after[top_level_name(name)] += len(data)
            files += 1
    os.replace(tmp_out, out_zip)
    largest = [
        {"name": name, "bytes": size} for name, size in sizes_after.most_common(10)
    ]
    return {
        "unzipped_bytes": sum(sizes_after.values()),
        "unzipped_bytes_before_slimming": sum(sizes_before.values()),
        "zipped_bytes": os.path.getsize(out_zip),
        "files": files,
        "stripped_bytes_saved": stripped_saving,
        "dropped_bytes_by_reason": dict(dropped.most_common()),
        "largest_packages": largest,
    }


def verify_contents(zip_path: str, source_root: str) -> list[str]:
    """What the package must contain but does not: app.py, chalicelib/, every vendor/ link's
    package (chatbot/, intents/, nlp/) and every file of nlp/artifacts/ at its source size."""
    with zipfile.ZipFile(zip_path) as zf:
        sizes = {i.filename: i.file_size for i in zf.infolist() if not i.is_dir()}
    missing: list[str] = []
    required = ["app.py", "chalicelib/__init__.py"]
    vendor = os.path.join(source_root, "vendor")
    if os.path.isdir(vendor):
        for name in sorted(os.listdir(vendor)):
            if os.path.isdir(os.path.join(vendor, name)):
                required.append(f"{name}/__init__.py")
    missing += [name for name in required if name not in sizes]
    artifacts = os.path.join(source_root, "nlp", "artifacts")
    for dirpath, dirnames, filenames in os.walk(artifacts):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
        for filename in filenames:
            if filename.startswith("."):
                continue
            full = os.path.join(dirpath, filename)
            rel = os.path.relpath(full, source_root).replace(os.sep, "/")
            if sizes.get(rel) != os.path.getsize(full):
                missing.append(rel)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("in_zip")
    parser.add_argument("out_zip")
    parser.add_argument("--report", required=True, help="JSON file to update with sizes")
    parser.add_argument("--source-root", help="check the zip holds the project's packages and artifacts")
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = slim(args.in_zip, args.out_zip)
    result["slim_seconds"] = round(time.monotonic() - started, 2)
    if args.source_root:
        missing = verify_contents(args.out_zip, args.source_root)
        if missing:
            print("slim_package: ERROR: the package lacks " + ", ".join(missing[:20]), file=sys.stderr)
            return 1
        with zipfile.ZipFile(args.out_zip) as zf:
            result["artifact_files"] = sorted(
                i.filename for i in zf.infolist() if i.filename.startswith("nlp/artifacts/"))
    report = {}
    if os.path.exists(args.report):
        with open(args.report) as fh:
            report = json.load(fh)
    report.update(result)
    with open(args.report, "w") as fh:
        json.dump(report, fh, indent=2, sort_keys=True)
        fh.write("\n")
    print(
        f"slimmed: {result['unzipped_bytes_before_slimming'] / 1e6:.1f} MB -> "
        f"{result['unzipped_bytes'] / 1e6:.1f} MB unzipped, "
        f"{result['zipped_bytes'] / 1e6:.1f} MB zipped"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
