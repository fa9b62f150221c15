"""One benchmark report: flat numeric keys in bench/results.json, the detail beside it, REPORT.md with plots.

Every benchmark module returns its own (possibly nested) dict; `python -m bench` keeps those in
bench/details.json and derives here the flat keys a reader compares across runs (numbers only,
units in the names). Each ratio is computed from two sides measured in the same run.
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# flat key -> (benchmark module, path inside its result)
KEYMAP: dict[str, tuple[str, tuple]] = {
    "lex_turn_p99_ms": ("bench_lex_hook", ("warm_turn_p99_ms",)),
    "lex_turn_p50_ms": ("bench_lex_hook", ("warm_turn_p50_ms",)),
    "lex_import_s": ("bench_lex_hook", ("cold_import_s",)),
    "lex_cold_first_turn_s": ("bench_lex_hook", ("cold_process_first_turn_s",)),
    "triage_chat_ms": ("bench_triage", ("chat_ms_p50",)),
    "triage_chat_p99_ms": ("bench_triage", ("chat_ms_p99",)),
    "triage_emails_per_s": ("bench_triage", ("emails_per_s",)),
    "triage_rss_mb": ("bench_triage", ("rss_mb_with_model",)),
    "intent_accuracy_dev": ("bench_classifier", ("served_int8_plus_tfidf", "accuracy")),
    "category_accuracy_dev": ("bench_triage", ("dev_category_accuracy",)),
    "onnx_vs_torch_speedup": ("bench_classifier", ("onnx_int8_speedup_vs_torch",)),
    "comprehend_usd_per_1000_emails": ("bench_triage", ("cost", "emails", "usd_per_1000")),
    "package_unzipped_mb": ("bench_package", ("package_unzipped_mb",)),
    "package_zipped_mb": ("bench_package", ("package_zipped_mb",)),
    "cold_first_triaged_message_s": ("bench_cold_triage", ("cold_first_triaged_message_s",)),
    "cold_triage_rss_mb": ("bench_cold_triage", ("triage_rss_mb_fresh_process",)),
    "package_without_nlp_unzipped_mb": ("bench_cold_triage", ("package_without_nlp_unzipped_mb",)),
}


def _get(details: dict, module: str, path: tuple):
    value = details.get(module)
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _redaction(details: dict) -> dict:
    engines = {e.get("engine", ""): e for e in (details.get("bench_redaction") or {}).get("engines", [])}
    ours = next((e for k, e in engines.items() if k.startswith("ours")), None)
    presidio = next((e for k, e in engines.items() if k.startswith("presidio") and "error" not in e), None)
    out = {}
    if ours:
        out["pan_recall"] = ours.get("card_recall_overall")
        out["redaction_ms_per_message"] = ours.get("ms_per_message")
    if ours and presidio and ours.get("ms_per_message"):
        out["redaction_vs_presidio_speedup"] = round(presidio["ms_per_message"] / ours["ms_per_message"], 2)
        out["presidio_pan_recall"] = presidio.get("card_recall_overall")
    return {k: v for k, v in out.items() if isinstance(v, (int, float))}


def flat(details: dict) -> dict:
    """The flat, numbers-only view: mapped keys, then every flat numeric key a benchmark already names."""
    out = {k: v for k, (m, p) in KEYMAP.items() if (v := _get(details, m, p)) is not None}
    out.update(_redaction(details))
    for module, result in details.items():
        if module.startswith("_") or not isinstance(result, dict):
            continue
        for k, v in result.items():
            if k.startswith("_") or k in out or isinstance(v, bool) or not isinstance(v, (int, float)):
                continue
            if module in ("bench_load", "bench_load_wsgi", "bench_fraud", "bench_longtext", "bench_conversations", "bench_package"):
                out[k] = v
    return dict(sorted(out.items()))


def write_report(details: dict, latencies: dict[str, list[float]]) -> Path:
    """bench/REPORT.md: the table, and PNG plots of what a table cannot show."""
    results = flat(details)
    lines = ["# Benchmark report", "", f"Produced by `make bench` on {details.get('_meta', {}).get('at', '?')} "
             f"({details.get('_meta', {}).get('cpus', '?')} cores). Numbers in `bench/results.json`; "
             "detail in `bench/details.json`.", "", "| measure | value |", "|---|---|"]
    lines += [f"| `{k}` | {v:.4g} |" if isinstance(v, float) else f"| `{k}` | {v} |" for k, v in results.items()]
    plots = _plots(details, latencies)
    if plots:
        lines += ["", "## Plots", ""]
        lines += [f"![{title}]({name})" for title, name in plots]
    path = HERE / "REPORT.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _plots(details: dict, latencies: dict[str, list[float]]) -> list[tuple[str, str]]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    made = []
    series = {k: v for k, v in latencies.items() if v}
    if series:
        fig, axes = plt.subplots(1, len(series), figsize=(5 * len(series), 3.6))
        axes = axes if len(series) > 1 else [axes]
        for ax, (name, values) in zip(axes, series.items()):
            ax.hist(values, bins=60, color="#2563eb")
            ax.set_title(f"{name} latency (ms), n={len(values)}")
            ax.set_xlabel("ms")
            ax.set_yscale("log")
        fig.tight_layout()
        fig.savefig(HERE / "latency.png", dpi=110)
        plt.close(fig)
        made.append(("Latency distributions", "latency.png"))
    confusion = ROOT / "docs" / "confusion-matrix.png"
    if confusion.exists():
        made.append(("Confusion matrix (dev split, BANKING77 categories)", "../docs/confusion-matrix.png"))
    load = details.get("bench_load") or {}
    if load:
        fig, ax = plt.subplots(figsize=(6, 3.4))
        keys = ["load_chat_turns_per_s", "load_emails_per_s"]
        ax.bar([k.replace("load_", "") for k in keys], [load.get(k, 0) for k in keys], color=["#2563eb", "#16a34a"])
        ax.set_title(f"Load run: {load.get('load_workers')} worker processes, "
                     f"errors {load.get('load_errors')}, emails lost {load.get('load_emails_lost')}")
        fig.tight_layout()
        fig.savefig(HERE / "load.png", dpi=110)
        plt.close(fig)
        made.append(("Load run throughput", "load.png"))
    return made


if __name__ == "__main__":
    d = json.loads((HERE / "details.json").read_text())
    print(write_report(d, {}))
