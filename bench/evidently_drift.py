"""Evidently's data-drift report with PSI and then KS on two Parquet files; run by
bench/validation_metrics.py inside .venv-bench (never installed beside Vigil). Prints JSON."""

import json
import resource
import sys
import time

import evidently
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset


def peak_rss_mb() -> float:
    """VmHWM: unlike ru_maxrss it is not inherited from the parent across exec."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(reference, current, method):
    start = time.perf_counter()
    Report([DataDriftPreset(method=method)]).run(current_data=current, reference_data=reference)
    return time.perf_counter() - start


reference, current = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
psi_seconds = timed(reference, current, "psi")
ks_seconds = timed(reference, current, "ks")
print(
    json.dumps(
        {
            "version": evidently.__version__,
            "psi_seconds": psi_seconds,
            "ks_seconds": ks_seconds,
            "peak_rss_mb": peak_rss_mb(),
        }
    )
)
