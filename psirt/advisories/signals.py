"""What the advisories announce to the apps above them, which they may not import.

`advisory_published` is sent explicitly by the publication and revision services, inside their transaction,
with `advisory` (the Advisory), `revision` (its number: 1 is the publication, a later one a revision the editor
chose to announce), `actor` and `request`. A receiver that raises rolls the publication back, so receivers queue
work (rows committed with the publication) and never do it inline.
"""

from django.dispatch import Signal

advisory_published = Signal()
