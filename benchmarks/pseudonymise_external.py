"""The detector on material nobody on this team wrote: deduce's own regression cases (a benchmark, not a test).

deduce (https://github.com/vmenger/deduce) keeps labelled examples in ``tests/data/regression_cases/``:
``names.json`` (person names, and texts that are no names), ``emails.json``, ``phone_numbers.json`` and
``locations.json``. Give the path of a checkout of that repository (nothing is downloaded or copied
here)::

    git clone https://github.com/vmenger/deduce /tmp/deduce
    python benchmarks/pseudonymise_external.py /tmp/deduce

Every example text goes through :func:`kwalitatief.pseudonymise.detect` (deduce plus our rules, this
project's register and list). Per kind: recall, the share of labelled spans that our replaced spans
cover (an honorific at the front of a labelled name, ``dr.`` or ``Mw. Prof.``, may stay: we keep titles
before the tag on purpose); precision, the share of our spans that lie inside a labelled span of the same
kind. Of ``locations.json`` only street addresses with a number, ``Postbus`` and postcodes count: place
names are analysis variables in this project and are never replaced (they are listed as out of scope).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kwalitatief import pseudonymise as ps  # noqa: E402
from kwalitatief.config import load_params  # noqa: E402

FILES = {"names.json": "persoon", "emails.json": "email", "phone_numbers.json": "telefoon",
         "locations.json": "adres"}
OUR_KINDS = {"persoon": {"persoon"}, "email": {"email"}, "telefoon": {"telefoon"}, "adres": {"adres", "postcode"}}
ADDRESS_LIKE = re.compile(r"\d")   # a street with a number, Postbus 12, 1234 AB; not a bare place name
_HONORIFIC = re.compile(r"^(?:(?:de\s+)?(?:[\w'’]+\s+)?(?:heer|mevrouw|mw|mevr|dhr|dr|drs|prof|mr|ir|ing|mijnheer|"
                        r"meneer|mej|mejuffrouw|professor|doctor|weledelgeleerde|weledelgestrenge)\.?\s+)+",
                        re.IGNORECASE)


def name_part(text: str, start: int, end: int) -> tuple[int, int]:
    """A labelled person span without the honorifics at its front."""
    match = _HONORIFIC.match(text[start:end])
    return (start + match.end(), end) if match and start + match.end() < end else (start, end)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a checkout of github.com/vmenger/deduce")
    parser.add_argument("--show", action="store_true", help="print every miss and false positive")
    args = parser.parse_args()
    folder = args.checkout / "tests" / "data" / "regression_cases"
    if not folder.is_dir():
        sys.exit(f"error: {folder} not found; give the path of a checkout of github.com/vmenger/deduce")

    params = load_params(ROOT / "params.yaml")
    settings = ps.Settings.from_params(params.get("pseudonymise"))
    corpus = ROOT / params.get("corpus", {}).get("dir", "corpus")
    vocab = ps.build_vocabulary(ps.read_table(corpus / "regions.csv"), ps.read_table(corpus / "respondents.csv"),
                                ps.load_pseudonym_list(ROOT / settings.list_path), settings)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])   # found, labelled, right, ours
    out_of_scope = 0
    notes: list[str] = []
    for name, kind in FILES.items():
        for example in json.loads((folder / name).read_text(encoding="utf-8"))["examples"]:
            text = example["text"]
            labelled = []
            for ann in example["annotations"]:
                if kind == "adres" and not ADDRESS_LIKE.search(ann["text"]):
                    out_of_scope += 1
                    continue
                labelled.append((ann["start_char"], ann["end_char"]))
            # nested labels ('Schoutelaan 1' inside 'Prof. Dr. J.C. Schoutelaan 1'): the outer one counts
            labelled = [(s, e) for s, e in labelled if not any(a <= s and e <= b and (a, b) != (s, e)
                                                               for a, b in labelled)]
            ours = [(s.start, s.end) for s in ps.detect(text, vocab, use_deduce=settings.use_deduce)
                    if s.kind in OUR_KINDS[kind]]
            for s, e in labelled:
                a, b = name_part(text, s, e) if kind == "persoon" else (s, e)
                counts[kind][1] += 1
                if all(any(x <= i < y for x, y in ours) for i in range(a, b) if not text[i].isspace()):
                    counts[kind][0] += 1
                else:
                    notes.append(f"  MISSED {kind}: {text[s:e]!r} in {text!r} (ours: {[text[x:y] for x, y in ours]})")
            for x, y in ours:
                counts[kind][3] += 1
                if any(s <= x and y <= e for s, e in labelled):
                    counts[kind][2] += 1
                else:
                    notes.append(f"  FALSE POSITIVE {kind}: {text[x:y]!r} in {text!r}")
    print(f"deduce regression cases from {args.checkout}")
    print(f"  {'kind':9s} {'recall':>16s} {'precision':>16s}")
    for kind in FILES.values():
        found, n, right, ours = counts[kind]
        print(f"  {kind:9s} {found:4d}/{n:<4d} {found / max(n, 1):6.3f} "
              f"{right:4d}/{ours:<4d} {right / max(ours, 1):6.3f}")
    print(f"  ({out_of_scope} labelled place names without a number are out of scope: places are never replaced)")
    if args.show:
        print("\n".join(notes))


if __name__ == "__main__":
    main()
