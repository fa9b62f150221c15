"""The deployment zip: complete, slim, within Lambda's size limit, and reported truthfully."""
from __future__ import annotations

import re
import struct
import zipfile

from tests_package.conftest import ROOT

# The issue-14 target (MB as build/package-report.json prints them); Lambda allows 250 MiB unzipped.
MAX_UNZIPPED_BYTES = 150 * 1000 * 1000
BUILD_ONLY = ("torch/", "transformers/", "setuptools/", "pip/", "huggingface_hub/", "hf_xet/")
SOURCE_DIRS = ("app.py", "chalicelib", "chatbot", "intents", "nlp")


def test_unzipped_package_is_at_most_150_mb(zip_sizes, report):
    """Given build/deployment.zip, when summing its files' sizes, then the total is at most 150 MB
    and equals what build/package-report.json claims."""
    total = sum(zip_sizes.values())
    assert total <= MAX_UNZIPPED_BYTES, f"{total / 1e6:.1f} MB unzipped"
    assert report["unzipped_bytes"] == total


def test_report_records_sizes_timing_python_and_largest_packages(report, deployment_zip):
    """Given build/package-report.json, when reading it, then it holds the zipped size of the zip
    on disk, the build time, Python 3.12 and the ten largest top-level packages, largest first."""
    assert report["zipped_bytes"] == deployment_zip.stat().st_size
    assert report["seconds"] > 0
    assert report["python_version"].startswith("3.12.")
    largest = report["largest_packages"]
    assert len(largest) == 10
    sizes = [p["bytes"] for p in largest]
    assert sizes == sorted(sizes, reverse=True)
    assert {"name", "bytes"} <= set(largest[0])


def test_package_holds_the_app_and_the_vendored_packages(zip_sizes, deployment_zip):
    """Given the zip, when listing it, then app.py, chalicelib/ and the packages vendor/ links to
    (chatbot/, intents/, nlp/) sit at its root, with every .py file the source tree had when the
    package was built."""
    built_at = deployment_zip.stat().st_mtime
    for name in ("app.py", "chalicelib/__init__.py", "chatbot/__init__.py", "intents/__init__.py",
                 "nlp/__init__.py"):
        assert name in zip_sizes, name
    for top in SOURCE_DIRS[1:]:
        for path in (ROOT / top).rglob("*.py"):
            if "__pycache__" in path.parts or path.stat().st_mtime > built_at:
                continue
            rel = path.relative_to(ROOT).as_posix()
            assert rel in zip_sizes, f"{rel} is not in the package"


def test_package_holds_every_model_artifact(zip_sizes, deployment_zip):
    """Given nlp/artifacts/ in the source tree, when listing the zip, then every artifact file is
    in it with the same size (the classifier loads from the package, nothing is fetched)."""
    built_at = deployment_zip.stat().st_mtime
    artifacts = [p for p in (ROOT / "nlp" / "artifacts").rglob("*")
                 if p.is_file() and not p.name.startswith(".") and p.stat().st_mtime < built_at]
    for path in artifacts:
        rel = path.relative_to(ROOT).as_posix()
        assert zip_sizes.get(rel) == path.stat().st_size, rel
    if (ROOT / "nlp" / "artifacts" / "model.int8.onnx").exists():
        assert "nlp/artifacts/tokenizer.json" in zip_sizes


def test_package_has_no_build_only_packages_tests_or_bytecode(zip_sizes):
    """Given the zip, when listing it, then no build-only package (torch, transformers, pip,
    setuptools, the Hugging Face hub client), no third-party tests/, no bytecode and no spaCy stack
    is in it, and the rule pipeline's data files are."""
    names = list(zip_sizes)
    assert not [n for n in names if n.startswith(BUILD_ONLY)]
    assert not [n for n in names if "/__pycache__/" in n or n.endswith((".pyc", ".pyi"))]
    assert not [n for n in names if "/tests/" in n and not n.startswith(SOURCE_DIRS)]
    # spaCy left the served path (issue 14): the rule pipeline needs only its own data files.
    assert not [n for n in names if n.split("/")[0] in ("spacy", "thinc", "blis", "typer", "rich", "pygments")]
    assert {"nlp/tokenizer_rules.json", "nlp/pipeline.cfg"} <= set(names)


def _elf_section_names(data: bytes) -> set[str]:
    """Section names of a 64-bit little-endian ELF file (enough to see whether it was stripped)."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return set()
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    if not shoff or not shnum:
        return set()
    def header(i):
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    strtab = header(shstrndx)
    str_off, str_size = strtab[4], strtab[5]
    names = set()
    for i in range(shnum):
        name_off = header(i)[0]
        end = data.index(b"\0", str_off + name_off, str_off + str_size)
        names.add(data[str_off + name_off:end].decode("ascii", "replace"))
    return names


def test_compiled_libraries_are_stripped(deployment_zip):
    """Given the zip, when reading the section tables of its shared libraries, then none carries a
    symbol table or DWARF debug info (spaCy alone shrinks from ~126 MB to ~13 MB this way)."""
    offenders = []
    with zipfile.ZipFile(deployment_zip) as zf:
        for info in zf.infolist():
            if ".so" not in info.filename.rsplit("/", 1)[-1]:
                continue
            sections = _elf_section_names(zf.read(info))
            if ".symtab" in sections or any(s.startswith(".debug_") for s in sections):
                offenders.append(info.filename)
    assert offenders == []


CLIENT_RE = re.compile(r"""\b(?:boto3|session)\.(?:client|resource)\(\s*["']([a-z0-9-]+)["']""")


def test_every_boto3_service_used_in_source_is_packaged(zip_sizes):
    """Given the source tree's boto3.client("...") calls, when looking in the zip's botocore data
    (trimmed to the services the functions call), then every service used is there."""
    used = set()
    for top in SOURCE_DIRS:
        paths = [ROOT / top] if top.endswith(".py") else (ROOT / top).rglob("*.py")
        for path in paths:
            used |= set(CLIENT_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    assert "dynamodb" in used  # the scan itself works
    packaged = {n.split("/")[2] for n in zip_sizes if n.startswith("botocore/data/") and n.count("/") >= 3}
    assert used <= packaged, f"add to BOTOCORE_SERVICES in scripts/slim_package.py: {sorted(used - packaged)}"
