"""Round trip through QualCoder's own REFI-QDA code: does another tool read our export without loss?

    pip install "PyQt6>=6.5"            # QualCoder's GUI toolkit; runs headless (QT_QPA_PLATFORM=offscreen)
    git clone https://github.com/ccbogel/QualCoder /path/to/QualCoder
    kwal export qdpx outputs/study.qdpx --include-unreviewed
    python tools/qualcoder_roundtrip.py /path/to/QualCoder outputs/study.qdpx [--back outputs/back.qdpx [--crlf]]

1. Import: QualCoder's ``RefiImport`` (``src/qualcoder/refi.py``) reads our ``.qdpx`` into a fresh QualCoder
   project (the tables its ``new_project`` creates, read from the checkout's ``__main__.py``). Then every
   coding of our file is looked up in QualCoder's ``code_text``: same source, same positions, same coder, a
   code of the same name (the name carries the valence: ``opinie.x · positief``) and the same selected text.
2. Back (``--back``): QualCoder's ``RefiExport`` writes that project as a ``.qdpx`` again, and our importer
   (``kwalitatief.qda.import_qdpx``, machine codings included) reads it in a scratch copy of the project:
   every coding must come back on the same fragment, nothing reported.

QualCoder's code is used from the checkout given, never copied. Its dialogs are answered without a screen:
file dialogs return the paths above, message boxes are only printed (``qualcoder.helpers`` is replaced by a
small module with that ``Message``, which also spares its media-player and PDF dependencies).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import types
import zipfile
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

NS = "{urn:QDA-XML:project:1.0}"


class _Log:
    """QualCoder's ``parent_textedit``: it appends lines of its import log here."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def append(self, text: str) -> None:
        self.lines.append(str(text))


class _App:
    """The attributes of QualCoder's ``App`` that ``RefiImport`` / ``RefiExport`` use."""

    def __init__(self, project: Path) -> None:
        self.project_path = str(project)
        self.project_name = project.name
        self.conn = sqlite3.connect(project / "data.qda")
        self.settings = {"codername": "default", "directory": str(project.parent), "ai_enable": "False",
                         "fontsize": 10, "font": "Sans"}
        self.ai_models: list = []
        self.version = "QualCoder (roundtrip)"
        self.project_events = None

    def write_config_ini(self, *_args) -> None:
        """QualCoder stores the coder name in its config; not needed here."""

    def get_annotations(self) -> list[dict]:
        cur = self.conn.cursor()
        cur.execute("select anid, fid, pos0, pos1, memo, owner, date from annotation")
        keys = ("anid", "fid", "pos0", "pos1", "memo", "owner", "date")
        return [dict(zip(keys, row)) for row in cur.fetchall()]


def _schema(checkout: Path) -> list[str]:
    """The CREATE TABLE statements of QualCoder's ``new_project`` (read from the checkout's source)."""
    tree = ast.parse((checkout / "src/qualcoder/__main__.py").read_text(encoding="utf-8"))
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "new_project")
    out = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            sql = node.args[0].value
            if isinstance(sql, str) and sql.lstrip().upper().startswith("CREATE TABLE"):
                out.append(sql)
    if not out:
        sys.exit(f"{checkout}: no CREATE TABLE statements in src/qualcoder/__main__.py new_project(); is this a "
                 "QualCoder checkout?")
    return out


def _load_qualcoder(checkout: Path):
    """Import ``qualcoder.refi`` from the checkout, headless, with dialogs answered by this script."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(checkout / "src"))
    try:
        from PyQt6 import QtWidgets
    except ImportError:
        sys.exit("PyQt6 is not installed: pip install 'PyQt6>=6.5' (QualCoder's GUI toolkit).")
    helpers = types.ModuleType("qualcoder.helpers")

    class Message:
        def __init__(self, _app, title, text, *_rest) -> None:
            print(f"[QualCoder] {title}: {' '.join(str(text).split())[:300]}", file=sys.stderr)

        def exec(self) -> int:
            return 0

    helpers.Message = Message
    sys.modules["qualcoder.helpers"] = helpers
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    QtWidgets.QDialog.exec = lambda self: 0                      # the line-ending question: default answer
    from qualcoder import refi
    return refi, QtWidgets, app


def _new_project(checkout: Path, where: Path) -> _App:
    project = where / "roundtrip.qda"
    for sub in ("", "documents", "images", "audio", "video"):
        (project / sub).mkdir(parents=True, exist_ok=True)
    app = _App(project)
    cur = app.conn.cursor()
    for sql in _schema(checkout):
        cur.execute(sql)
    cur.execute("insert into project (databaseversion, date, memo, about, bookmarkfile, bookmarkpos, codername) "
                "values ('v17', '2020-01-01 00:00:00', '', '', 0, 0, 'default')")
    app.conn.commit()
    return app


def _our_codings(qdpx: Path) -> tuple[Counter, int, int, dict[str, str]]:
    """(source, start, end, user, code name, text) of every coding in our file; codes; sources; texts."""
    with zipfile.ZipFile(qdpx) as zf:
        root = ET.fromstring(zf.read("project.qde"))
        texts = {}
        for src in root.iter(NS + "TextSource"):
            texts[src.get("name")] = zf.read("sources/" + src.get("plainTextPath")[len("internal://"):]).decode()
    users = {u.get("guid"): u.get("name") for u in root.iter(NS + "User")}
    codes = {c.get("guid"): c.get("name") for c in root.iter(NS + "Code") if c.get("isCodable") != "false"}
    want: Counter = Counter()
    for src in root.iter(NS + "TextSource"):
        for sel in src.iter(NS + "PlainTextSelection"):
            s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
            for coding in sel.iter(NS + "Coding"):
                code = codes[coding.find(NS + "CodeRef").get("targetGUID")]
                want[(src.get("name"), s, e, users[sel.get("creatingUser")], code, texts[src.get("name")][s:e])] += 1
    return want, len(codes), len(texts), texts


def import_into_qualcoder(refi, qt, app: _App, qdpx: Path) -> _Log:
    log = _Log()
    original = qt.QFileDialog.getOpenFileName
    qt.QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: (str(qdpx), "*.qdpx"))
    try:
        refi.RefiImport(app, log, "qdpx")
    finally:
        qt.QFileDialog.getOpenFileName = original
    return log


def qualcoder_codings(app: _App) -> Counter:
    cur = app.conn.cursor()
    cur.execute("select s.name, t.pos0, t.pos1, t.owner, c.name, t.seltext from code_text t "
                "left join code_name c on c.cid = t.cid join source s on s.id = t.fid")
    return Counter(tuple(r) for r in cur.fetchall())


def export_from_qualcoder(refi, qt, app: _App, out: Path, work: Path, crlf: bool = False) -> Path:
    """QualCoder's RefiExport of the imported project -> ``out`` (its scratch folders under ``work``).

    ``crlf``: answer its line-ending question with "MAXQDA" (sources written with CRLF line ends).
    """
    def answer(dialog) -> int:
        if crlf and hasattr(dialog, "ui") and hasattr(dialog.ui, "radioButton_maxqda"):
            dialog.ui.radioButton_maxqda.setChecked(True)
        return 0

    qt.QDialog.exec = answer
    home = work / "qualcoder_home"
    (home / ".qualcoder").mkdir(parents=True, exist_ok=True)
    os.environ["HOME"] = str(home)
    target = work / "qualcoder_export"
    target.mkdir(exist_ok=True)
    original = qt.QFileDialog.getExistingDirectory
    qt.QFileDialog.getExistingDirectory = staticmethod(lambda *a, **k: str(target))
    try:
        refi.RefiExport(app, _Log(), "project")
    finally:
        qt.QFileDialog.getExistingDirectory = original
    made = sorted(target.glob("*.qdpx"))
    if not made:
        sys.exit("QualCoder's export wrote no .qdpx")
    shutil.copyfile(made[-1], out)
    return out


def import_back(qdpx: Path, project_root: Path, scratch: Path) -> dict:
    """Our importer on QualCoder's export, in a scratch copy of the project (codebook copied, outputs linked)."""
    from kwalitatief.qda_import import import_qdpx

    root = scratch / "project"
    shutil.copytree(project_root / "codebook", root / "codebook", ignore=shutil.ignore_patterns("annotations"))
    (root / "codebook/annotations").mkdir()
    (root / "outputs").symlink_to((project_root / "outputs").resolve())
    params = None
    if (project_root / "params.yaml").exists():
        import yaml

        params = yaml.safe_load((project_root / "params.yaml").read_text(encoding="utf-8"))
    result = import_qdpx(qdpx, root, params, name="qualcoder", include_machine=True)
    return {"result": result, "lines": result.path.read_text(encoding="utf-8").splitlines()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkout", type=Path, help="a QualCoder checkout (git clone of ccbogel/QualCoder)")
    ap.add_argument("qdpx", type=Path, help="our export (kwal export qdpx ... --include-unreviewed)")
    ap.add_argument("--back", type=Path, help="also export from QualCoder to this .qdpx and import it with kwal")
    ap.add_argument("--crlf", action="store_true", help="with --back: QualCoder writes CRLF sources (its MAXQDA "
                                                         "option; positions stay those of its LF text)")
    ap.add_argument("--project", type=Path, default=Path("."), help="the kwalitatief project (for --back)")
    args = ap.parse_args()
    refi, qt, _qapp = _load_qualcoder(args.checkout.resolve())
    want, n_codes, n_sources, _texts = _our_codings(args.qdpx)
    with tempfile.TemporaryDirectory() as tmp:
        app = _new_project(args.checkout.resolve(), Path(tmp))
        import_into_qualcoder(refi, qt, app, args.qdpx.resolve())
        got = qualcoder_codings(app)
        cur = app.conn.cursor()
        q_codes = cur.execute("select count(*) from code_name").fetchone()[0]
        q_sources = cur.execute("select count(*) from source").fetchone()[0]
        right = sum(min(n, got[k]) for k, n in want.items())
        print(f"QualCoder import: {right} of {sum(want.values())} codings under a code of the right name "
              f"(same source, positions, coder and text); {sum(got.values())} codings in QualCoder in all")
        print(f"  codes: {q_codes} of {n_codes}; sources: {q_sources} of {n_sources}")
        for key in list((want - got).elements())[:5]:
            print(f"  missing: {key[:5]}")
        if args.back:
            export_from_qualcoder(refi, qt, app, args.back.resolve(), Path(tmp), args.crlf)
            back = import_back(args.back.resolve(), args.project.resolve(), Path(tmp))
            result = back["result"]
            n = sum(len(json.loads(x)["codes"]) for x in back["lines"])
            print(f"QualCoder export -> kwal import: {result.n_codings} of {sum(got.values())} codings read, "
                  f"{n} codes on {len(back['lines'])} (fragment, coder) lines, "
                  f"{len(result.matched_sources)} of {q_sources} sources matched, {len(result.problems)} problems")
            for line in result.readings[:3] + result.problems[:5]:
                print(f"  {line}")
        ok = right == sum(want.values()) and q_codes == n_codes and q_sources == n_sources
        if args.back:
            ok = ok and result.n_codings == sum(got.values()) and not result.problems
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
