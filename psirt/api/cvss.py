"""`GET /api/v1/cvss?vector=…`: public CVSS calculator endpoint (no account needed, nothing stored)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from psirt.api.errors import Problem
from psirt.lib.cvss import MAX_VECTOR_LENGTH, CvssError, score_vector

router = Router(tags=["cvss"])


class CvssIn(Schema):
    # No max_length here: an over-long vector gets the same 400 {"detail", "errors", "metric"} as any other bad one
    # (score_vector refuses it before parsing), not the framework's generic 422.
    vector: str = Field(
        "",
        description=f"A CVSS v3.1 or v4.0 vector (at most {MAX_VECTOR_LENGTH} characters).",
        examples=["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"],
    )


class Cvss31Out(Schema):
    version: str = Field(description='"3.1"')
    base: float = Field(description="Base score")
    temporal: float = Field(description="Temporal score (equals the base score without temporal metrics)")
    environmental: float = Field(description="Environmental score")
    severity: str = Field(description="None, Low, Medium, High or Critical, for the environmental score")
    vector: str = Field(description="The vector normalised: FIRST's metric order, Not Defined values left out")


class Cvss40Out(Schema):
    version: str = Field(description='"4.0"')
    base: float = Field(description="CVSS-B: the base metrics alone")
    threat: float = Field(description="CVSS-BT: base and threat metrics")
    environmental: float = Field(description="CVSS-BTE: the whole vector")
    severity: str = Field(description="None, Low, Medium, High or Critical, for CVSS-BTE")
    vector: str = Field(description="The vector normalised: FIRST's metric order, Not Defined values left out")


class CvssProblem(Problem):
    metric: str | None = Field(description='The offending metric ("CVSS" for the prefix), null when none')


@router.get(
    "",
    response={200: Cvss31Out | Cvss40Out, 400: CvssProblem},
    auth=None,
    summary="Score a CVSS vector",
    operation_id="cvss_score",
)
def cvss_score(request: HttpRequest, params: Query[CvssIn]) -> Status:
    """Scores and severity of a CVSS v3.1 or v4.0 vector, or 400 naming the offending metric."""
    try:
        result = score_vector(params.vector)
    except CvssError as exc:
        return Status(400, {"detail": exc.message, "errors": {"vector": [exc.message]}, "metric": exc.metric})
    return Status(200, result.as_dict())
