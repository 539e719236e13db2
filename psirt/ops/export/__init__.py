"""The public site as static files (`psirt export-site DIR`): see docs/operations.md, "The public site as static
files". Import from this package: its names are the public interface."""

from psirt.ops.export.files import ExportRefused
from psirt.ops.export.links import Target, UnsafeUrl, target
from psirt.ops.export.site import ExportSummary, export_site

__all__ = ["ExportRefused", "ExportSummary", "Target", "UnsafeUrl", "export_site", "target"]
