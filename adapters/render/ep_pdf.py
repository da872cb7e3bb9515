"""An EP session's agenda and minutes as PDF, the same text as the HTML pages
(`adapters.render.ep_html`). fpdf2 is imported here only, when a PDF is asked for: the API's and
the command line's start stay light.

French text needs a Unicode font: DejaVu Sans from the system's fonts (Debian's
fonts-dejavu-core, in the image). Without it, the PDF falls back to the PDF's own Helvetica,
whose Latin-1 covers the accents; the few characters outside it (dashes, quotes, œ) are
replaced by their nearest Latin-1 form."""

from pathlib import Path

from adapters.render.ep_html import Document

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
"""Where DejaVu Sans is looked for (Debian, then other distributions' layout)."""

_LATIN1 = str.maketrans({"—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "œ": "oe"})


def _font() -> tuple[Path, Path] | None:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def pdf(document: Document) -> bytes:
    """The document on A4 landscape pages: title, heading lines, then the table of points
    (its header repeated on each page)."""
    from fpdf import FPDF  # heavy (fontTools, Pillow): only when a PDF is asked for
    from fpdf.fonts import FontFace

    out = FPDF(orientation="landscape", format="A4")
    out.set_creator("parcours")
    out.set_title(document.titre)
    out.set_margins(12, 12, 12)
    out.set_auto_page_break(auto=True, margin=12)
    font = _font()
    if font is not None:
        out.add_font("DejaVu", "", str(font[0]))
        out.add_font("DejaVu", "B", str(font[1]))
        family = "DejaVu"

        def text(value: str) -> str:
            return value

    else:
        family = "Helvetica"

        def text(value: str) -> str:
            return value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    out.add_page()
    out.set_font(family, "B", 15)
    out.multi_cell(0, 8, text(document.titre), new_x="LMARGIN", new_y="NEXT")
    out.ln(2)
    for label, value in document.entete:
        out.set_font(family, "B", 10)
        out.cell(55, 6, text(label))
        out.set_font(family, "", 10)
        out.multi_cell(0, 6, text(value), new_x="LMARGIN", new_y="NEXT")
    out.ln(4)
    out.set_font(family, "", 9)
    with out.table(
        headings_style=FontFace(family=family, emphasis="BOLD", fill_color=(235, 235, 235)),
        line_height=5,
        repeat_headings=1,
        text_align="LEFT",
    ) as table:
        row = table.row()
        for column in document.colonnes:
            row.cell(text(column))
        for line in document.lignes:
            row = table.row()
            for cell in line:
                row.cell(text(cell))
    return bytes(out.output())
