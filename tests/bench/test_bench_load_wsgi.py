"""The `load_wsgi` benchmark's bookkeeping: it is one of the benchmarks `make bench` runs, its numbers land in
bench/results.json as flat keys with units in their names, and Locust's CSV is read as Locust writes it."""
from __future__ import annotations

from pathlib import Path

from bench.bench_load import _pct
from bench.bench_load_wsgi import _aggregated
from bench.report import flat

ROOT = Path(__file__).resolve().parents[2]


def test_make_bench_runs_load_wsgi():
    """Given bench/__main__.py's discovery (every bench/bench_*.py) / When the benchmarks are listed / Then
    bench_load_wsgi is among them and its Locust file is not (it is not a benchmark of its own)."""
    names = sorted(p.stem for p in (ROOT / "bench").glob("bench_*.py"))
    assert "bench_load_wsgi" in names and "locust_chat" not in names


def test_results_get_flat_numeric_keys_with_units():
    """Given a load_wsgi result / When results.json is derived / Then its numeric keys are there as they are, text
    and lists are not, and the latencies stay out."""
    details = {"bench_load_wsgi": {"load_wsgi_server": "waitress", "load_wsgi_chat_p99_ms": 812.5,
                                   "load_wsgi_requests_per_s": 17.8, "load_wsgi_errors": 0,
                                   "load_wsgi_error_samples": [], "_latencies_ms": {"chat": [1.0]}}}
    assert flat(details) == {"load_wsgi_chat_p99_ms": 812.5, "load_wsgi_requests_per_s": 17.8, "load_wsgi_errors": 0}


def test_locust_csv_aggregated_row_is_read(tmp_path):
    """Given a Locust --csv stats file with a request row and the Aggregated row (N/A where it had no sample) / When
    it is read / Then the Aggregated counts, rate and percentiles come back, N/A as 0."""
    header = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
              "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
              "99.99%,100%")
    rows = ["POST,/api/chat,303,151,840,1200,3,8000,900,17.8,8.9,840,1000,1200,1300,2000,2400,4000,4700,7800,8000,8000",
            ",Aggregated,303,151,840,1200,3,8000,900,17.8,8.9,840,1000,1200,1300,2000,2400,4000,N/A,7800,8000,8000"]
    (tmp_path / "x_stats.csv").write_text("\n".join([header] + rows) + "\n")
    got = _aggregated(tmp_path / "x")
    assert got == {"requests": 303, "failures": 151, "requests_per_s": 17.8, "p50_ms": 840.0, "p95_ms": 2400.0,
                   "p99_ms": 0.0}


def test_percentiles_of_nothing_are_zero_not_an_error():
    """Given no answered turn / When its percentiles are taken / Then 0.0; and Given 1..100 / Then p99 is 100."""
    assert _pct([], 99) == 0.0
    assert _pct([float(i) for i in range(1, 101)], 99) == 100.0


def test_the_locust_file_loads_where_locust_is_installed():
    """Given the bench requirements (locust) / When bench/locust_chat.py is loaded in a process of its own (locust
    monkey-patches threads with gevent on import: never in the test process) / Then it defines the user class
    replaying the load flows. Without locust (the test venv alone) there is nothing to load."""
    import importlib.util as iu
    import subprocess
    import sys

    import pytest

    if iu.find_spec("locust") is None:
        pytest.skip("locust is a bench requirement (requirements-bench.txt)")
    code = "from bench import locust_chat as m; print(m.ChatCustomer.__name__, len(m.FLOWS), m.TALLY['started'])"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.split()[0] == "ChatCustomer", done.stderr[-2000:]
