"""The QR code students scan to join, drawn here as SVG (no outside service: a classroom
without internet still gets one)."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str, title: str) -> str:
    """An SVG QR code for ``url`` that scales with its box (no fixed width or height), dark
    modules on white with the quiet zone the standard asks for.

    >>> svg = qr_svg("http://podpath.example/join/ABCDEF", "Join the class")
    >>> svg.startswith("<svg") and "<title>Join the class</title>" in svg, "width=" in svg
    (True, False)
    """
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(
        out, kind="svg", xmldecl=False, svgns=True, title=title, svgclass="qr", lineclass=None,
        omitsize=True, border=4, dark="#000", light="#fff",
    )  # fmt: skip
    return out.getvalue().decode()
