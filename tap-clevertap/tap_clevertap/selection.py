"""Property deselection that costs nothing when nothing is deselected."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import SelectionMask


class SelectionPruner:
    """Removes deselected properties from records, walking only deselected breadcrumbs.

    Equivalent to the SDK's ``pop_deselected_record_properties``: a property missing from the
    catalog metadata inherits its parent's selection, so only breadcrumbs that the metadata
    declares (and marks deselected) can ever remove anything. Free-form objects are not walked.
    """

    def __init__(self, mask: SelectionMask) -> None:
        """Collect the deselected property paths, outermost first."""
        paths: list[tuple[str, ...]] = []
        for breadcrumb, selected in mask.items():
            if selected or not breadcrumb:
                continue
            if len(breadcrumb) % 2 or any(b != "properties" for b in breadcrumb[::2]):
                continue  # not a property path (e.g. array items); the SDK ignores those too
            path = tuple(breadcrumb[1::2])
            if not any(path[: len(p)] == p for p in paths):
                paths.append(path)
        paths.sort(key=len)
        self.paths = [p for p in paths if not any(q != p and p[: len(q)] == q for q in paths)]

    def prune(self, record: dict[str, t.Any]) -> None:
        """Pop every deselected property from the record, in place."""
        for path in self.paths:
            node: t.Any = record
            for key in path[:-1]:
                node = node.get(key) if isinstance(node, dict) else None
                if node is None:
                    break
            if isinstance(node, dict):
                node.pop(path[-1], None)
