"""Build the two fictional policy PDFs of the mantelzorg study (deterministic: reportlab ``invariant=1``).

Run from the repository root: ``python studies/mantelzorg/corpus/build/build_pdfs.py`` (needs reportlab).
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

HERE = Path(__file__).resolve().parent
DOCUMENTS = {
    "nota_deventer.pdf": ("Beleidsnota mantelzorg Deventer 2024-2027 (fictief)", [
        "Deze nota beschrijft hoe de gemeente mantelzorgers de komende vier jaar ondersteunt. Het uitgangspunt "
        "is dat mantelzorgers hun zorg kunnen volhouden zonder overbelast te raken.",
        "Uit de peiling onder inwoners blijkt dat veel mantelzorgers zorg combineren met werk. Werkgevers worden "
        "gevraagd om mantelzorgvriendelijk beleid en flexibele uren.",
        "Elke mantelzorger kan een keukentafelgesprek krijgen met een mantelzorgconsulent van het wijkteam. In "
        "dat gesprek kijken we samen welke ontlasting past.",
    ]),
    "nota_heerlen.pdf": ("Beleidsnota mantelzorg Heerlen (fictief)", [
        "Heerlen wil dat mantelzorgers tijdig lucht krijgen. Daarom breiden we de respijtzorg uit: meer plekken "
        "in de dagopvang en een tweede logeerhuis.",
        "Mantelzorgers die zich eenzaam voelen, kunnen terecht bij de lotgenotengroepen van het steunpunt.",
    ]),
}


def build(path: Path, title: str, paragraphs: list[str]) -> None:
    styles = getSampleStyleSheet()
    story = [Paragraph(title, styles["Title"]), Spacer(1, 12)]
    for text in paragraphs:
        story += [Paragraph(text, styles["BodyText"]), Spacer(1, 8)]
    SimpleDocTemplate(str(path), pagesize=A4, title=title, author="kwalitatief (fictief)",
                      invariant=1).build(story)


if __name__ == "__main__":
    for name, (title, paragraphs) in DOCUMENTS.items():
        build(HERE.parent / "documents" / name, title, paragraphs)
