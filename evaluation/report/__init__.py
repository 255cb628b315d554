"""Report builder: the paper's tables with deltas and verdicts, the leaderboard, checkpoint comparisons.

Flow: collect (read mteb result folders) -> aggregate (paper rules) -> tables (+ verdict) -> render_*/plots.
See docs/report.md.
"""

from evaluation.report.build import Report, build_report, write_report
from evaluation.report.compare import CompareResult, compare

# CLI entry points live in evaluation.report.cli (report_command, compare_command); not imported here so
# that `python -m evaluation.report.cli` does not import the module twice.
__all__ = ["CompareResult", "Report", "build_report", "compare", "write_report"]
