"""What a command does, apart from parsing its options and printing: the flows the CLI calls.

| module | does |
|---|---|
| ``loading`` | the configuration a workspace names, the endpoint hosts allowed outside it, name checks |
| ``applying`` | apply: the lock, plan-then-confirm or a saved plan, settling a dead run, the run itself |
| ``importing`` | import: declarations written for live bindings nobody declared |

Nothing here prints or exits; the CLI (``engine.cli``) renders what these return.
"""
