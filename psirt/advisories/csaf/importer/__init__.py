"""CSAF 2.0 import: existing advisories become published psirt advisories, so a vendor can move its old
pages over (`psirt import-csaf FILE_OR_DIR…`).

What is kept, and where:
* The whole document is stored on the advisory (`Advisory.source_csaf`).
  `psirt.advisories.csaf.documents.imported_document` says when psirt should serve it as the advisory's CSAF: until
  the advisory is revised or withdrawn in psirt, and only when its publisher is this organization (a trusted
  provider's documents name the provider's publisher). A foreign document can say more than our rows hold (several
  vulnerabilities with their own scores, branch categories we do not model, notes of other kinds, other ID systems);
  nothing of it is lost.
* The rows hold what psirt shows and searches: title, the summary / description / impact / workaround notes (the
  vulnerabilities' descriptions when the document has none), the highest CVSS v3.x score of the vulnerabilities
  (v3.0 vectors are read as v3.1: same metrics), the highest CVSS v4.0 vector found in a vulnerability note (where
  CSAF 2.0 writers, psirt included, put it), the CWE of the highest-scored vulnerability, CVE / CNVD / CNNVD IDs,
  external references ("self" ones are the old document's own addresses), acknowledgments (one credit line each),
  the strongest exploitation status of the threats, and the revision history (renumbered 1, 2, … in date order as
  psirt sorts it; the original numbers stay in the document). Unscored documents keep their rating word
  (Red Hat's "Important" → High).
* Products: one product line per product family (the vendor's name when the tree has no family), reused by its
  English name; one product per `product_name` branch, reused by name within the line; one firmware release per
  `product_version`, in the order the tree lists them (numbered 10, 20, … after the releases a reused product
  already has). A `specification` branch is a region/operator variant (what psirt writes); other branch categories
  (architecture, …) are not modelled. The affected table gets one row per product and variant: from the first
  `known_affected` release up to the first `first_fixed` / `fixed` release after them; a product with only fixed
  releases is affected before the first of them; a product named without versions is affected as a whole. A
  `vers` range gives its bounds (created as releases when missing, the lower one just before the upper one). A
  vendor fix's URL and date become the fixed release's download link and release date. Relationships are followed:
  a component of a platform (`default_component_of`) is a release of the platform product; firmware `installed_on`
  hardware whose product name is the firmware's without " firmware" is one product with those hardware revisions
  (psirt's own shape). Product IDs psirt wrote (`CSAFPID-<slug>-…`) give back the product slug and release UUID, so
  a round trip keeps the IDs consumers know.
* The advisory keeps its tracking ID as advisory ID (old links and CSAF consumers still match). An ID of psirt's
  own shape `<PREFIX>-SA-<YYYY>-<NNN>` takes that year and number when free, and the year's sequence moves past it
  so psirt's next own number never collides; any other ID takes the next number of its year.
* A translation document (`source_lang` set; zh-Hans, as psirt writes them) fills the Chinese texts of an advisory
  imported from its original.
* Subscribers are not notified: an imported advisory is old news moved over, not a publication. The CSAF provider
  tree is updated after the commit (once per batch from the command).

Profiles: `csaf_security_advisory` and `csaf_vex` (both are vulnerabilities with product statuses). A
`csaf_informational_advisory` has no vulnerabilities and `csaf_base` no rules to map, so they are refused with a
message saying so.

Every document is validated first (strict schema + mandatory tests) and imported in one transaction with its audit
record; re-importing the same document changes nothing ("unchanged"), a newer version (later
current_release_date) updates the advisory and adds the new revisions; a changed document under the same version,
an older version, or an advisory written or revised in psirt is refused.

The package, by concern: `files` (reading and checking what is named), `tree` (the product tree resolved),
`parse` (the document mapped to a plan, no database), `catalog` (catalog and affected rows written), `stored`
(the stored original), `write` (one advisory in one transaction), `translation`, and `core` (the entry points).
"""

from psirt.advisories.csaf.importer.base import JSON, ImportResult, Outcome, Refused, shown
from psirt.advisories.csaf.importer.catalog import POSITION_STEP
from psirt.advisories.csaf.importer.core import import_csaf, import_paths
from psirt.advisories.csaf.importer.files import MAX_BYTES, MAX_FILES, iter_files, read_document
from psirt.advisories.csaf.importer.parse import IMPORTABLE, MAX_ID, MAX_LIST, MAX_SUMMARY, MAX_TITLE, parse
from psirt.advisories.csaf.importer.write import logger, sync_tree

__all__ = [
    "IMPORTABLE",
    "JSON",
    "MAX_BYTES",
    "MAX_FILES",
    "MAX_ID",
    "MAX_LIST",
    "MAX_SUMMARY",
    "MAX_TITLE",
    "POSITION_STEP",
    "ImportResult",
    "Outcome",
    "Refused",
    "import_csaf",
    "import_paths",
    "iter_files",
    "logger",
    "parse",
    "read_document",
    "shown",
    "sync_tree",
]
