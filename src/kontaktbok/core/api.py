"""What every part of the JSON API answers alike: 422 with the messages by field, and 404
for what the caller may not see."""

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404
from ninja import Schema, Status


class ErrorItem(Schema):
    type: str
    loc: list[str]
    msg: str


class ValidationErrorOut(Schema):
    """Like django-ninja's own 422: ``loc[-1]`` is the field (``__all__`` for the whole
    request); ``errors`` has the same messages by field."""

    detail: list[ErrorItem]
    errors: dict[str, list[str]]


class NotFoundOut(Schema):
    detail: str


def validation_errors(error: ValidationError) -> ValidationErrorOut:
    by_field: dict[str, list[str]] = (
        {k: [str(m) for m in v] for k, v in error.message_dict.items()}
        if hasattr(error, "error_dict")
        else {NON_FIELD_ERRORS: [str(m) for m in error.messages]}
    )
    return ValidationErrorOut(
        detail=[
            ErrorItem(type="invalid", loc=["body", name], msg=message)
            for name, messages in by_field.items()
            for message in messages
        ],
        errors=by_field,
    )


def scoped(view: Callable[..., Any]) -> Callable[..., Any]:
    """PermissionDenied from a service answers 404 (never tell another family's id from a
    missing one); a ValidationError answers 422 with its messages."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            return Status(422, validation_errors(error))

    return wrapper
