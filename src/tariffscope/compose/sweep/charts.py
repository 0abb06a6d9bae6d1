"""Charts of a sweep: one per outcome across the grid (matplotlib, PNG or SVG), with its sources."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tariffscope.errors import InputError

if TYPE_CHECKING:
    from tariffscope.compose.sweep.result import SweepResult


def outcome_charts(result: SweepResult, out_dir: str | Path, fmt: str = "png",
                   outcomes: Sequence[str] | None = None) -> list[Path]:
        """One chart per outcome across the grid: lines (1 axis, or 2 with few values) or a heatmap."""
        if fmt not in ("png", "svg"):
            raise InputError(f"bad chart format {fmt!r}: use png or svg")
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        w = result.to_frame(wide=True)
        axes = result.axes
        paths = []
        src = "; ".join(s["source"] for s in result.sources)
        for o in result.outcomes:
            if outcomes and o.name not in outcomes:
                continue
            fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
            y = w[o.name].to_numpy(dtype=float)
            if len(axes) == 1:
                ax.plot(w[axes[0]], y, marker="o", ms=3)
                ax.set_xlabel(axes[0])
                ax.set_ylabel(f"{o.label} ({o.unit})" if o.unit else o.label)
            elif len(axes) == 2 and w[axes[1]].nunique() <= 8:
                for v, g in w.groupby(axes[1], sort=True):
                    ax.plot(g[axes[0]], g[o.name].astype(float), marker="o", ms=3, label=f"{axes[1]} = {v:g}")
                ax.legend(fontsize=7)
                ax.set_xlabel(axes[0])
                ax.set_ylabel(f"{o.label} ({o.unit})" if o.unit else o.label)
            else:
                # Heatmap over the first two axes (later axes: their first value).
                sub = w
                for extra in axes[2:]:
                    sub = sub[sub[extra] == sub[extra].iloc[0]]
                grid = sub.pivot_table(index=axes[1], columns=axes[0], values=o.name, aggfunc="first")
                im = ax.imshow(grid.to_numpy(dtype=float), aspect="auto", origin="lower",
                               extent=(grid.columns.min(), grid.columns.max(), grid.index.min(), grid.index.max()))
                fig.colorbar(im, ax=ax, label=o.unit or "")
                ax.set_xlabel(axes[0])
                ax.set_ylabel(axes[1])
            ax.set_title(f"{result.spec.name}: {o.label}", fontsize=10)
            fig.text(0.01, 0.01, f"source: {src}", fontsize=6, color="#555")
            fig.tight_layout(rect=(0, 0.03, 1, 1))
            path = out_dir / f"{result.spec.name}_{o.name}.{fmt}"
            fig.savefig(path, metadata={"Date": None} if fmt == "svg" else None)
            plt.close(fig)
            paths.append(path)
        return paths
