"""The closed sets of names a user chooses from, and the limits on what one command may ask for.

Each is written once, here, in a module that imports nothing heavy: the command line builds its parser from
them before it loads numpy, pandas or Mesa (see :mod:`sim.cli`). The limits keep a run within a
24 GiB machine and a working day; docs/reliability.md ("Limits") lists them.
"""

from __future__ import annotations

from typing import Literal, get_args

#: The decision rules of :func:`sim.core.engine.rule_limit`.
Rule = Literal["consensus", "consensus_minus_one", "two_thirds", "majority", "capability_majority"]
RULES: tuple[Rule, ...] = get_args(Rule)

#: The bargaining mechanisms of :func:`sim.core.engine.decide`: the sponsor's lowering offers (veto) and the
#: models of :mod:`sim.core.bargaining`.
Bargaining = Literal["veto", "compromise", "nash", "exchange"]
BARGAINING: tuple[Bargaining, ...] = get_args(Bargaining)

#: The routes outside the SCO a sponsor may take a proposal to (a proposal's ``elsewhere.forum``;
#: :mod:`sim.model.sponsors`): bilateral deals, the Belt and Road Initiative, the China-Central Asia format.
Forum = Literal["bilateral", "bri", "china_central_asia"]
FORUMS: tuple[Forum, ...] = get_args(Forum)

#: What an adopted decision is, from the least binding to the most (sim.model.implementation; docs/ODD.md, §7.9): a
#: ``statement`` (a declaration or joint statement: words), a ``strategy`` (a strategy, framework or plan: a programme
#: without firm plans for carrying it out), a ``treaty`` (a convention, an agreement or an accession: legal
#: obligations), a ``body`` (a body with money: a standing structure or a fund, with staff or money committed).
Form = Literal["statement", "strategy", "treaty", "body"]
FORMS: tuple[Form, ...] = get_args(Form)

#: The designs of :func:`sim.experiments.design.design`.
Method = Literal["grid", "random", "lhs", "sobol", "morris"]
METHODS: tuple[Method, ...] = get_args(Method)

#: The formats figures can be written in (:mod:`sim.outputs.figures`).
FigureFormat = Literal["png", "svg", "pdf"]
FIGURE_FORMATS: tuple[FigureFormat, ...] = get_args(FigureFormat)

#: Replicates one run may ask for (memory grows linearly with them).
MAX_REPLICATES = 1_000_000
#: Seeds are whole numbers from 0 up to, not including, this.
SEED_LIMIT = 2**63
#: Years one run may span.
MAX_YEARS = 200
#: Replicates one model advances at once: the engine's work arrays span a batch, which bounds a run's memory
#: (about 2 KB per replicate and proposal); the numbers do not depend on it.
BATCH = 50_000
#: The same where each world draws its own coded numbers: a replicate then carries its own copy of every member's
#: relations, weights and every proposal's effects and gains (about 20 KB with 22 members), so a smaller batch
#: keeps a batch's arrays near 100 MB.
WORLD_BATCH = 5_000
#: Members (of any status) and proposals one configuration may hold.
MAX_MEMBERS = 1000
MAX_PROPOSALS = 1000
#: Characters of a name (of a member, a proposal, a dimension, a scenario): it is drawn in figures and names the
#: results folder. The longest in configs/base.yaml has 62.
MAX_NAME = 200
#: Characters of a code (the key of a member, a proposal or a dimension). The longest in configs/base.yaml has 25.
MAX_CODE = 64
#: Points one sweep may have; at 500 replicates each that is 5 billion runs.
MAX_POINTS = 10_000_000
#: Replicates a historical case may ask for.
MIN_CASE_REPLICATES, MAX_CASE_REPLICATES = 10, 100_000

#: Bytes one YAML file may hold (configs/base.yaml, the largest, is about 30 KB); at most this plus one is read.
MAX_YAML_BYTES = 1 << 20
#: A YAML document's size with every alias counted as a copy of what it names (one per node, a string's
#: characters, two per level of nesting: about the JSON a run's metadata.json copies it into). It refuses an
#: alias bomb (what metadata.json may hold is bounded on its own, below); a plain file's size is
#: a few times its bytes at most unless it nests very deep (configs/base.yaml, 35 KB, counts about 45,000).
MAX_YAML_EXPANDED = 16 * MAX_YAML_BYTES
#: Bytes a run's metadata.json may hold: a run whose metadata would be larger is refused before it runs. It copies
#: the scenario as written and the configuration as resolved (the first year's in full, later years what changed:
#: :mod:`sim.outputs.run_folder`), each alias written out in full, so a scenario just under the loader's limit
#: may pass it; the shipped scenarios' runs write under 100 KB.
MAX_METADATA_BYTES = 16 << 20
#: Bytes one DEU-format file (``sco-sim backtest deu``) may hold: deu3_calibration.tsv, the largest shipped (186
#: issues, 75 columns), is 44 KB, so this is room for about twenty times its issues; a larger file is refused
#: from its size, before it is read (a 1 GB file read whole took 2.2 GB of memory only to be refused).
MAX_DEU_BYTES = 1 << 20
#: Bytes a fit saved by ``backtest --save-fit`` may hold (one is about 1 KB); a larger file is refused unread.
MAX_FIT_BYTES = 1 << 20
#: The largest a weight-like number of the configuration may be (capability, side payments, costs):
#: far beyond any meaningful value, and far from where float64 sums and products overflow.
MAX_MAGNITUDE = 1e6

#: Memory one run may need by the estimate of :mod:`sim.core.budget` (the machine has 24 GiB).
MAX_RUN_BYTES = 16 << 30
#: Time one run may take by that estimate: a working day.
MAX_RUN_SECONDS = 8 * 3600
#: Runs (points x replicates) one sweep may ask for.
MAX_SWEEP_RUNS = 5_000_000_000

#: Characters of a word of an error message (a value, a key, a path quoted in it: a run between spaces) and of
#: the whole line: the user's input is cut in its middle to fit, so that no input makes a message long.
MAX_QUOTED = 200
MAX_ERROR_LINE = 800

#: Seconds a Dask scheduler has to answer: a live one answers in milliseconds, even across a network, and a
#: user waiting on a wrong address (a silent port, a firewall that drops packets) learns of it within this.
DASK_ANSWER_SECONDS = 10
#: Seconds a sweep on a Dask scheduler waits for a chunk before it asks the scheduler again who it is (and the
#: scheduler has DASK_ANSWER_SECONDS to answer): a scheduler that stops answering mid-sweep (frozen, its machine cut
#: off) is reported within the two together, however long a chunk runs.
DASK_PROBE_SECONDS = 5
