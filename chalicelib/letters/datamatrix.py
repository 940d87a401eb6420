"""Data Matrix (ECC 200) symbols, with pyStrich: pure Python, no libdmtx to ship to Lambda."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pystrich.datamatrix import DataMatrixData, DataMatrixEncoder

if TYPE_CHECKING:
    from PIL.Image import Image

QUIET_ZONE = 2  # modules of white around the symbol, as readers need


def encoder(payload: str) -> DataMatrixEncoder:
    # An explicit encoding: pyStrich's plain-str path is deprecated and mangles non-ASCII.
    data = DataMatrixData(payload, encoding="ascii" if payload.isascii() else "utf-8")
    return DataMatrixEncoder(data, quiet_zone=QUIET_ZONE)


def modules(payload: str) -> list[str]:
    """The symbol as rows of "1" (dark) and "0" (light), finder pattern and quiet zone included."""
    rows = encoder(payload).init_renderer().matrix
    return ["".join("1" if cell else "0" for cell in row) for row in rows]


def image(payload: str, module_px: int = 4) -> Image:
    """A black-on-white image of the symbol; the PDF scales it, so a few pixels a module do."""
    return encoder(payload).get_pilimage(module_px)
