"""The report's HTML: one page skeleton (inline style, no script, nothing fetched from a network), escaping,
relative links, and the few building blocks every page uses (facts tables, figures, JSON blocks).

Every link is relative to the page that holds it, so the site opens from the file system and still works
after the folder is moved or copied.
"""
from __future__ import annotations

import json
import posixpath
import re
from html import escape
from pathlib import Path
from typing import Any, Iterable

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; }
nav { font-size: 0.9em; margin-bottom: 1em; } nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
table.main { font-size: 0.8em; } table.main td { white-space: nowrap; } table.main td.value { text-align: right; }
.wide { overflow-x: auto; }
.seeds { font-size: 0.8em; } .seeds a { margin-left: 0.3em; }
.note { color: #555; font-size: 0.9em; } .error { color: #a00; } .warning { color: #a60; }
figure { margin: 0.8em 0; } figcaption { font-size: 0.85em; color: #555; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.gallery { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
.gallery figure { max-width: 440px; } .gallery img { max-height: 420px; width: auto; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
"""


def text(value: Any) -> str:
    """`value` as HTML text."""
    return escape(str(value), quote=True)


def link(from_page: str, to: str) -> str:
    """The relative URL of `to` (a path inside the site, "/"-separated) from the page `from_page`."""
    base = posixpath.dirname(from_page) or "."
    return posixpath.relpath(to, base)


def anchor(from_page: str, to: str, label: str, escaped: bool = False) -> str:
    return f'<a href="{text(link(from_page, to))}">{label if escaped else text(label)}</a>'


def slug(name: str) -> str:
    """A file-name-safe form of a name (a row label such as `cca [1a2b]`, a class name)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")
    return cleaned or "x"


def page(title: str, here: str, body: str, nav: Iterable[tuple[str, str]] = ()) -> str:
    """A whole HTML document: `title`, a navigation line (label, site path) and `body`."""
    links = " ".join(anchor(here, to, label) for label, to in nav)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{text(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"<nav>{links}</nav>\n<h1>{text(title)}</h1>\n{body}\n</body>\n</html>\n")


def facts(rows: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of (name, value), values escaped."""
    body = "".join(f"<tr><th>{text(k)}</th><td>{text(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>" if body else '<p class="note">none</p>'


def figure(here: str, image: str, caption: str = "", to: str | None = None) -> str:
    """An image (a site path) with its caption; with `to` (a site path), the image links there."""
    alt = caption or posixpath.basename(image)
    cap = f"<figcaption>{text(caption)}</figcaption>" if caption else ""
    img = f'<img src="{text(link(here, image))}" alt="{text(alt)}">'
    if to is not None:
        img = f'<a href="{text(link(here, to))}">{img}</a>'
    return f"<figure>{img}{cap}</figure>"


def json_block(value: Any) -> str:
    """`value` as indented JSON in a <pre> block."""
    return f"<pre>{text(json.dumps(value, indent=2, sort_keys=True, default=str))}</pre>"


def write(root: Path, path: str, document: str) -> Path:
    """Write a page at site path `path` under `root`."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(document, encoding="utf-8")
    return target
