"""Reading pages as HTML (the standard library's parser), not as strings to slice.

page = parse(response.text)
page.by_id("contacts-panel").find_all(class_="contact-row")
page.find(tag="input", name="credit_limit").ancestor(class_="input-group")
"""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    def __repr__(self):
        return f"<{self.tag} {self.attrs}>"

    @property
    def elements(self) -> list[Element]:
        """The child elements (text left out)."""
        return [child for child in self.children if isinstance(child, Element)]

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    @property
    def text(self) -> str:
        """The element's text, whitespace collapsed."""
        parts = []

        def walk(node):
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                else:
                    walk(child)

        walk(self)
        return " ".join("".join(parts).split())

    def matches(self, tag=None, class_=None, **attrs) -> bool:
        if tag is not None and self.tag != tag:
            return False
        if class_ is not None and not set(class_.split()) <= self.classes:
            return False
        return all(self.attrs.get(name.rstrip("_").replace("_", "-")) == value for name, value in attrs.items())

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag=None, class_=None, **attrs) -> list[Element]:
        return [element for element in self.iter() if element.matches(tag, class_, **attrs)]

    def find(self, tag=None, class_=None, **attrs) -> Element:
        found = self.find_all(tag, class_, **attrs)
        assert found, f"no element matching tag={tag} class={class_} {attrs}"
        return found[0]

    def by_id(self, id_: str) -> Element:
        return self.find(id=id_)

    def ancestor(self, tag=None, class_=None, **attrs) -> Element:
        node = self.parent
        while node is not None:
            if node.matches(tag, class_, **attrs):
                return node
            node = node.parent
        raise AssertionError(f"no ancestor matching tag={tag} class={class_} {attrs}")


class _Builder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Element("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, {name: value or "" for name, value in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:  # an unmatched end tag is ignored
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root
