"""``kwal``: the researcher's command line over the library and the DVC pipeline."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import click

from .config import ConfigError, load_params
from .corpus import RegisterError, load_register


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _doc_type_for(path: Path, corpus_dir: Path, given: str | None) -> tuple[str, str]:
    """(doc_id, doc_type) of a path: from the manifest when the file is registered there."""
    if given:
        return path.stem, given
    manifest = corpus_dir / "manifest.csv"
    if manifest.exists():
        import csv

        with open(manifest, encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                if (corpus_dir / row.get("path", "")).resolve() == path.resolve():
                    return row["doc_id"], row["doc_type"]
    return path.stem, "overig"


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="More log output.")
def main(verbose: bool) -> None:
    """kwalitatief: extract, code, review and aggregate a Dutch qualitative corpus."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--force", is_flag=True, help="Rerun every stage even if nothing changed.")
def run(force: bool) -> None:
    """Run the pipeline (dvc repro) and say where the outputs are."""
    if not Path("dvc.yaml").exists():
        _fail("no dvc.yaml here; run kwal from the project root.")
    cmd = [sys.executable, "-m", "dvc", "repro"] + (["--force"] if force else [])
    proc = subprocess.run(cmd, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    click.echo(proc.stdout, nl=False)
    if proc.returncode != 0:
        _fail("the pipeline stopped; the messages above name the stage and the problem.", proc.returncode)
    if "Data and pipelines are up to date" in proc.stdout or "didn't change, skipping" in proc.stdout and "Running stage" not in proc.stdout:
        click.echo("Nothing changed since the last run: no stage was rerun.")
    from .summary import summarise_outputs

    click.echo(summarise_outputs())


@main.command("extract-text")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--doc-type", default=None, help="Document type (default: from corpus/manifest.csv, else overig).")
@click.option("--corpus", "corpus_dir", default="corpus", type=click.Path(path_type=Path))
def extract_text(path: Path, doc_type: str | None, corpus_dir: Path) -> None:
    """Print the cleaned text of one document (to check an extraction)."""
    from .ingest import ExtractionError, extract_document

    doc_id, kind = _doc_type_for(path, corpus_dir, doc_type)
    try:
        extracted = extract_document(doc_id, path, kind)
    except ExtractionError as exc:
        _fail(f"{path}: {exc}")
    click.echo(extracted.text)


@main.command()
@click.option("--params", default="params.yaml", type=click.Path(path_type=Path))
@click.option("--codebook", "codebook_path", default=None, type=click.Path(path_type=Path),
              help="Codebook to validate (default: codebook/codebook.yaml).")
def check(params: Path, codebook_path: Path | None) -> None:
    """Validate the corpus register and the codebook; exit non-zero on any error."""
    errors: list[str] = []
    try:
        settings = load_params(params)
    except ConfigError as exc:
        _fail(str(exc))
    corpus = settings.get("corpus", {})
    try:
        register = load_register(corpus.get("dir", "corpus"), corpus.get("manifest"),
                                 corpus.get("respondents"), corpus.get("regions"))
        click.echo(f"corpus register: {len(register.documents)} documents, "
                   f"{len(register.respondents)} respondents, {len(register.regions)} regions: ok")
    except RegisterError as exc:
        errors.extend(exc.problems)
    try:
        from .codebook import check_codebook
    except ImportError:
        check_codebook = None
    if check_codebook is not None:
        errors.extend(check_codebook(codebook_path or Path("codebook/codebook.yaml"), settings))
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors:
        sys.exit(1)
    click.echo("all checks passed")


if __name__ == "__main__":
    main()
