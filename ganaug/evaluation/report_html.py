"""The HTML page of an :class:`~ganaug.evaluation.report.EvaluationReport`: inline CSS, inline SVG
charts (:mod:`ganaug.evaluation.svg`), no script, nothing fetched from the network."""

from __future__ import annotations

import math
from typing import Any

from ganaug.evaluation import svg
from ganaug.evaluation.repeated import METHOD_NAMES, METRIC_NAMES
from ganaug.evaluation.svg import _esc

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 28px 60px;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:34px 0 8px;border-bottom:1px solid #e3e6ea;padding-bottom:4px}
h3{font-size:15px;margin:22px 0 6px}p,li{line-height:1.5;font-size:14px}.muted{color:#5b6573;font-size:13px}
.verdict{font-size:16px;padding:12px 16px;border-radius:6px;margin:14px 0;border-left:5px solid}
.gain{background:#eaf6ec;border-color:#2e8b3e}.none{background:#f2f3f5;border-color:#8a93a0}.loss{background:#fbecec;border-color:#c0392b}
.note{background:#fff8e6;border-left:5px solid #e0a800;padding:10px 14px;border-radius:6px;font-size:14px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{padding:5px 9px;border-bottom:1px solid #e6e8eb;text-align:right;white-space:nowrap}
th{background:#f3f4f6;font-weight:600}td:first-child,th:first-child{text-align:left}
td.up{background:#e3f4e6}td.down{background:#fbe3e1}td.flat{color:#5b6573}
.grid{display:flex;flex-wrap:wrap;gap:6px}.grid svg{background:#fcfcfd;border:1px solid #eceef1;border-radius:4px}
.kv td{text-align:left}dl{display:grid;grid-template-columns:max-content auto;gap:4px 16px;font-size:14px}dt{color:#5b6573}dd{margin:0}
"""


def number_text(value: Any, signed: bool = False, digits: int = 3, missing: str = "-") -> str:
    """A score as text: ``digits`` decimals (a sign with ``signed``), ``missing`` for NaN, and
    anything that is not a number as ``str`` (the report's and the CLI's tables)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return missing
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def _num(value: Any, signed: bool = False, digits: int = 3) -> str:
    return _esc(number_text(value, signed, digits, missing="–"))


def _verdict_class(text: str) -> str:
    if text.startswith("no measurable"):
        return "none"
    return "loss" if "LOWER" in text else "gain"


def _lift_table(report: Any) -> str:
    iv = report.intervals
    scores = report.scores
    metrics = [m for m in ("balanced_accuracy", "f1_macro", "roc_auc", "r2", "mae") if m in set(iv["metric"])]
    methods = [m for m in dict.fromkeys(iv["method"])]
    models = [m for m in dict.fromkeys(iv["model"]) if m != "mean"] + ["mean"]
    base = scores.melt(id_vars=["split", "model", "method"], value_vars=metrics, var_name="metric")
    base = base[base["method"] == "none"]
    base_mean = base.groupby(["model", "metric"])["value"].mean()
    base_all = base.groupby(["split", "metric"])["value"].mean().groupby("metric").mean()
    head = "".join(f"<th>{_esc(METHOD_NAMES.get(m, m))} lift</th>" for m in methods)
    out = []
    for metric in metrics:
        out.append(f"<h3>{_esc(METRIC_NAMES.get(metric, metric))}</h3><table><tr><th>model</th>"
                   f"<th>no augmentation</th>{head}</tr>")
        for model in models:
            score = base_all.get(metric) if model == "mean" else base_mean.get((model, metric))
            cells = []
            for method in methods:
                row = iv[(iv["model"] == model) & (iv["method"] == method) & (iv["metric"] == metric)]
                if row.empty or math.isnan(float(row["lift"].iloc[0])):
                    cells.append('<td class="flat">–</td>')
                    continue
                r = row.iloc[0]
                up = (r["low"] > 0) if metric != "mae" else (r["high"] < 0)
                down = (r["high"] < 0) if metric != "mae" else (r["low"] > 0)
                css = "up" if up else "down" if down else "flat"
                cells.append(f'<td class="{css}">{_num(r["lift"], True)} '
                             f'<span class="muted">[{_num(r["low"], True)}, {_num(r["high"], True)}]</span></td>')
            name = "<b>mean of the models</b>" if model == "mean" else _esc(model)
            out.append(f"<tr><td>{name}</td><td>{_num(score)}</td>{''.join(cells)}</tr>")
        out.append("</table>")
    return "".join(out)


def render(report: Any) -> str:
    """The whole page of a report (an :class:`~ganaug.evaluation.report.EvaluationReport`)."""
    s = report.settings
    classes = ", ".join(f"{_esc(k)}: {v}" for k, v in s["classes"].items())
    cut = (f"every class but the largest cut to {s['minority_fraction']:.0%} of its rows in each "
           "training split (the test split keeps every row)") if s.get("minority_fraction") else \
        "training splits as drawn (no cut)"
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">",
        f"<title>{_esc(report.title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_esc(report.title)}</h1>",
        (f"<p class=\"muted\">{s['rows']} rows × {s['columns']} columns; classes {classes}. "
         f"{s['splits']} stratified splits, {1 - s['test_size']:.0%} train / {s['test_size']:.0%} test; "
         f"{cut}. Augmenter: <code>{_esc(s['augmenter'])}</code>, a fresh one fitted on each training split.</p>"),
        "<h2>Does augmentation help?</h2>",
        f"<div class=\"verdict {_verdict_class(report.verdict)}\"><b>Verdict:</b> {_esc(report.verdict)}.</div>",
        ("<p>Each cell is the mean lift over no augmentation (the same split and model, paired), "
         "with its 95% interval over the splits in brackets. Green: the interval is above zero "
         "(a measurable gain); red: below zero; grey: no measurable difference.</p>"),
    ]
    if report.metric_note:
        parts.append(f"<p class=\"note\"><b>Which metric to trust.</b> {_esc(report.metric_note)}</p>")
    parts.append(_lift_table(report))
    parts.append("<h2>How real are the synthetic rows? (per class, minority first)</h2>")
    parts.append(
        f"<p>One fit on the first split's training rows ({_esc(_counts(s['showcase_train_classes']))}); "
        "the synthetic rows of each class are compared with that class's real training rows. "
        "Columns are ordered worst match first (Kolmogorov-Smirnov statistic for numbers, total "
        f"variation distance for categories; 0 = identical). {svg.legend()}</p>"
    )
    for sec in report.classes:
        parts.append(f"<h3>class {_esc(sec.label)}: {sec.n_real} real rows, {sec.n_synthetic} synthetic rows</h3>")
        if sec.n_real < 30:
            parts.append(f"<p class=\"muted\">Only {sec.n_real} real rows: their own histograms and "
                         "correlations are noisy, so part of every difference below is that noise.</p>")
        parts.append("<div class=\"grid\">" + "".join(c["svg"] for c in sec.columns) + "</div>")
        if sec.heatmap:
            parts.append("<p class=\"muted\">Correlation difference (synthetic minus real, numeric "
                         "columns): red where the synthetic rows are more correlated, blue less.</p>")
            parts.append(f"<div>{sec.heatmap}</div>")
    parts.append("<h2>Detection and privacy</h2><dl>")
    if report.detection_auc is not None:
        parts.append(f"<dt>detection AUC</dt><dd>{_num(report.detection_auc)} — a classifier trained to "
                     "tell real from synthetic rows (all classes, matched per class); 0.5 = indistinguishable, 1.0 = "
                     "trivially separable</dd>")
    p = report.privacy
    if p:
        parts.append(
            f"<dt>distance to closest record</dt><dd>synthetic rows {_num(p['dcr_synthetic'])}, unseen real rows "
            f"{_num(p['dcr_holdout'])}: ratio <b>{_num(p['dcr_ratio'], digits=2)}</b> (≥ 1: the synthetic rows "
            "are no closer to the training rows than new real rows are; minority classes)</dd>"
            f"<dt>nearest-neighbour distance ratio</dt><dd>synthetic {_num(p['nndr_synthetic'], digits=2)}, "
            f"unseen real {_num(p['nndr_holdout'], digits=2)} (near 0: a row sits on one training row)</dd>"
            f"<dt>exact copies</dt><dd>{_num(100 * p['copies'], digits=1)}% of the synthetic rows</dd>"
        )
    parts.append("</dl><h2>What produced the rows</h2><dl>")
    for key, value in report.stage.items():
        parts.append(f"<dt>{_esc(key)}</dt><dd>{_esc(value)}</dd>")
    t = report.timings
    parts.append(f"<dt>fit</dt><dd>{_num(t['fit_seconds'], digits=2)} s (the showcase fit, with "
                 f"{int(t['synthetic_rows'])} rows drawn by fit_resample)</dd>")
    parts.append(f"<dt>sample</dt><dd>{_num(t['sample_seconds'], digits=3)} s (the extra rows for the charts)</dd>")
    per_method = [(k.removeprefix("resample_seconds_"), v) for k, v in t.items() if k.startswith("resample_seconds_")]
    if per_method:
        parts.append("<dt>building a training set</dt><dd>" + ", ".join(
            f"{_esc(METHOD_NAMES.get(m, m))} {_num(v, digits=2)} s" for m, v in per_method) + " (mean per split)</dd>")
    parts.append("</dl>")
    parts.append(f"<p class=\"muted\">Downstream models: {_esc(', '.join(s['models']))}; seed {s['seed']}. "
                 "Generated by ganaug; the page needs no network.</p></main></body></html>")
    return "".join(parts)


def _counts(counts: dict[Any, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items())
