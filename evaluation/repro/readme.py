"""The reproduction report's README.md, generated from the results (placeholder)."""

from __future__ import annotations


def render_readme(report, info, results) -> str:
    return f"# repro-offline\n\n{report.summary}\n"
