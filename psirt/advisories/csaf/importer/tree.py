"""The CSAF product tree resolved to what psirt's catalog can hold: every product ID (a branch leaf, a full product
name or a relationship) becomes a product line, product, variant and version; psirt's own product IDs give back
the product slug and release UUID."""

from __future__ import annotations

import re
from dataclasses import dataclass

from psirt.advisories.csaf.importer.base import JSON, one_line
from psirt.formats import model as fm

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UUID_TAIL = re.compile(rf"^CSAFPID-(?P<slug>[a-z0-9.+-]+)-(?P<uuid>{_UUID})$")


@dataclass
class _Leaf:
    """A product of the tree: where it sits (vendor, family, product name, variant) and its version, if any."""

    pid: str
    full_name: str
    line: str
    product: str  # the product_name branch, "" when the leaf is not under one
    version: str  # the product_version / product_version_range branch name, "" for a product without version
    is_range: bool = False
    variant: str = ""
    model_numbers: tuple[str, ...] = ()


@dataclass
class TreeTarget:
    """One (catalog product, variant, version) a product status names; version "" means the product as a whole."""

    line: str
    product: str
    variant: str = ""
    version: str = ""
    is_range: bool = False
    hardware: str = ""
    slug_hint: str = ""
    release_hint: str = ""


def _walk(branches: list[JSON] | None, path: list[tuple[str, str]], out: list[_Leaf], publisher: str) -> None:
    for branch in branches or []:
        here = [*path, (str(branch.get("category", "")), one_line(branch.get("name", ""), 1000))]
        if isinstance(branch.get("product"), dict):
            out.append(_leaf(branch["product"], here, publisher))
        _walk(branch.get("branches"), here, out, publisher)


def _leaf(product: JSON, path: list[tuple[str, str]], publisher: str) -> _Leaf:
    def last(*categories: str) -> str:
        return next((name for cat, name in reversed(path) if cat in categories), "")

    vendor, family = last("vendor"), last("product_family")
    version_category = path[-1][0] if path else ""
    helper = product.get("product_identification_helper") or {}
    return _Leaf(
        pid=str(product.get("product_id", "")),
        full_name=one_line(product.get("name", ""), 1000),
        line=family or vendor or publisher,
        product=last("product_name"),
        version=path[-1][1] if version_category in ("product_version", "product_version_range") else "",
        is_range=version_category == "product_version_range",
        variant=" / ".join(name for cat, name in path if cat == "specification"),
        model_numbers=tuple(str(m) for m in helper.get("model_numbers") or () if str(m).strip()),
    )


class ProductTree:
    """The product tree with every product ID resolved to what psirt's catalog can hold."""

    def __init__(self, tree: JSON, publisher: str) -> None:
        self.leaves: list[_Leaf] = []
        _walk(tree.get("branches"), [], self.leaves, publisher)
        for item in tree.get("full_product_names") or []:
            self.leaves.append(_leaf(item, [], publisher))
        self.by_pid = {leaf.pid: leaf for leaf in self.leaves}
        self.relationships = {
            str(r["full_product_name"]["product_id"]): r
            for r in tree.get("relationships") or []
            if isinstance(r.get("full_product_name"), dict)
        }
        # Product names that are the hardware of a firmware product ("X" for "X firmware", psirt's own shape).
        self.hardware_of: dict[str, str] = {}
        for rel in self.relationships.values():
            if rel.get("category") != "installed_on":
                continue
            ref = self.by_pid.get(str(rel.get("product_reference")))
            to = self.by_pid.get(str(rel.get("relates_to_product_reference")))
            if ref and to and ref.product and ref.product == f"{to.product} firmware":
                self.hardware_of[to.product] = ref.product

    def catalog_leaves(self) -> list[_Leaf]:
        """Leaves that are catalog entries by themselves: the versions under a product name, in tree order (the
        hardware revisions of a firmware product are not releases)."""
        return [leaf for leaf in self.leaves if leaf.product and leaf.product not in self.hardware_of]

    def target(self, leaf: _Leaf) -> TreeTarget:
        name = leaf.product
        if name.endswith(" firmware") and name in self.hardware_of.values():
            name = name[: -len(" firmware")]
        if not name:
            return TreeTarget(line=leaf.line, product=leaf.full_name)
        slug_hint, release_hint = _hints(leaf)
        return TreeTarget(
            line=leaf.line,
            product=name,
            variant=leaf.variant,
            version=leaf.version,
            is_range=leaf.is_range,
            slug_hint=slug_hint,
            release_hint=release_hint,
        )

    def resolve(self, pid: str, depth: int = 0) -> TreeTarget | None:
        if pid in self.by_pid:
            return self.target(self.by_pid[pid])
        rel = self.relationships.get(pid)
        if rel is None or depth > 8:
            return None
        ref = self.resolve(str(rel.get("product_reference")), depth + 1)
        to = self.resolve(str(rel.get("relates_to_product_reference")), depth + 1)
        if ref is None or to is None:
            return ref or to
        category = rel.get("category")
        if category in ("default_component_of", "optional_component_of"):
            # A component (package) of a platform: a release of the platform, named by the component.
            component = self.by_pid.get(str(rel.get("product_reference")))
            version = ref.version or (component.full_name if component else "") or ref.product
            return TreeTarget(line=to.line, product=to.product, variant=to.variant, version=version)
        if category == "installed_on" and to.product in self.hardware_of:
            return TreeTarget(
                line=ref.line,
                product=ref.product,
                variant=ref.variant,
                version=ref.version,
                is_range=ref.is_range,
                hardware=to.version,
                slug_hint=ref.slug_hint,
                release_hint=ref.release_hint,
            )
        return ref


def _hints(leaf: _Leaf) -> tuple[str, str]:
    """The product slug (and catalog release UUID) inside a product ID psirt wrote (`CSAFPID-<slug>-<version part>`,
    see psirt.formats.model), so a round trip keeps the same product IDs; ("", "") for other IDs."""
    if match := _UUID_TAIL.match(leaf.pid):
        return match["slug"], match["uuid"]
    if leaf.version and not leaf.is_range:
        tail = "-".join(p for p in (fm.slug(leaf.variant), fm.slug(leaf.version)) if p)
        if tail and leaf.pid.startswith("CSAFPID-") and leaf.pid.endswith("-" + tail):
            return leaf.pid[len("CSAFPID-") : -len(tail) - 1], ""
    return "", ""
