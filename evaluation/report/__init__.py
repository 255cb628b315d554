"""Report builder: the paper's tables with deltas and verdicts, the leaderboard, checkpoint comparisons.

Flow: collect (read mteb result folders) -> aggregate (paper rules) -> tables + published (+ verdict) ->
render_*/plots. The commands that call it live in evaluation/commands/ (report.py, compare.py). See docs/report.md.
"""
