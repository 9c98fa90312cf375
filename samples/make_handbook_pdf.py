"""Regenerate samples/docs/halden-handbook.pdf (a born-digital, two-page PDF) with reportlab."""

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

PAGES = [
    (
        "Halden Instruments: company overview",
        "Halden Instruments is a maker of marine sensors. The company was founded in 1998 by "
        "Ingrid Voss, an oceanographer. Halden Instruments is headquartered in Tromsø, Norway. "
        "Its flagship product is the Kelvin-7 buoy, which measures sea temperature and salinity "
        "in polar waters.",
    ),
    (
        "Engineering and research",
        "The Kelvin-7 buoy was designed by Tomas Reyes, the chief engineer of Halden Instruments. "
        "Tomas Reyes also leads the Arctic Drift project, which places buoys along the edge of "
        "the sea ice. The Arctic Drift project is funded by the Nordic Ocean Fund.",
    ),
]


def main() -> None:
    out = Path(__file__).parent / "docs" / "halden-handbook.pdf"
    styles = getSampleStyleSheet()
    story = []
    for i, (heading, body) in enumerate(PAGES):
        story += [Paragraph(heading, styles["Heading1"]), Paragraph(body, styles["BodyText"])]
        if i < len(PAGES) - 1:
            story.append(PageBreak())
    doc = SimpleDocTemplate(str(out), pagesize=A4, title="Halden Instruments Handbook")
    doc.build(story)


if __name__ == "__main__":
    main()
