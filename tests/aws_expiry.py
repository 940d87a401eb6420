"""What AWS does on its own and moto does not: DynamoDB's TTL deletions and S3's lifecycle rules,
run on demand at a frozen moment, so a test can age items and objects.

- `expire_items`: deletes the items whose TTL attribute (the template's, `expires_at`) is a
  number ≤ `now` in epoch seconds, as DynamoDB does, including its one exception: an item
  expired more than five years before is left alone.
- `Lifecycle.apply`: the bucket rules of `infra/template.yaml`, as S3 applies them to a
  versioned bucket. A rule matches by prefix and tags; an object's age counts from its
  creation (its `LastModified`), and S3 rounds "creation + N days" up to the next midnight UTC.
  A current version that expires gets a delete marker (the bytes become a noncurrent
  version); a noncurrent version goes for good N days after it became noncurrent. Where
  several rules apply, the shortest wins. A rule with anything else (a date, transitions,
  sizes) is refused rather than ignored; multipart uploads are not used by the suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.domain.requests import month_of
from infra.local_stack import LocalStack, load_template

NOT_DELETED_AFTER = timedelta(days=5 * 365)  # DynamoDB ignores TTLs this far in the past


def ttl_attribute() -> str:
    table = load_template()["Resources"]["Table"]["Properties"]
    return str(table["TimeToLiveSpecification"]["AttributeName"])


def expire_items(stack: LocalStack, now: datetime, scope: tuple[str, ...] = ("",)) -> int:
    """Delete what DynamoDB's TTL would have deleted by `now`, among the items whose partition
    key starts with one of `scope` (a test keeps to its own member, `MEMBER#<id>`: its profile
    partition and its months'). Returns how many."""
    dynamodb = stack.client("dynamodb")
    table = stack.outputs["TableName"]
    attribute = ttl_attribute()
    cutoff = int(now.timestamp())
    deleted = 0
    for item in _items_with_ttl(stack, scope, attribute):
        value = item.get(attribute, {}).get("N")  # TTL reads numbers only
        if value is None or not item["pk"]["S"].startswith(scope):
            continue
        expires = int(Decimal(value))
        if expires <= cutoff and now - datetime.fromtimestamp(expires, UTC) <= NOT_DELETED_AFTER:
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
            deleted += 1
    return deleted


def _items_with_ttl(stack: LocalStack, scope: tuple[str, ...], attribute: str) -> Any:
    """A member's items, partition by partition (the profile's, and each month the requests'
    or the documents' index names); anything else, by a scan of the table (slow on the
    suite's table: keep it to tests that need it)."""
    dynamodb = stack.client("dynamodb")
    table = stack.outputs["TableName"]
    wanted = {
        "ProjectionExpression": "pk, sk, #ttl",
        "ExpressionAttributeNames": {"#ttl": attribute},
    }
    if not all(s.startswith("MEMBER#") for s in scope):
        for page in dynamodb.get_paginator("scan").paginate(TableName=table, **wanted):
            yield from page["Items"]
        return
    for member_pk in scope:
        partitions = {member_pk, *(f"{member_pk}#{m}" for m in _months(stack, member_pk))}
        for pk in sorted(partitions):
            for page in dynamodb.get_paginator("query").paginate(
                TableName=table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
                **wanted,
            ):
                yield from page["Items"]


def _months(stack: LocalStack, member_pk: str) -> set[str]:
    dynamodb = stack.client("dynamodb")
    table = stack.outputs["TableName"]
    months = set()
    for index, key, id_attribute in (("gsi_requests", "req_pk", "request_id"),
                                     ("gsi_documents", "doc_pk", "document_id")):  # fmt: skip
        for page in dynamodb.get_paginator("query").paginate(
            TableName=table,
            IndexName=index,
            KeyConditionExpression=f"{key} = :pk",
            ExpressionAttributeValues={":pk": {"S": member_pk}},
        ):
            months |= {month_of(item[id_attribute]["S"]) for item in page["Items"]}  # Paris
    return months


@dataclass(frozen=True)
class Rule:
    id: str
    prefix: str
    tags: dict[str, str]
    days: int | None  # current versions
    noncurrent_days: int | None

    def matches(self, key: str, tags: dict[str, str]) -> bool:
        return key.startswith(self.prefix) and all(tags.get(k) == v for k, v in self.tags.items())


KNOWN = {"Id", "Status", "Prefix", "TagFilters", "ExpirationInDays",
         "NoncurrentVersionExpirationInDays", "AbortIncompleteMultipartUpload"}  # fmt: skip


def template_rules() -> list[Rule]:
    """The files bucket's enabled lifecycle rules, as `infra/template.yaml` states them."""
    bucket = load_template()["Resources"]["Bucket"]["Properties"]
    rules = []
    for rule in bucket["LifecycleConfiguration"]["Rules"]:
        unknown = set(rule) - KNOWN
        assert not unknown, f"the helper does not apply {unknown} (rule {rule['Id']})"
        if rule["Status"] != "Enabled":
            continue
        rules.append(
            Rule(
                id=rule["Id"],
                prefix=rule.get("Prefix", ""),
                tags={t["Key"]: t["Value"] for t in rule.get("TagFilters", [])},
                days=rule.get("ExpirationInDays"),
                noncurrent_days=rule.get("NoncurrentVersionExpirationInDays"),
            )
        )
    return rules


def due(since: datetime, days: int) -> datetime:
    """S3's moment: `since` + `days`, rounded up to the next midnight UTC."""
    moment = since.astimezone(UTC) + timedelta(days=days)
    midnight = datetime.combine(moment.date(), time(0), tzinfo=UTC)
    return midnight if moment == midnight else midnight + timedelta(days=1)


class Lifecycle:
    """The template's rules applied to the stack's files bucket at frozen moments. Remembers
    when it expired a current version (the moment its bytes became noncurrent), as S3 would."""

    def __init__(self, stack: LocalStack) -> None:
        self.s3 = stack.client("s3")
        self.bucket = stack.outputs["BucketName"]
        self.rules = template_rules()
        self.noncurrent_since: dict[tuple[str, str], datetime] = {}

    def _tags(self, key: str, version: str) -> dict[str, str]:
        if not any(rule.tags for rule in self.rules):
            return {}
        answer = self.s3.get_object_tagging(Bucket=self.bucket, Key=key, VersionId=version)
        return {t["Key"]: t["Value"] for t in answer["TagSet"]}

    def _earliest(self, key: str, tags: dict[str, str], since: datetime, current: bool) -> Any:
        days = [
            rule.days if current else rule.noncurrent_days
            for rule in self.rules
            if rule.matches(key, tags)
        ]
        found = [due(since, d) for d in days if d is not None]
        return min(found) if found else None

    def apply(self, now: datetime, prefix: str = "") -> list[str]:
        """Expire what is due at `now` under `prefix`. Returns `expired <key>` for a current
        version given a delete marker, `deleted <key>` for a noncurrent version removed."""
        done: list[str] = []
        versions: dict[str, list[dict[str, Any]]] = {}
        for page in self.s3.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            for v in page.get("Versions", []):
                versions.setdefault(v["Key"], []).append({**v, "marker": False})
            for m in page.get("DeleteMarkers", []):
                versions.setdefault(m["Key"], []).append({**m, "marker": True})
        for key, found in versions.items():
            found.sort(key=lambda v: v["LastModified"], reverse=True)  # newest first
            for index, version in enumerate(found):
                if version["marker"]:
                    continue
                tags = self._tags(key, version["VersionId"])
                if version["IsLatest"]:
                    moment = self._earliest(key, tags, version["LastModified"], current=True)
                    if moment is not None and now >= moment:
                        self.s3.delete_object(Bucket=self.bucket, Key=key)  # a delete marker
                        self.noncurrent_since[(key, version["VersionId"])] = moment
                        done.append(f"expired {key}")
                    continue
                since = self.noncurrent_since.get(
                    (key, version["VersionId"]), found[index - 1]["LastModified"]
                )
                moment = self._earliest(key, tags, since, current=False)
                if moment is not None and now >= moment:
                    self.s3.delete_object(
                        Bucket=self.bucket, Key=key, VersionId=version["VersionId"]
                    )
                    done.append(f"deleted {key}")
        return done


def versions(stack: LocalStack, prefix: str) -> list[str]:
    """Every version and delete marker under `prefix` (`key` or `key (marker)`)."""
    answer = stack.client("s3").list_object_versions(
        Bucket=stack.outputs["BucketName"], Prefix=prefix
    )
    return [v["Key"] for v in answer.get("Versions", [])] + [
        f"{m['Key']} (marker)" for m in answer.get("DeleteMarkers", [])
    ]


def current_objects(stack: LocalStack, prefix: str) -> list[str]:
    answer = stack.client("s3").list_objects_v2(Bucket=stack.outputs["BucketName"], Prefix=prefix)
    return [o["Key"] for o in answer.get("Contents", [])]
