"""The test-event insert form and its validation."""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from dashboard.formats import times
from dashboard.store.records import INSERTED_BY, TEST_MARK
from dashboard.store.time_index import TIME_BUCKET_ATTRIBUTE, time_bucket

from .audit import user_name
from .environments import current, current_table

# Ids longer than this are not worth typing; DynamoDB itself allows 2048 bytes of partition key (in UTF-8,
# so 700 emoji are too many).
MAX_ID_LENGTH = 1024
MAX_KEY_BYTES = 2048
MAX_TEXT_LENGTH = 2048
# Numbers carry at most 38 significant digits in DynamoDB.
_SIZE = re.compile(r"\A[0-9]{1,38}\Z")
# What the form offers to write into the table's TTL attribute (only where TTL is on): seconds from the insert.
EXPIRIES = {"1h": ("1 hour", 3600), "1d": ("1 day", 86400), "1w": ("1 week", 7 * 86400)}
# Who inserted a test event when nobody signs in (DASHBOARD_AUTH=off, make run).
NOBODY_SIGNED_IN = "local"


def fresh_event_id() -> str:
    return f"test-{uuid.uuid4()}"


def _no_surrounding_space(form: FlaskForm, field: StringField) -> None:
    if field.data and field.data != field.data.strip():
        raise ValidationError("must not start or end with spaces (the id must match exactly when searched)")


def _text(form: FlaskForm, field: StringField) -> None:
    try:
        (field.data or "").encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("holds characters that are not valid Unicode text (lone surrogates)") from None


def _key_size(form: FlaskForm, field: StringField) -> None:
    size = len((field.data or "").encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise ValidationError(f"is {size:,} bytes in UTF-8; DynamoDB keys hold at most {MAX_KEY_BYTES:,} bytes")


def _timestamp(form: FlaskForm, field: StringField) -> None:
    try:
        times.normalize(field.data or "")
    except times.TimestampError as error:
        raise ValidationError(str(error)) from None


class EventForm(FlaskForm):
    event_id = StringField(
        "Event id",
        validators=[DataRequired("an event id is required"), _text, Length(max=MAX_ID_LENGTH), _key_size,
                    _no_surrounding_space],
        description="Unique: an id that exists already is refused, never overwritten.",
    )
    event_type = StringField("Event type", validators=[DataRequired("an event type is required"), _text,
                                                       Length(max=MAX_TEXT_LENGTH)], default="test")
    source = StringField("Source", validators=[Optional(), _text, Length(max=MAX_TEXT_LENGTH)],
                         description="The bucket or service the event came from.")
    key = StringField("Key", validators=[Optional(), _text, Length(max=MAX_TEXT_LENGTH)],
                      description="The object key, such as path/to/file.txt.")
    event_name = StringField("Event name", validators=[Optional(), _text, Length(max=MAX_TEXT_LENGTH)],
                             description="Such as ObjectCreated:Put.")
    size = StringField("Size (bytes)", validators=[
        Optional(), Regexp(_SIZE, message="must be a whole number of bytes, 0 or more (at most 38 digits)")])
    content_type = StringField("Content type", validators=[Optional(), _text, Length(max=255)],
                               description="Such as text/plain.")
    timestamp = StringField("Timestamp (UTC)", validators=[DataRequired("a timestamp is required"), _text, _timestamp],
                            description="ISO-8601; stored as YYYY-MM-DDTHH:MM:SSZ in UTC. "
                                        "A time without an offset is UTC. Left as it is, the time of submitting "
                                        "is stored.")
    # The time the form was filled in with: a timestamp still equal to it was left untouched.
    timestamp_prefilled = HiddenField()
    # Only where the table has TTL on (store/expiry.py): the epoch seconds DynamoDB may remove the event after.
    expires_in = SelectField("Remove after", default="", choices=[
        SelectChoice("", "never: keep it until deleted"),
        *(SelectChoice(name, label) for name, (label, _) in EXPIRIES.items())])

    # In a production environment that allows writes (environments.py), its name typed again: kept only there.
    confirm_environment = StringField("Type the environment's name to insert",
                                      description="A production environment: type its name to confirm the insert.")

    # The fields a copy of an existing event takes over from it.
    COPIED = ("event_type", "source", "key", "event_name", "size", "content_type")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        environment = current()
        self.environment_name = environment.name if environment.confirm_writes else None
        self.ttl_attribute = current_table().expiry.attribute()
        if self.ttl_attribute is None:
            del self.expires_in
        else:
            self.expires_in.description = (f"Written as epoch seconds into {self.ttl_attribute}, the table's TTL "
                                           "attribute: DynamoDB removes the event some time after it, typically "
                                           "within a few days, not at the second.")
        if self.environment_name is None:
            del self.confirm_environment
        else:
            self.confirm_environment.label.text = f"Type {self.environment_name} to insert into production"

    def validate_confirm_environment(self, field: StringField) -> None:
        if (field.data or "").strip() != self.environment_name:
            raise ValidationError(f"type {self.environment_name} (the environment's name) to confirm a write to "
                                  "production; nothing was written")

    def validate_posted(self, problems: Mapping[str, str]) -> bool:
        """validate(), plus the fields that were sent as something other than text (posted.fields)."""
        valid = bool(self.validate())
        for name, message in problems.items():
            field = self._fields.get(name)
            if field is not None and name != "csrf_token":
                field.errors = [*field.errors, message]
                valid = False
        return valid

    def prefill(self, original: Mapping[str, Any] | None = None) -> None:
        """Fresh defaults: a new id and the current time, and the attributes of `original` when copying one."""
        self.event_id.data = fresh_event_id()
        self.event_type.data = "test"
        for name in self.COPIED if original else ():
            value = original.get(name) if original else None
            if isinstance(value, (str, Decimal, int)) and not isinstance(value, bool):
                getattr(self, name).data = str(value)
        self.timestamp.data = self.timestamp_prefilled.data = times.now_stored()

    def timestamp_untouched(self) -> bool:
        return bool(self.timestamp_prefilled.data) and self.timestamp.data == self.timestamp_prefilled.data

    def to_item(self) -> dict[str, Any]:
        """The event as it is stored: empty optional fields are left out, size is a Number; marked as a test event
        inserted here, by whom (the only events the dashboard may delete), with its expiry where one was chosen."""
        item: dict[str, Any] = {
            "event_id": self.event_id.data,
            "event_type": (self.event_type.data or "").strip(),
            # A form opened a while ago still means "now" when its time was left as it was.
            "timestamp": (times.now_stored() if self.timestamp_untouched()
                          else times.normalize(self.timestamp.data or "")),
        }
        for name in ("source", "key", "event_name", "content_type"):
            value = getattr(self, name).data
            if value:
                item[name] = value
        if self.size.data:
            item["size"] = Decimal(self.size.data)
        item[TEST_MARK] = True
        item[INSERTED_BY] = user_name() or NOBODY_SIGNED_IN
        # Where the table has the time-sorted index, a test event is in it like the pipeline's (docs/time-index.md).
        index = current().settings.time_index
        bucket = time_bucket(item["event_id"], item["timestamp"], index) if index and item["event_id"] else None
        if bucket is not None:
            item[TIME_BUCKET_ATTRIBUTE] = bucket
        chosen = EXPIRIES.get(self.expires_in.data or "") if self.ttl_attribute is not None else None
        if chosen is not None and self.ttl_attribute is not None:
            item[self.ttl_attribute] = Decimal(int(time.time()) + chosen[1])
        return item
