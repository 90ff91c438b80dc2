"""One whole validation computation (risk.engine.compute) on the Parquet files in a folder, in a fresh
process so its peak resident memory is its own. Used by bench/validation_metrics.py; prints JSON."""

import json
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


class FileEvidence:
    """Just what the engine reads from an Evidence row: a name, a hash, and a file to open."""

    def __init__(self, path: Path, pk: int):
        self.pk, self.original_name, self.sha256 = pk, path.name, "-"
        self.file = SimpleNamespace(name=str(path), storage=SimpleNamespace(open=open))


def rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(folder: Path):
    from risk.validation import engine, plans

    before = rss_mb()
    plan = {
        "template": "classifier",
        "tests": plans.TEMPLATES["classifier"]["tests"],
        "options": {**plans.DEFAULT_OPTIONS, "tolerance": 1e-3},
        "claimed_performance": {"roc_auc": 0.8},
    }
    run = SimpleNamespace(
        plan_snapshot=plan,
        dataset=FileEvidence(folder / "log.parquet", 1),
        reference=FileEvidence(folder / "training.parquet", 2),
        trial_returns=None,
    )
    start = time.perf_counter()
    outcome = engine.compute(run)
    seconds = time.perf_counter() - start
    assert outcome.results
    print(json.dumps({"seconds": seconds, "peak_rss_mb": rss_mb(), "rss_before_mb": before}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
