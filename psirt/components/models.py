"""Bills of materials per firmware release, third-party vulnerability data and VEX decisions.

Component versions are stored once and shared: a release links to the versions its SBOM lists, so a catalog of
1,000 products × 50 releases × 300 components holds the few thousand distinct versions once plus one narrow link
row per (release, version). Matches between vulnerabilities and components are kept per component version
(`VulnerabilityMatch`); which releases are affected is a join through the links, so a new release or a new
vulnerability record only matches what is new."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from psirt.cases.models import Case
from psirt.catalog.models import FirmwareRelease
from psirt.lib.i18n import pick_language


class Component(models.Model):
    """A third-party package, named as a package URL without version: type, namespace and name, normalised the
    way packageurl-python does (lower-case type; the name as the type's rules say)."""

    purl_type = models.CharField(max_length=32)
    namespace = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=255)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["purl_type", "namespace", "name"], name="component_unique_purl"),
        ]
        indexes = [models.Index(fields=["purl_type", "name"], name="component_type_name")]

    def __str__(self) -> str:
        return self.purl

    @property
    def purl(self) -> str:
        return f"pkg:{self.purl_type}/" + (f"{self.namespace}/" if self.namespace else "") + self.name


class ComponentVersion(models.Model):
    """One version of a component, shared by every release that contains it."""

    # db_index=False here and below: a unique constraint or index that starts with the column already serves
    # it, and every extra index is written on each of the millions of rows an import adds.
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="versions", db_index=False)
    version = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["component", "version"], name="component_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.component.purl}@{self.version}"


class SbomFormat(models.TextChoices):
    CYCLONEDX = "cyclonedx", "CycloneDX"
    SPDX = "spdx", "SPDX"


class SbomDocument(models.Model):
    """An SBOM as uploaded (zlib-compressed bytes, byte-identical after decompression), the current one of its
    release being the newest. Kept for the support period plus the retention years (`services.delete_sbom`)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    release = models.ForeignKey(FirmwareRelease, on_delete=models.PROTECT, related_name="sboms")
    format = models.CharField(max_length=16, choices=SbomFormat.choices)
    spec_version = models.CharField(max_length=16)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content = models.BinaryField()
    filename = models.CharField(max_length=255, blank=True)
    component_count = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.format} {self.spec_version} {self.sha256[:12]}"


class ReleaseComponent(models.Model):
    """The link: release R contains component version V (from its current SBOM)."""

    release = models.ForeignKey(
        FirmwareRelease, on_delete=models.CASCADE, related_name="component_links", db_index=False
    )
    component_version = models.ForeignKey(
        ComponentVersion, on_delete=models.PROTECT, related_name="release_links", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "component_version"], name="release_component_unique"),
        ]
        indexes = [models.Index(fields=["component_version", "release"], name="release_component_by_version")]

    def __str__(self) -> str:
        return f"{self.release_id} → {self.component_version_id}"


class Vulnerability(models.Model):
    """A vulnerability in third-party code, from OSV, CVE JSON 5 or an upstream CSAF advisory. `vuln_id` is the
    record's own ID (CVE-…, GHSA-…, OSV-…); `aliases` the other IDs it is known by; `content_hash` the SHA-256 of
    the normalised record, so importing the same data again changes nothing."""

    vuln_id = models.CharField(max_length=100, unique=True)
    aliases = models.JSONField(default=list)
    summary = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=16)
    content_hash = models.CharField(max_length=64)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["vuln_id"]

    def __str__(self) -> str:
        return self.vuln_id

    @property
    def cve_ids(self) -> list[str]:
        return [i for i in [self.vuln_id, *self.aliases] if i.upper().startswith("CVE-")]


class VulnerabilityAlias(models.Model):
    """Every ID a vulnerability answers to (its own included), upper-case, for lookups by CVE."""

    vulnerability = models.ForeignKey(
        Vulnerability, on_delete=models.CASCADE, related_name="alias_rows", db_index=False
    )
    alias = models.CharField(max_length=100, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vulnerability", "alias"], name="vuln_alias_unique")]

    def __str__(self) -> str:
        return self.alias


class AffectedPackage(models.Model):
    """One affected package of a vulnerability with its ranges: `events` are OSV-style events
    ([{"introduced": "3.0.0"}, {"fixed": "3.0.14"}], "last_affected" too), `versions` explicit affected versions."""

    vulnerability = models.ForeignKey(Vulnerability, on_delete=models.CASCADE, related_name="packages")
    purl_type = models.CharField(max_length=32)
    namespace = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=255)
    events = models.JSONField(default=list)
    versions = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["purl_type", "name"], name="affected_package_type_name")]

    def __str__(self) -> str:
        return f"{self.purl_type}/{self.name}"


class VulnerabilityMatch(models.Model):
    """Component version V lies in an affected range of vulnerability X."""

    vulnerability = models.ForeignKey(Vulnerability, on_delete=models.CASCADE, related_name="matches", db_index=False)
    component_version = models.ForeignKey(
        ComponentVersion, on_delete=models.CASCADE, related_name="matches", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vulnerability", "component_version"], name="vuln_match_unique"),
        ]
        indexes = [models.Index(fields=["component_version", "vulnerability"], name="vuln_match_by_version")]

    def __str__(self) -> str:
        return f"{self.vulnerability_id} ↔ {self.component_version_id}"


class VexStatus(models.TextChoices):
    NOT_AFFECTED = "not_affected", _("Not affected")
    AFFECTED = "affected", _("Affected")
    FIXED = "fixed", _("Fixed")
    UNDER_INVESTIGATION = "under_investigation", _("Under investigation")


class Justification(models.TextChoices):
    """The five standard justifications (CSAF 2.0 flags, OpenVEX, CycloneDX share the meaning)."""

    COMPONENT_NOT_PRESENT = "component_not_present", _("Component not present")
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present", _("Vulnerable code not present")
    NOT_IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path", _("Vulnerable code not in execute path")
    CANNOT_BE_CONTROLLED = (
        "vulnerable_code_cannot_be_controlled_by_adversary",
        _("Vulnerable code cannot be controlled by adversary"),
    )
    INLINE_MITIGATIONS = "inline_mitigations_already_exist", _("Inline mitigations already exist")


class BilingualStatements:
    """The statements of a decision in the visitor's language, for anything holding `impact_statement`,
    `action_statement` and their Chinese `*_zh` translations (a decision, a public answer)."""

    impact_statement: str
    impact_statement_zh: str
    action_statement: str
    action_statement_zh: str

    @property
    def impact(self) -> str:
        """The impact statement in the visitor's language (English when there is no Chinese one)."""
        return pick_language(self.impact_statement, self.impact_statement_zh)

    @property
    def action(self) -> str:
        """The action statement in the visitor's language (English when there is no Chinese one)."""
        return pick_language(self.action_statement, self.action_statement_zh)


class VexDecision(BilingualStatements, models.Model):
    """One decision about (release, vulnerability). Rows are never changed: a new decision is a new row and the
    newest one is current, so the history of every pair is kept."""

    release = models.ForeignKey(FirmwareRelease, on_delete=models.PROTECT, related_name="vex_decisions")
    vulnerability = models.ForeignKey(Vulnerability, on_delete=models.PROTECT, related_name="decisions")
    status = models.CharField(max_length=24, choices=VexStatus.choices)
    justification = models.CharField(max_length=64, choices=Justification.choices, blank=True)
    # The statements in English (required by the status, the language of every VEX format) and, optionally, in
    # Simplified Chinese for Chinese pages, answers and the CSAF translation.
    impact_statement = models.TextField(blank=True)
    impact_statement_zh = models.TextField(blank=True)
    action_statement = models.TextField(blank=True)
    action_statement_zh = models.TextField(blank=True)
    fixed_in = models.ForeignKey(FirmwareRelease, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    maintainer_notified_at = models.DateField(null=True, blank=True)
    maintainer_notice = models.CharField(max_length=500, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["release", "vulnerability", "-id"], name="vex_decision_current")]

    def __str__(self) -> str:
        return f"{self.release_id}/{self.vulnerability_id}: {self.status}"
