"""One PNG per benchmark from its results file: ours against the peer, every repetition shown.

Bars are medians, whiskers span min..max, dots are the individual repetitions; the ratio the
README quotes is written over each group. Ours is blue, peers are grey. Every chart says where
its numbers come from, so a reader can re-run it.

    .venv/bin/python -m bench.charts [RESULTS_DIR] [IMG_DIR]
"""

from __future__ import annotations

import json
import statistics
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parent.parent
OURS = "#1f6fb4"
PEERS = ("#8c8c8c", "#b5b5b5", "#5f5f5f", "#d0d0d0")
GOOD, WARN, BAD = "#3a9a4a", "#e0a030", "#c8393b"


@dataclass
class Bar:
    """One contender in one group: all its repetitions."""

    label: str
    runs: list[float]
    ours: bool = False

    @property
    def median(self) -> float:
        """Median of the repetitions."""
        return float(statistics.median(self.runs))


@dataclass
class Group:
    """Contenders measured under the same conditions, with the ratio to print above them."""

    title: str
    bars: list[Bar]
    note: str = ""


def grouped_bars(
    groups: list[Group], *, title: str, unit: str, source: str, path: Path, lower_is_better: bool
) -> Path:
    """Median bars with min..max whiskers and every repetition as a dot, one cluster per group."""
    width = max(6.0, 1.1 * sum(len(g.bars) for g in groups) + 1.2 * len(groups))
    fig, ax = plt.subplots(figsize=(min(width, 15.0), 5.2))
    x = 0.0
    ticks: list[float] = []
    labels: list[str] = []
    for group in groups:
        start = x
        peer_colour = iter(PEERS)
        for bar in group.bars:
            colour = OURS if bar.ours else next(peer_colour)
            low, high = min(bar.runs), max(bar.runs)
            ax.bar(x, bar.median, width=0.8, color=colour, edgecolor="black", linewidth=0.5)
            ax.errorbar(
                x,
                bar.median,
                yerr=[[bar.median - low], [high - bar.median]],
                color="black",
                capsize=4,
                linewidth=1,
            )
            ax.scatter([x] * len(bar.runs), bar.runs, color="black", s=10, zorder=3)
            ax.annotate(
                _short(bar.median),
                (x, high),
                textcoords="offset points",
                xytext=(0, 4),
                ha="center",
                fontsize=8,
            )
            ticks.append(x)
            labels.append(bar.label)
            x += 1.0
        top = max(max(b.runs) for b in group.bars)
        centre = (start + x - 1.0) / 2
        ax.annotate(
            f"{group.title}\n{group.note}".strip(),
            (centre, top),
            textcoords="offset points",
            xytext=(0, 22),
            ha="center",
            fontsize=9,
            fontweight="bold",
        )
        x += 0.8
    ax.set_xticks(ticks, labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(f"{unit} ({'lower' if lower_is_better else 'higher'} is better)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.set_title(title, fontsize=11)
    _source(fig, source)
    return _save(fig, path)


def _short(value: float) -> str:
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _source(fig: t.Any, source: str, *, legend: bool = True) -> None:
    reading = " Dots: repetitions; bars: medians; whiskers: min-max." if legend else ""
    fig.text(
        0.01,
        0.01,
        f"Source: {source}.{reading}",
        fontsize=7,
        color="#555555",
    )


def _save(fig: t.Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# -- one function per benchmark --------------------------------------------------------------------


def target_segment(data: dict[str, t.Any], out: Path) -> Path:
    """Delivered calls per second, target-segment vs segment-analytics-python."""
    names = {
        "target_segment": "target-segment",
        "library_default": "library, defaults",
        "library_best": "library, best settings",
    }
    groups = []
    for key, by_name in data["runs"].items():
        summary = data["summary"][key]
        lost = summary["max_lost"].get("library_default", 0)
        note = ", ".join(
            f"x{summary[f'ratio_vs_{peer}']} vs {label}"
            for peer, label in (("library_best", "best"), ("library_default", "defaults"))
            if peer in by_name
        ) + (f"\ndefaults lost up to {lost:,} of {summary['messages']:,}" if lost else "")
        bars = [
            Bar(names.get(n, n), [r["delivered_per_second"] for r in runs], n == "target_segment")
            for n, runs in by_name.items()
        ]
        run = "hourly run" if key.startswith("hourly") else "bulk"
        label = f"{run}, {summary['messages']:,} calls, {summary['latency_ms']} ms"
        groups.append(Group(label, bars, note))
    return grouped_bars(
        groups,
        title="target-segment vs segment-analytics-python 2.4.0 (whole runs, start-up included)",
        unit="calls accepted by Segment per second",
        lower_is_better=False,
        source="bench/bench_target_segment.py",
        path=out / "target_segment.png",
    )


def target_clevertap(data: dict[str, t.Any], out: Path) -> Path:
    """Records uploaded per second, target-clevertap vs sequential uploaders."""
    names = {
        "target_5_lanes": "target, 5 lanes",
        "target_15_lanes": "target, 15 lanes",
        "uploader_3x1000": "3 workers, 1000/req (Go tool)",
        "sequential_1000": "sequential, 1000/req",
        "sequential_100": "sequential, 100/req (Node lib)",
    }
    groups = []
    for entry in data["latencies"]:
        ratios = entry["ratios"]
        note = ", ".join(
            f"x{ratios[f'target_5_lanes_vs_{peer}']} vs {label}"
            for peer, label in (
                ("uploader_3x1000", "the Go tool's 3 workers"),
                ("sequential_1000", "sequential 1000/req"),
                ("sequential_100", "Node style"),
            )
            if f"target_5_lanes_vs_{peer}" in ratios
        )
        bars = [
            Bar(names.get(n, n), [r["records_per_s"] for r in runs], n.startswith("target"))
            for n, runs in entry["runs"].items()
        ]
        records = entry.get("records", data["records"])
        groups.append(Group(f"{entry['latency_ms']} ms, {records:,} events", bars, note))
    return grouped_bars(
        groups,
        title="target-clevertap vs CleverTap-client-style uploads (whole runs)",
        unit="records stored per second",
        lower_is_better=False,
        source="bench/bench_target_clevertap.py",
        path=out / "target_clevertap.png",
    )


def tap_events(data: dict[str, t.Any], out: Path) -> Path:
    """Records extracted per second, tap-clevertap vs bare export loops."""
    labels = {
        "tap": "tap, 1 day/query",
        "tap_w7": "tap, 7 days/query",
        "bare_3_w7": "3 chains, 7 days",
        "bare_3": "3 chains, 1 day",
        "bare": "1 chain, 1 day",
    }
    groups = []
    for volume in data["volumes"]:
        records = volume["records"]
        bars = [
            Bar(label, [records / s for s in volume[name]["seconds"]], name.startswith("tap"))
            for name, label in labels.items()
            if name in volume
        ]
        note = (
            f"x{volume['throughput_ratio_tap_w7_over_bare_3_w7']} (7 days) and "
            f"x{volume['throughput_ratio_tap_over_bare_3']} (1 day) vs 3 chains"
        )
        where = f"{volume['latency_ms']} ms, {records:,} records"
        groups.append(Group(where, bars, note))
    return grouped_bars(
        groups,
        title="tap-clevertap events vs bare export loops (same pages, whole runs)",
        unit="records extracted per second",
        lower_is_better=False,
        source="bench/bench_tap_events.py",
        path=out / "tap_events.png",
    )


def normalization(data: dict[str, t.Any], out: Path) -> Path:
    """Cost per key of property-name normalization vs a dict copy."""
    bars = [Bar("dict copy (peer)", data["peer"]["ns_per_key_runs"])]
    bars += [
        Bar(name, result["ns_per_key_runs"], True) for name, result in data["strategies"].items()
    ]
    added = "added per key: " + ", ".join(
        f"{n} +{r['added_ns_per_key_vs_dict_copy']:.0f} ns" for n, r in data["strategies"].items()
    )
    added = added.replace(", to-snake", ",\nto-snake")
    group = Group(f"{data['keys_per_repetition']:,} keys per repetition", bars, added)
    return grouped_bars(
        [group],
        title="Property-name normalization per key vs copying the dict",
        unit="ns per key",
        lower_is_better=True,
        source="bench/bench_normalization.py",
        path=out / "normalization.png",
    )


def sandbox_capacity(data: dict[str, t.Any], out: Path) -> Path:
    """The ceiling every end-to-end benchmark runs under (no peer: it is the test bed)."""
    exports = data["exports"]
    panels = [
        (
            "export records/s",
            {
                "1 chain, full shape": exports["single_chain_full_shape_first_pass"],
                "1 chain, not decoded": exports["single_chain_full_shape_not_decoded_by_client"],
                "1 chain, slim shape": exports["single_chain_slim_shape"],
                "3 chains, full shape": exports["three_parallel_chains_full_shape"],
            },
            "records_per_second",
        ),
        (
            "/1/upload records/s",
            {
                "sequential": {"v": data["uploads"]["sequential_requests_per_second"] * 1000},
                "15 in parallel": {"v": data["uploads"]["parallel_15_requests_per_second"] * 1000},
            },
            "v",
        ),
        (
            "Segment /v1/batch messages/s",
            {
                "sequential": {"v": data["segment"]["sequential_messages_per_second"]},
                "4 in parallel": {"v": data["segment"]["parallel_4_messages_per_second"]},
            },
            "v",
        ),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.4))
    for ax, (unit, bars, key) in zip(axes, panels, strict=True):
        values = [float(b[key]) for b in bars.values()]
        ax.bar(list(bars), values, color=PEERS[0], edgecolor="black", linewidth=0.5)
        for i, value in enumerate(values):
            ax.annotate(
                _short(value),
                (i, value),
                textcoords="offset points",
                xytext=(0, 3),
                ha="center",
                fontsize=8,
            )
        ax.set_title(unit, fontsize=10)
        ax.tick_params(axis="x", labelrotation=20, labelsize=8)
    fig.suptitle(
        "api-sandbox capacity on this machine (the ceiling of every end-to-end number)", fontsize=11
    )
    _source(fig, "bench/bench_sandbox_capacity.py (one run per workload)", legend=False)
    return _save(fig, out / "sandbox_capacity.png")


def meltano_overhead(data: dict[str, t.Any], out: Path) -> Path:
    """Seconds per pipeline run, `meltano run` vs the direct pipe."""
    groups = []
    for entry in data["latencies"]:
        for name, result in entry["pipelines"].items():
            bars = [
                Bar("meltano run", result["seconds"]["meltano"], True),
                Bar("tap | target", result["seconds"]["direct"]),
            ]
            note = f"x{result['ratio_meltano_over_direct']} (+{result['added_seconds']:.1f} s)"
            groups.append(
                Group(
                    f"{name}, {entry['latency_ms']} ms\n{result['records']:,} records", bars, note
                )
            )
    return grouped_bars(
        groups,
        title="What `meltano run` adds to piping the same plugins directly",
        unit="seconds per run",
        lower_is_better=True,
        source="bench/bench_meltano_overhead.py",
        path=out / "meltano_overhead.png",
    )


def memory(data: dict[str, t.Any], out: Path) -> Path:
    """Peak RSS at two volumes per plugin and peer; the growth ratio says whether it is flat."""
    groups = []
    for plugin in data["plugins"]:
        bars = []
        for label, ours in (("ours", True), ("peer", False)):
            for point in sorted(plugin["by_volume"].values(), key=lambda p: int(p["records"])):
                if label in point:
                    name = plugin["plugin"] if ours else plugin.get("peer_short", "peer")
                    bars.append(
                        Bar(f"{name}\n{point['records']:,}", [point[label]["peak_rss_mib"]], ours)
                    )
        growth = plugin["growth_large_over_small"]
        note = " ; ".join(f"{k} x{v}" for k, v in growth.items()) + (
            f" for x{plugin['volume_ratio']:g} the records"
        )
        groups.append(Group(plugin["plugin"], bars, note))
    return grouped_bars(
        groups,
        title="Peak memory at two volumes (flat = ratio near 1)",
        unit="peak RSS, MiB",
        lower_is_better=True,
        source="bench/bench_memory.py",
        path=out / "memory.png",
    )


def audiences(data: dict[str, t.Any], out: Path) -> Path:
    """Peak RSS of the audience_members stream per audience size, first run and change run."""
    groups = [
        Group(
            f"{run['members']:,} members",
            [
                Bar("first run\n(all enter)", [run["first_run"]["peak_rss_mib"]], ours=True),
                Bar(
                    f"next run\n({run['second_run']['records_out']:,} changes)",
                    [run["second_run"]["peak_rss_mib"]],
                    ours=True,
                ),
            ],
        )
        for run in data["runs"]
    ]
    groups[
        -1
    ].note = (
        f"x{data['peak_rss_growth_large_over_small']} for x{data['member_ratio']:g} the members"
    )
    return grouped_bars(
        groups,
        title="audience_members: peak memory by audience size (flat = ratio near 1)",
        unit="peak RSS, MiB",
        lower_is_better=True,
        source="bench/bench_audiences.py",
        path=out / "audiences.png",
    )


def reliability(data: dict[str, t.Any], out: Path) -> Path:
    """Per scenario: what arrived once, what is listed as uncertain, what was lost or doubled."""
    rows = [s for s in data["scenarios"] if "expected" in s["counts"]]
    fig, ax = plt.subplots(figsize=(12, 0.75 * len(rows) + 1.8))
    for y, scenario in enumerate(reversed(rows)):
        c = scenario["counts"]
        once = c.get("stored_once", c.get("delivered_once", 0))
        uncertain = c.get("uncertain_not_stored", 0)
        uncertain_stored = c.get("uncertain_and_stored", 0)
        parts = [
            (once - uncertain_stored, GOOD, "delivered once"),
            (uncertain_stored, "#7cc47f", "delivered once, also listed as uncertain"),
            (uncertain, WARN, "not delivered, listed as delivery_uncertain"),
            (c["lost"], BAD, "lost"),
            (c["duplicated"], "#7a1f1f", "doubled (extra copies)"),
        ]
        left = 0
        for width, colour, label in parts:
            if width:
                ax.barh(
                    y, width, left=left, color=colour, edgecolor="black", linewidth=0.4, label=label
                )
                left += width
        verdict = "pass" if scenario["passed"] else "FAIL"
        ax.annotate(
            f"  lost {c['lost']:,} · doubled {c['duplicated']:,} · {verdict}",
            (left, y),
            va="center",
            fontsize=8,
        )
    ax.set_yticks(
        range(len(rows)), [f"{s['scenario']}: {s['pipeline']}" for s in reversed(rows)], fontsize=8
    )
    ax.set_xlabel("records fed in")
    ax.set_xlim(0, ax.get_xlim()[1] * 1.25)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), fontsize=7, loc="lower right")
    hits = len(data["secrets"]["hits"])
    ax.set_title(
        f"Reliability: faults, SIGKILL, resume ({data['mode']} run). Secret scan: "
        f"{hits} hits in {data['secrets']['files']} files",
        fontsize=10,
    )
    _source(fig, "python -m bench.reliability (bench/results/reliability.json)", legend=False)
    return _save(fig, out / "reliability.png")


CHARTS: dict[str, t.Callable[[dict[str, t.Any], Path], Path]] = {
    "target_segment": target_segment,
    "target_clevertap": target_clevertap,
    "tap_events": tap_events,
    "normalization": normalization,
    "sandbox_capacity": sandbox_capacity,
    "meltano_overhead": meltano_overhead,
    "memory": memory,
    "audiences": audiences,
    "reliability": reliability,
}


def render_all(results: dict[str, dict[str, t.Any]], out: Path) -> dict[str, str]:
    """Render every chart whose results are present; returns name -> path or the error."""
    rendered: dict[str, str] = {}
    for name, chart in CHARTS.items():
        if name not in results:
            continue
        try:
            rendered[name] = str(chart(results[name], out))
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            # A benchmark's results file changed shape: say which key, keep the other charts.
            rendered[name] = f"not rendered: {type(exc).__name__}: {exc}"
    return rendered


def load_results(directory: Path) -> dict[str, dict[str, t.Any]]:
    """Every ``<name>.json`` in ``directory`` (except summary.json) by name."""
    return {
        path.stem: json.loads(path.read_text())
        for path in sorted(directory.glob("*.json"))
        if path.stem != "summary"
    }


def main() -> None:
    """Render the charts of a results directory."""
    results_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "bench" / "results"
    img_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs" / "img"
    for name, path in render_all(load_results(results_dir), img_dir).items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
