"""The POST forms of a page, with the values they show, as a browser would send them."""

from html.parser import HTMLParser
from typing import Any


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.form: dict[str, Any] | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attributes}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.form = {"action": a.get("action", ""), "data": {}}
            self.forms.append(self.form)
        if self.form is None:
            return
        data = self.form["data"]
        name = a.get("name", "")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    data.setdefault(name, []).append(a.get("value", "on"))
            elif kind not in ("submit", "button", "file"):
                data[name] = a.get("value", "")
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select:
            if "selected" in a or self.select not in data:
                data[self.select] = a.get("value", "")
        elif tag == "textarea":
            self.textarea = name
            data[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, text: str) -> None:
        if self.textarea and self.form is not None:
            self.form["data"][self.textarea] += text


def post_forms(html: str) -> list[dict[str, Any]]:
    """Each POST form: ``{"action": ..., "data": {name: value or [values]}}``."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms
