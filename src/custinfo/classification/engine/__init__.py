"""The engine: compiles a rule set to SQL over the feature select and runs it, fully or for one customer.

`plan` compiles (conditions → CASEs, the evaluation SELECT and its cache), `full` runs every customer
and writes the differences set-based, `incremental` runs one customer with the same SELECT,
`preview` shows a candidate rule set's impact without writing, `runs` keeps the run record and
`sql` holds the few constructs Core lacks.
"""

from custinfo.classification.engine.full import run_full
from custinfo.classification.engine.incremental import run_incremental
from custinfo.classification.engine.plan import Plan, build_plan, compile_condition, signature_prefix
from custinfo.classification.engine.preview import Impact, preview

__all__ = [
    "Impact",
    "Plan",
    "build_plan",
    "compile_condition",
    "preview",
    "run_full",
    "run_incremental",
    "signature_prefix",
]
