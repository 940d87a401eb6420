"""The embedded local AWS: `make run` and the tests use the same provisioning code.

A moto server on loopback, the stack created from `infra/template.yaml` through moto's
CloudFormation API, a Cognito user pool with the demo accounts, the demo members, and then
`chalice local` serving the API.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"


def state_file(moto_port: int | None = None) -> Path:
    """Where a running `make run` says what it started, one per moto port (`MOTO_PORT`, 5000 by
    default): two stacks side by side (another port each) keep their own, and stopping one
    leaves the other's."""
    port = moto_port if moto_port is not None else int(os.environ.get("MOTO_PORT", "5000"))
    return ROOT / ".local" / f"stack-{port}.json"


REGION = "eu-west-3"
STAGE = "local"
# The origin `make run` serves the portal on (infra/portal_server.py): CORS lets it call the API.
LOCAL_PORTAL_ORIGIN = "http://127.0.0.1:8080"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class LocalStack:
    endpoint_url: str
    region: str
    stage: str
    stack_name: str
    user_pool_id: str
    app_client_id: str
    outputs: dict[str, str]

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint_url}/{self.user_pool_id}/.well-known/jwks.json"

    def app_environment(self) -> dict[str, str]:
        """What the app reads (chalicelib/settings.py) to run against this stack."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "APP_STAGE": self.stage,
            "TABLE_NAME": self.outputs["TableName"],
            "DIRECTORY_TABLE_NAME": self.outputs["DirectoryTableName"],
            "BUCKET_NAME": self.outputs["BucketName"],
            "KMS_KEY_ID": self.outputs["KeyArn"],
            "QUEUE_PREFIX": self.outputs["QueuePrefix"],
            "EVENT_BUS_NAME": self.outputs["EventBusName"],
            "NOTIFICATIONS_FROM": self.outputs["NotificationsFrom"],
            "COGNITO_USER_POOL_ID": self.user_pool_id,
            "COGNITO_APP_CLIENT_ID": self.app_client_id,
            "JWKS_URL": self.jwks_url,
            "PORTAL_ORIGINS": self.outputs["PortalOrigins"],
            # The e-mails' preferences link: the portal this stack serves (`make deploy` gives
            # each stage its first portal origin the same way, infra/deploy.sh).
            "PORTAL_URL": self.outputs["PortalOrigins"].split(",")[0].strip(),
        }

    def client(self, service: str) -> Any:
        """A client of this stack's moto: one per service and address, kept (making one takes
        10–20 ms, and the suite asked for one at every sign-in and count). boto3's clients are
        thread-safe; events are registered on the app's own clients (`chalicelib.aws`), never
        on these, which every caller shares."""
        return _client(service, self.endpoint_url, self.region)

    def id_token(self, username: str, password: str) -> str:
        answer = self.client("cognito-idp").initiate_auth(
            ClientId=self.app_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
        return str(answer["AuthenticationResult"]["IdToken"])

    def save(self, path: Path | None = None) -> None:
        path = path or state_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path | None = None) -> LocalStack:
        return cls(**json.loads((path or state_file()).read_text()))


@functools.cache
def _client(service: str, endpoint_url: str, region: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **CREDENTIALS)


_faithful = False


def make_moto_faithful() -> None:
    """Make moto's DynamoDB writes atomic with respect to each other, as DynamoDB's are (and
    its S3 listings safe beside writes).

    moto runs a transaction without a lock and rolls a failed one back by restoring a snapshot
    of the whole table, which loses or resurrects the writes of concurrent requests (seen with
    ten racing POSTs). Our code relies on DynamoDB's real guarantee, so the emulator gets it.
    """
    global _faithful
    if _faithful:
        return
    import threading

    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    lock = threading.RLock()
    for name in ("transact_write_items", "put_item", "update_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(*args, **kwargs)

        setattr(DynamoDBBackend, name, functools.wraps(original)(locked))

    # moto snapshots the whole table (deep copy) once per item of every transaction, to roll a
    # failed one back: time and memory grew with the table (`make load` slowed to a crawl).
    # Writes are serialised by the lock above, so only the items the transaction names can
    # change: the snapshot copies those and shares the rest.
    transact = DynamoDBBackend.transact_write_items

    def transact_with_light_snapshots(backend: Any, transact_items: Any, *args: Any) -> Any:
        with lock:
            touched = _touched_keys(backend, transact_items)

            def light(table: Any, memo: dict[int, Any]) -> Any:
                return _snapshot(table, touched.get(table.name))

            Table.__deepcopy__ = light  # type: ignore[attr-defined]
            try:
                return transact(backend, transact_items, *args)
            finally:
                del Table.__deepcopy__  # type: ignore[attr-defined]

    DynamoDBBackend.transact_write_items = functools.wraps(transact)(transact_with_light_snapshots)

    # moto's S3 lists a bucket's versions by copying them while other requests' threads put
    # and delete keys: the retention purge's concurrent deletions made a listing fail now and
    # then (`TypeError` in `list_object_versions`, a 500), where S3 lists and writes safely at
    # once. A bucket's listings and writes go one at a time.
    from moto.s3.models import S3Backend

    _list_versions_under_prefix_only(S3Backend)
    s3_lock = threading.RLock()
    for name in (
        "list_object_versions", "list_objects", "list_objects_v2", "put_object", "delete_object",
        "delete_objects", "copy_object",
    ):  # fmt: skip
        original = getattr(S3Backend, name)

        def s3_locked(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with s3_lock:
                return __original(*args, **kwargs)

        setattr(S3Backend, name, functools.wraps(original)(s3_locked))

    # moto's Query lists and sorts every item of the table to pick the ones it wants
    # (`Table.all_items`): O(n log n) in the table's size for every call, whatever the
    # partition, the suite's and `make load`'s main cost as the table fills. A query of the
    # table reads its own partition only; a query of an index, which sorts what it finds by the
    # index's keys (and the table's, as tie-breakers) anyway, skips the needless sort. Same
    # items, same order.
    _read_partitions_only(Table)

    # moto projects each item an index's Query returns (`SecondaryIndex.project`), and each
    # item a `ProjectionExpression` names attributes of, by turning the whole item into plain
    # JSON once per attribute kept: four fifths of its time answering a timeline's Query of
    # gsi_requests, whose items carry their history and messages. The attributes kept are
    # copied as they are.
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import SecondaryIndex

    _project_index_items_directly(SecondaryIndex, Item)

    # moto also keeps every model instance it ever creates, for its dashboard and
    # `/moto-api/data.json`: the snapshots above included, the process grew by the table's size
    # at every transaction (10 GB within minutes of `make load`), and every object, version and
    # message ever put stayed too. `make outbox` (infra/outbox.py) reads the e-mails and SMS
    # sent there, and walked all of them at each read. Only those of SES and SNS are kept.
    _track_only(frozenset({"ses", "sns"}))

    # moto 5.2 writes every answer through botocore's shapes, value by value: each attribute
    # of each DynamoDB item, nested maps and lists included (a request's messages, history),
    # is looked up member by member of `AttributeValue`'s union. That was over a third of a
    # replying member's time in the suite. An attribute value is written directly, as that
    # walk writes it (bytes in base64); the rest of the answer keeps moto's path.
    _write_attribute_values_directly()

    # The server finds each request's service by listing moto's package folder from disk (a
    # stat per entry, 182 of them), under the lock that every request of the server takes:
    # a tenth of moto's time in the suite. The folder does not change while it runs.
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    _faithful = True


def _list_versions_under_prefix_only(backend_class: Any) -> None:
    """moto lists a bucket's versions by deep-copying every version of every key, their bytes
    included, whatever prefix is asked, and then keeps those under it: each listing of the
    retention purge copied the whole bucket, every upload of the suite included. The listing
    is given the keys under its prefix only; moto's own code does the rest (markers, pages,
    delimiter), so the answer is the same (`tests/infra/test_local_stack.py`)."""
    from types import SimpleNamespace

    listing = backend_class.list_object_versions

    def list_object_versions(
        backend: Any, bucket_name: str, *args: Any, prefix: str = "", **kwargs: Any
    ) -> Any:
        if not prefix:
            return listing(backend, bucket_name, *args, prefix=prefix, **kwargs)
        bucket = backend.get_bucket(bucket_name)
        under = [(key, kept) for key, kept in bucket.keys.iterlists() if key.startswith(prefix)]
        keys = SimpleNamespace(iterlists=lambda: iter(under))
        view = SimpleNamespace(get_bucket=lambda name: SimpleNamespace(keys=keys))
        return listing(view, bucket_name, *args, prefix=prefix, **kwargs)

    backend_class.list_object_versions = functools.wraps(listing)(list_object_versions)


def _attribute_value(value: Any) -> dict[str, Any]:
    """One DynamoDB `AttributeValue` (as moto's models give it: its one type and its value) in
    the wire's JSON: what moto's shape walk writes, `S`, `N`, `BOOL`, `NULL` as they are, sets
    as lists, binaries in base64, maps and lists member by member."""
    ((kind, data),) = value.items()
    if data is None:  # the walk leaves a member without a value out
        return {}
    if kind == "M":
        return {"M": {name: _attribute_value(member) for name, member in data.items()}}
    if kind == "L":
        return {"L": [_attribute_value(member) for member in data]}
    if kind == "B":
        return {"B": _base64(data)}
    if kind == "BS":
        return {"BS": [_base64(member) for member in data]}
    if kind in ("SS", "NS"):
        return {kind: [str(member) for member in data]}
    if kind in ("S", "N"):
        return {kind: str(data)}
    return {kind: data}  # BOOL, NULL


def _base64(data: str | bytes) -> str:
    import base64

    raw = data.encode("utf-8") if isinstance(data, str) else data
    return base64.b64encode(raw).strip().decode("utf-8")


DYNAMODB_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})  # whose `AttributeValue` it is


def _write_attribute_values_directly() -> None:
    """moto's JSON serializer writes an `AttributeValue`, and a map of them (an item, a key),
    with `_attribute_value` instead of its walk of the union's members
    (`tests/infra/test_local_stack.py` holds the two to the same output)."""
    from moto.core.serialize import BaseJSONSerializer

    structure, mapping = (
        BaseJSONSerializer._serialize_type_structure,
        BaseJSONSerializer._serialize_type_map,
    )

    def write_structure(serializer: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            shape.name == "AttributeValue"
            and serializer.service_model.service_name in DYNAMODB_SERVICES
            and key
            and isinstance(value, dict)
            and len(value) == 1
        ):
            serialized[serializer.get_serialized_name(shape, key)] = _attribute_value(value)
        else:
            structure(serializer, serialized, value, shape, key)

    def write_map(serializer: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            shape.value.name == "AttributeValue"
            and serializer.service_model.service_name in DYNAMODB_SERVICES
            and all(isinstance(v, dict) and len(v) == 1 for v in value.values())
        ):
            serialized[serializer.get_serialized_name(shape, key)] = {
                name: _attribute_value(member) for name, member in value.items()
            }
        else:
            mapping(serializer, serialized, value, shape, key)

    functools.update_wrapper(write_structure, structure)
    functools.update_wrapper(write_map, mapping)
    BaseJSONSerializer._serialize_type_structure = write_structure  # type: ignore[method-assign]
    BaseJSONSerializer._serialize_type_map = write_map  # type: ignore[method-assign]


def _read_partitions_only(table_class: Any) -> None:
    import threading

    wanted = threading.local()  # set by a query, for its own call of `all_items` only
    listed, query = table_class.all_items, table_class.query

    def all_items(table: Any) -> list[Any]:
        scope = getattr(wanted, "scope", None)
        if scope is None or scope[0] is not table:
            return list(listed(table))
        if scope[1] is None:  # an index's query: every item, in no particular order
            # Each `list(…values())` is copied in one step (C, under the GIL): a writer adding
            # a partition or an item meanwhile cannot break the iteration ("dictionary changed
            # size during iteration", which moto answered 500 under `make load`).
            partitions = list(table.items.values())
            return [i for p in partitions for i in
                    (list(p.values()) if table.range_key_attr else [p])]  # fmt: skip
        found = table.items.get(scope[1])
        if not found:
            return []
        return list(found.values()) if table.range_key_attr else [found]

    def query_one_partition(table: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        wanted.scope = (table, None if index_name else hash_key)
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            wanted.scope = None

    table_class.all_items = all_items
    table_class.query = query_one_partition


def _project_index_items_directly(index_class: Any, item_class: Any) -> None:
    """An index's projection (`KEYS_ONLY`, `INCLUDE`) and a `ProjectionExpression` of top-level
    names keep some of an item's attributes: copies of those, where moto's own rebuilt each
    from the whole item turned into plain JSON once per name, and checked the new item's size
    at each attribute set (the same values: `tests/infra/test_local_stack.py`). `ALL`, and an
    expression into a map or a list, go moto's own way."""
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    def kept(item: Any, names: Iterable[str]) -> Any:
        copied = item_class.__new__(item_class)
        copied.hash_key, copied.range_key = item.hash_key, item.range_key
        attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(attrs)  # not its `__setitem__`: the item's size was checked when written
        for name in dict.fromkeys(names):
            if name in item.attrs:
                dict.__setitem__(attrs, name, copy.deepcopy(item.attrs[name]))
        copied.attrs = attrs
        return copied

    by_index = index_class.project

    def index_project(index: Any, item: Any) -> Any:
        kind = (index.projection or {}).get("ProjectionType")
        if kind not in ("KEYS_ONLY", "INCLUDE"):
            return by_index(index, item)
        names = [*index.table_key_attrs, *index.schema_key_attrs]
        if kind == "INCLUDE":
            names.extend(index.projection.get("NonKeyAttributes", []))
        return kept(item, names)

    by_expression = item_class.project

    def item_project(item: Any, projection_expressions: list[list[str]]) -> Any:
        if not all(len(path) == 1 and "[" not in path[0] for path in projection_expressions):
            return by_expression(item, projection_expressions)
        return kept(item, (path[0] for path in projection_expressions))

    index_class.project = functools.wraps(by_index)(index_project)
    item_class.project = functools.wraps(by_expression)(item_project)


def _track_only(services: frozenset[str]) -> None:
    """moto's models keep their instances (`BaseModel.__new__`) for the services named only."""
    from moto.core.common_models import BaseModel

    def __new__(cls: type[Any], *args: Any, **kwargs: Any) -> Any:
        instance = super(BaseModel, cls).__new__(cls)
        if cls.__module__.split(".")[1] in services:  # moto.<service>.models
            cls.instances_tracked.append(instance)
        return instance

    BaseModel.__new__ = staticmethod(__new__)  # type: ignore[assignment,method-assign]


def _touched_keys(backend: Any, transact_items: Any) -> dict[str, set[tuple[Any, Any]] | None]:
    """Per table, the (hash, range) keys a transaction writes; None where one is unreadable
    (the snapshot is then a full copy, as moto's own)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    touched: dict[str, set[tuple[Any, Any]] | None] = {}
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            source = op.get("Item" if op_type == "Put" else "Key") or {}
            keys = touched.setdefault(table.name, set())
            try:
                hash_value = DynamoType(source[table.hash_key_attr])
                range_attr = table.range_key_attr
                range_value = DynamoType(source[range_attr]) if range_attr else None
            except (KeyError, TypeError, AttributeError):
                touched[table.name] = None
                continue
            if keys is not None:
                keys.add((hash_value, range_value))
    return touched


def _snapshot(table: Any, keys: set[tuple[Any, Any]] | None) -> Any:
    """The table as it is, for a rollback: the named items copied, every other one shared."""
    import copy
    from collections import defaultdict

    snapshot = copy.copy(table)
    if keys is None:
        snapshot.items = copy.deepcopy(table.items)
        return snapshot
    snapshot.items = defaultdict(dict, table.items)
    for hash_value, range_value in keys:
        if hash_value not in table.items:
            continue  # a new partition: absent from the snapshot, so rolled back by its absence
        if table.range_key_attr is None:
            snapshot.items[hash_value] = copy.deepcopy(table.items[hash_value])
            continue
        if snapshot.items[hash_value] is table.items[hash_value]:
            snapshot.items[hash_value] = dict(table.items[hash_value])
        if range_value in table.items[hash_value]:
            snapshot.items[hash_value][range_value] = copy.deepcopy(
                table.items[hash_value][range_value]
            )
    return snapshot


def start_moto(port: int) -> Any:
    """The embedded AWS, in this process, on loopback."""
    from moto.server import ThreadedMotoServer

    make_moto_faithful()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server


def create_stack(
    endpoint_url: str,
    stage: str = STAGE,
    region: str = REGION,
    portal_origins: tuple[str, ...] = (LOCAL_PORTAL_ORIGIN,),
) -> dict[str, str]:
    """Create the stateful stack from the one template, through CloudFormation."""
    cfn = boto3.client(
        "cloudformation", endpoint_url=endpoint_url, region_name=region, **CREDENTIALS
    )
    name = f"generation-demarches-{stage}"
    with warnings.catch_warnings():
        # moto's CloudFormation skips the bucket policy (TLS-only), the alarms and the two
        # secrets (locally the settings' local-stage keys serve); AWS has them and the tests
        # read them from the template. It skips the Cognito user pool too: `provision` creates
        # it from the template's own properties (`create_user_pool`).
        warnings.filterwarnings("ignore", message=".*AWS::S3::BucketPolicy.*")
        warnings.filterwarnings("ignore", message=".*AWS::CloudWatch::Alarm.*")
        warnings.filterwarnings("ignore", message=".*AWS::SecretsManager::Secret.*")
        warnings.filterwarnings("ignore", message=".*AWS::Cognito::.*")
        # Nor the notifications queue's policy (moto's rules deliver without one) nor the SES
        # identity, which `complete_what_moto_skips` creates.
        warnings.filterwarnings("ignore", message=".*AWS::SQS::QueuePolicy.*")
        warnings.filterwarnings("ignore", message=".*AWS::SES::EmailIdentity.*")
        cfn.create_stack(
            StackName=name,
            TemplateBody=TEMPLATE.read_text(),
            Parameters=[
                {"ParameterKey": "Stage", "ParameterValue": stage},
                {"ParameterKey": "PortalOrigins", "ParameterValue": ",".join(portal_origins)},
            ],
        )
        for _ in range(100):  # reading the outputs parses the skipped resources again
            stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
            if stack["StackStatus"] == "CREATE_COMPLETE":
                outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
                complete_what_moto_skips(endpoint_url, region, stage, outputs)
                return outputs
            if stack["StackStatus"].endswith("FAILED") or "ROLLBACK" in stack["StackStatus"]:
                raise RuntimeError(f"stack {name}: {stack['StackStatus']}")
            time.sleep(0.1)
    raise RuntimeError(f"stack {name} not created in time")


def load_template() -> dict[str, Any]:
    from cfnlint.decode import decode_str

    template, problems = decode_str(TEMPLATE.read_text())
    if problems:
        raise RuntimeError(f"{TEMPLATE} does not parse: {problems}")
    return dict(template)


def _resolve(value: Any, names: dict[str, str], conditions: dict[str, bool] | None = None) -> Any:
    """Resolve the few intrinsics the bucket, table, user pool and SES identity use."""
    if isinstance(value, list):
        return [_resolve(v, names, conditions) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return names[value["Ref"]]
    if "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        chosen = when_true if (conditions or {})[condition] else when_false
        return _resolve(chosen, names, conditions)
    if "Fn::GetAtt" in value:
        resource, attribute = value["Fn::GetAtt"]
        return names[f"{resource}.{attribute}"]
    if "Fn::Select" in value:
        index, items = value["Fn::Select"]
        return _resolve(items, names, conditions)[int(index)]
    if "Fn::Split" in value:
        separator, text = value["Fn::Split"]
        return _resolve(text, names, conditions).split(separator)
    if "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for key, replacement in names.items():
            text = text.replace("${" + key + "}", replacement)
        return text
    return {k: _resolve(v, names, conditions) for k, v in value.items()}


def _conditions(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, bool]:
    """The template's conditions for these parameter values (Equals, Not, And, Or)."""

    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return separator.join(value(parts))
        return parameters[node["Ref"]] if isinstance(node, dict) and "Ref" in node else node

    def holds(node: Any) -> bool:
        if "Fn::Equals" in node:
            left, right = node["Fn::Equals"]
            return bool(value(left) == value(right))
        if "Fn::Not" in node:
            return not holds(node["Fn::Not"][0])
        if "Fn::And" in node:
            return all(holds(n) for n in node["Fn::And"])
        if "Fn::Or" in node:
            return any(holds(n) for n in node["Fn::Or"])
        if "Condition" in node:
            return holds(template["Conditions"][node["Condition"]])
        raise ValueError(f"condition not understood: {node}")

    return {name: holds(node) for name, node in template.get("Conditions", {}).items()}


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's words."""
    translated: dict[str, Any] = {
        "ID": rule["Id"],
        "Status": rule["Status"],
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if "ExpirationInDays" in rule:
        translated["Expiration"] = {"Days": rule["ExpirationInDays"]}
    if "NoncurrentVersionExpirationInDays" in rule:
        translated["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]
        }
    if "AbortIncompleteMultipartUpload" in rule:
        translated["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    return translated


def complete_what_moto_skips(
    endpoint_url: str, region: str, stage: str, outputs: dict[str, str]
) -> None:
    """moto's CloudFormation creates the bucket and table but ignores some of their properties
    (public access block, lifecycle, CORS, TTL, point-in-time recovery).

    Apply those, read from the same template, so the local stack behaves like the deployed one.
    """
    template = load_template()
    resources, parameters = template["Resources"], template["Parameters"]
    bucket = outputs["BucketName"]
    origins = outputs["PortalOrigins"].split(",")
    names: dict[str, Any] = {"Stage": stage, "PortalOrigins": origins}
    defaults = {k: str(v.get("Default", "")) for k, v in parameters.items()}
    conditions = _conditions(template, {**defaults, "Stage": stage, "PortalOrigins": origins})
    wanted = ("PublicAccessBlockConfiguration", "LifecycleConfiguration", "CorsConfiguration")
    bucket_props = _resolve(
        {k: resources["Bucket"]["Properties"][k] for k in wanted}, names, conditions
    )
    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, **CREDENTIALS)
    s3.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=bucket_props["PublicAccessBlockConfiguration"]
    )
    # Versioned as deployed: a deletion leaves the bytes as a noncurrent version unless every
    # version goes (the retention purge deletes them all, `FileStore.purge`).
    s3.put_bucket_versioning(
        Bucket=bucket,
        VersioningConfiguration=resources["Bucket"]["Properties"]["VersioningConfiguration"],
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                _lifecycle_rule(rule) for rule in bucket_props["LifecycleConfiguration"]["Rules"]
            ]
        },
    )
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": rule["AllowedMethods"],
                    "AllowedOrigins": rule["AllowedOrigins"],
                    "AllowedHeaders": rule["AllowedHeaders"],
                    "MaxAgeSeconds": rule["MaxAge"],
                }
                for rule in bucket_props["CorsConfiguration"]["CorsRules"]
            ]
        },
    )
    # Not the bucket policy: it denies plain HTTP, moto enforces it, and loopback is plain HTTP.

    table_props = resources["Table"]["Properties"]
    dynamodb = boto3.client(
        "dynamodb", endpoint_url=endpoint_url, region_name=region, **CREDENTIALS
    )
    dynamodb.update_time_to_live(
        TableName=outputs["TableName"],
        TimeToLiveSpecification=table_props["TimeToLiveSpecification"],
    )
    dynamodb.update_continuous_backups(
        TableName=outputs["TableName"],
        PointInTimeRecoverySpecification=table_props["PointInTimeRecoverySpecification"],
    )

    # The notifications' sender: its domain, with Easy DKIM, as the template makes it (moto
    # verifies an identity on creation, as the published DKIM CNAMEs do on AWS, and sends from
    # any address of a verified domain, as SES does).
    identity = _resolve(
        resources["NotificationsEmailIdentity"]["Properties"],
        {"NotificationsFrom": outputs["NotificationsFrom"]},
    )
    sesv2 = boto3.client("sesv2", endpoint_url=endpoint_url, region_name=region, **CREDENTIALS)
    sesv2.create_email_identity(
        EmailIdentity=identity["EmailIdentity"],
        DkimSigningAttributes=identity["DkimSigningAttributes"],
    )


def create_user_pool(
    endpoint_url: str, region: str = REGION, name: str | None = None, stage: str = STAGE
) -> tuple[str, str]:
    """The template's user pool, app client and agent groups, created from their properties.

    moto's CloudFormation does not create Cognito resources, so this reads them from
    `infra/template.yaml` and makes the same calls CloudFormation would. moto stores but does
    not enforce `AllowAdminCreateUserOnly` nor the client's `WriteAttributes`: the API's
    account binding (`chalicelib/api/auth.py`) is what the tests prove instead.
    """
    template = load_template()
    resources = template["Resources"]
    defaults = {k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}
    parameters = {**defaults, "Stage": stage}
    conditions = _conditions(template, parameters)
    cognito = boto3.client(
        "cognito-idp", endpoint_url=endpoint_url, region_name=region, **CREDENTIALS
    )
    pool = _resolve(dict(resources["UserPool"]["Properties"]), parameters, conditions)
    enabled_mfas = pool.pop("EnabledMfas", [])
    template_name = pool.pop("UserPoolName")
    pool["PoolName"] = name or template_name
    pool_id = cognito.create_user_pool(**pool)["UserPool"]["Id"]
    if "SOFTWARE_TOKEN_MFA" in enabled_mfas:  # CloudFormation's EnabledMfas, in the API's words
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool_id,
            SoftwareTokenMfaConfiguration={"Enabled": True},
            MfaConfiguration=pool["MfaConfiguration"],
        )
    names = {**parameters, "UserPool": pool_id}
    client = _resolve(dict(resources["UserPoolClient"]["Properties"]), names, conditions)
    client_id = cognito.create_user_pool_client(**client)["UserPoolClient"]["ClientId"]
    for resource in resources.values():
        if resource["Type"] == "AWS::Cognito::UserPoolGroup":
            cognito.create_group(**_resolve(resource["Properties"], names, conditions))
    return pool_id, client_id


def create_cognito_user(
    stack: LocalStack,
    username: str,
    password: str,
    member_id: str | None,
    groups: tuple[str, ...] = (),
) -> str:
    """A Cognito user and nothing else (no binding to a member): returns its `sub`."""
    cognito = stack.client("cognito-idp")
    attributes = [{"Name": "email", "Value": f"{username}@example.fr"}]
    if member_id:
        attributes.append({"Name": "custom:member_id", "Value": member_id})
    user = cognito.admin_create_user(
        UserPoolId=stack.user_pool_id,
        Username=username,
        UserAttributes=attributes,
        MessageAction="SUPPRESS",
    )["User"]
    cognito.admin_set_user_password(
        UserPoolId=stack.user_pool_id, Username=username, Password=password, Permanent=True
    )
    for group in groups:
        cognito.admin_add_user_to_group(
            UserPoolId=stack.user_pool_id, Username=username, GroupName=group
        )
    return next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")


def create_account(
    stack: LocalStack,
    username: str,
    password: str,
    member_id: str | None,
    groups: tuple[str, ...] = (),
) -> None:
    """What the insurer does for a new account: the Cognito user, then, for a member, the
    record of which account (`sub`) is that member's, which the API's token check holds."""
    from chalicelib.store.accounts import MemberAccounts

    sub = create_cognito_user(stack, username, password, member_id, groups)
    if member_id:
        accounts = MemberAccounts(stack.client("dynamodb"), stack.outputs["TableName"])
        accounts.bind(member_id, sub)


def provision(
    endpoint_url: str,
    stage: str = STAGE,
    region: str = REGION,
    portal_origins: tuple[str, ...] = (LOCAL_PORTAL_ORIGIN,),
) -> LocalStack:
    """Everything but the demo data: stack, user pool, app client."""
    outputs = create_stack(endpoint_url, stage, region, portal_origins)
    pool_id, client_id = create_user_pool(endpoint_url, region, stage=stage)
    return LocalStack(
        endpoint_url=endpoint_url,
        region=region,
        stage=stage,
        stack_name=f"generation-demarches-{stage}",
        user_pool_id=pool_id,
        app_client_id=client_id,
        outputs=outputs,
    )


def point_app_at(stack: LocalStack) -> None:
    """Make this process's app code use the stack (settings and clients are read lazily)."""
    from chalicelib import aws

    os.environ.update(stack.app_environment())
    aws.reset()


def seed_demo(stack: LocalStack, today: date) -> None:
    from infra.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo_members

    for account in DEMO_ACCOUNTS:
        create_account(stack, account.username, DEMO_PASSWORD, account.member_id, account.groups)
    point_app_at(stack)
    seed_demo_members(today)
    from infra.history_seed import seed_history
    from infra.seed import alice

    # Before the directory: moto copies the whole table on every transaction.
    seed_history(alice(today)[0].member_id)
    from infra.professionals_seed import seed_professionals

    seed_professionals()


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--moto-port", type=int, default=5000)
    parser.add_argument("--api-port", type=int, default=8000)
    parser.add_argument("--portal-port", type=int, default=8080)
    args = parser.parse_args()

    for port in (args.moto_port, args.api_port, args.portal_port):
        if not _port_free(port):
            print(
                f"port {port} is already in use: stop what holds it, or pass "
                "MOTO_PORT=/API_PORT=/PORTAL_PORT= to make run",
                file=sys.stderr,
            )
            return 1

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access line per AWS call
    moto = start_moto(args.moto_port)
    endpoint = f"http://127.0.0.1:{args.moto_port}"
    api: subprocess.Popen[bytes] | None = None
    pump = None
    portal = None
    try:
        stack = provision(endpoint, portal_origins=(f"http://127.0.0.1:{args.portal_port}",))
        seed_demo(stack, date.today())
        stack.save(state_file(args.moto_port))
        from infra.queue_pump import QueuePump

        pump = QueuePump(stack)  # Lambda's SQS triggers, locally: same handlers
        pump.start()
        from infra.portal_server import local_config, serve_portal

        portal = serve_portal(  # the reference portal (web/), configured for this stack
            local_config(
                f"http://127.0.0.1:{args.api_port}", endpoint, stack.region, stack.app_client_id
            ),
            port=args.portal_port,
        )
        env = {**os.environ, **stack.app_environment()}
        api = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "chalice"),
                "local",
                "--stage",
                STAGE,
                "--host",
                "127.0.0.1",
                "--port",
                str(args.api_port),
                "--no-autoreload",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        print(
            f"\nGénération Démarches, local stack\n"
            f"  embedded AWS (moto)  {endpoint}   stack {stack.stack_name}\n"
            f"  Cognito user pool    {stack.user_pool_id}  (app client {stack.app_client_id})\n"
            f"  API                  http://127.0.0.1:{args.api_port}\n"
            f"  portal               {portal.url}  (member portal and agents' console)\n"
            f"  queue pump           intake, every svc-<service> queue, notifications and "
            f"exports → the SQS handlers\n"
            f"  make outbox          the e-mails and SMS sent to members, newest first\n"
            f"  demo accounts        alice, bob (members), claire (member, agent of "
            f"remboursements), agent (every service)\n\n"
            f"  T=$(make token USER=alice)\n"
            f'  curl -H "Authorization: Bearer $T" http://127.0.0.1:{args.api_port}/me\n\n'
            f"Ctrl-C stops everything.\n",
            flush=True,
        )
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        api.wait()
        return api.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        if pump is not None:
            pump.stop()
        if portal is not None:
            portal.stop()
        if api is not None and api.poll() is None:
            api.terminate()
            try:
                api.wait(timeout=10)
            except subprocess.TimeoutExpired:
                api.kill()
        moto.stop()
        state_file(args.moto_port).unlink(missing_ok=True)
        print("local stack stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
