"""benchmarks/ablation.py runs end to end (so the script behind the README's design table cannot rot)."""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
ablation = importlib.import_module("ablation")


def test_ablation_smoke_run():
    df = ablation.main(['{"epochs": 1}', "--datasets", "wine", "--seeds", "0", "--filter-ratio", "2"])
    assert list(df["dataset"]) == ["wine"]
    for column in ("lr_ganaug", "lr_smote", "rf_ganaug", "rf_smote"):
        assert -1 <= df[column].iloc[0] <= 1
    assert 0 <= df["detection_auc"].iloc[0] <= 1 and df["seconds"].iloc[0] > 0
