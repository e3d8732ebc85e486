"""Derive members' capability (configs/base.yaml, `capability`) from the Correlates of War data.

Capability is the Composite Index of National Capability (CINC) of the National Material
Capabilities data set v6.0 (Singer, Bremer & Stuckey 1972; Greig & Enterline 2021) in 2016, its last
year. Run from the project root:

    python tools/derive_capability.py ../shared/data/capability/NMC-60-abridged.csv

It prints one line per actor, `code: CINC`, rounded to 4 decimals as in the configuration.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

YEAR = 2016
#: the configuration's codes -> Correlates of War state abbreviations
COW = {
    "china": "CHN", "russia": "RUS", "india": "IND", "pakistan": "PAK", "iran": "IRN", "belarus": "BLR",
    "kazakhstan": "KZK", "kyrgyzstan": "KYR", "tajikistan": "TAJ", "uzbekistan": "UZB", "mongolia": "MON",
    "afghanistan": "AFG", "turkmenistan": "TKM", "azerbaijan": "AZE", "armenia": "ARM", "turkey": "TUR",
    "saudi_arabia": "SAU", "qatar": "QAT", "uae": "UAE",
}


def capabilities(path: Path, year: int = YEAR) -> dict[str, float]:
    """CINC in ``year`` for every actor of the configuration."""
    with path.open(newline="", encoding="utf-8") as handle:
        cinc = {row["stateabb"]: float(row["cinc"]) for row in csv.DictReader(handle) if int(row["year"]) == year}
    return {code: cinc[abbreviation] for code, abbreviation in COW.items()}


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/capability/NMC-60-abridged.csv")
    for code, value in capabilities(source).items():
        print(f"{code}: {value:.4f}")
