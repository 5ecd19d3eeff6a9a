"""What every part of the JSON API answers alike: one error shape for every 4xx, declared on
every operation, 404 for what the caller may not see, and bad values refused at the door."""

import functools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Schema, Status
from ninja.errors import HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser

from kontaktbok.core.ids import MAX_ID


class ErrorItem(Schema):
    type: str
    loc: list[str]
    msg: str


class ErrorOut(Schema):
    """Every error answer (400, 401, 403, 404, 405, 413, 414, 422, 429): ``detail`` lists
    the problems, ``loc[-1]`` the field (``__all__`` for the whole request); ``errors`` has
    the same messages by field. Messages are in the caller's language."""

    detail: list[ErrorItem]
    errors: dict[str, list[str]]


# The names the API modules have used for the error shape.
ValidationErrorOut = ErrorOut
NotFoundOut = ErrorOut

ERROR_STATUSES = (400, 401, 403, 404, 405, 413, 414, 422, 429)
ERRORS: dict[int, Any] = dict.fromkeys(ERROR_STATUSES, ErrorOut)


def responses(ok: dict[int, Any]) -> dict[int, Any]:
    """The ``response=`` of an operation: its own answers and every documented error."""
    return {**ok, **ERRORS}


# --- building error answers ------------------------------------------------------------

_DEFAULT_MESSAGES = {
    400: gettext_lazy("The request could not be read."),
    401: gettext_lazy("Log in to continue."),
    403: gettext_lazy("You do not have access to this."),
    404: gettext_lazy("Not found, or you do not have access to it."),
    405: gettext_lazy("This method is not allowed here."),
    413: gettext_lazy("The request is too large."),
    414: gettext_lazy("The address is too long."),
    422: gettext_lazy("Enter a valid value."),
    429: gettext_lazy("Too many requests. Wait a little and try again."),
}
_TYPES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    414: "uri_too_long",
    422: "invalid",
    429: "throttled",
}
# django-ninja's own English messages, replaced by the message in the caller's language.
_NINJA_MESSAGES = {
    "Unauthorized",
    "Forbidden",
    "Too many requests.",
    "Cannot parse request body",
    "CSRF check Failed",
    "Not Found",
}


def error_body(
    status: int, message: str = "", *, field: str = NON_FIELD_ERRORS, type_: str = ""
) -> dict[str, Any]:
    """One problem in the documented shape."""
    message = message or str(_DEFAULT_MESSAGES.get(status, _DEFAULT_MESSAGES[400]))
    return {
        "detail": [{"type": type_ or _TYPES.get(status, "error"), "loc": [field], "msg": message}],
        "errors": {field: [message]},
    }


def error_response(status: int, message: str = "", **kwargs: Any) -> JsonResponse:
    return JsonResponse(error_body(status, message, **kwargs), status=status)


def validation_errors(error: ValidationError) -> ErrorOut:
    by_field: dict[str, list[str]] = (
        {k: [str(m) for m in v] for k, v in error.message_dict.items()}
        if hasattr(error, "error_dict")
        else {NON_FIELD_ERRORS: [str(m) for m in error.messages]}
    )
    return ErrorOut(
        detail=[
            ErrorItem(type="invalid", loc=["body", name], msg=message)
            for name, messages in by_field.items()
            for message in messages
        ],
        errors=by_field,
    )


# pydantic's error types, told in the words Django's own catalogs already translate.
_PYDANTIC_MESSAGES: dict[str, str] = {
    "missing": "This field is required.",
    "int_parsing": "Enter a whole number.",
    "int_type": "Enter a whole number.",
    "int_from_float": "Enter a whole number.",
    "float_parsing": "Enter a number.",
    "bool_parsing": "Enter a valid value.",
    "bool_type": "Enter a valid value.",
    "date_parsing": "Enter a valid date.",
    "date_from_datetime_parsing": "Enter a valid date.",
    "date_from_datetime_inexact": "Enter a valid date.",
    "date_type": "Enter a valid date.",
    "time_parsing": "Enter a valid time.",
    "time_type": "Enter a valid time.",
    "datetime_parsing": "Enter a valid date/time.",
    "list_type": "Enter a list of values.",
    "string_type": "Enter a valid value.",
}


def _pydantic_message(item: dict[str, Any]) -> str:
    kind = item.get("type", "")
    ctx = item.get("ctx") or {}
    if kind == "string_too_long":
        return _("Ensure this value has at most %(limit)s characters.") % {
            "limit": ctx.get("max_length")
        }
    if kind in {"greater_than_equal", "greater_than"}:
        return _("Ensure this value is greater than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("ge", ctx.get("gt"))
        }
    if kind in {"less_than_equal", "less_than"}:
        return _("Ensure this value is less than or equal to %(limit_value)s.") % {
            "limit_value": ctx.get("le", ctx.get("lt"))
        }
    if kind in _PYDANTIC_MESSAGES:
        return _(_PYDANTIC_MESSAGES[kind])
    return _("Enter a valid value.")


def _field_of(loc: Iterable[Any]) -> str:
    """The field an error is about: the last name in ``loc`` after the source."""
    names = [str(part) for part in list(loc)[1:] if isinstance(part, str)]
    return names[-1] if names else NON_FIELD_ERRORS


def ninja_validation_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """django-ninja's 422 in the documented shape, with the messages in the caller's
    language."""
    detail = []
    by_field: dict[str, list[str]] = {}
    for item in errors:
        loc = [str(part) for part in item.get("loc", ())] or [NON_FIELD_ERRORS]
        message = _pydantic_message(item)
        detail.append({"type": str(item.get("type", "invalid")), "loc": loc, "msg": message})
        by_field.setdefault(_field_of(item.get("loc", ())), []).append(message)
    return {"detail": detail, "errors": by_field}


# --- bad values at the door ------------------------------------------------------------


class BadValue(Exception):
    """A value no field of the API can hold: a NUL character, an integer beyond 64 bits."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


_DIGITS = re.compile(r"[+-]?\d+")


def _check_text(field: str, value: str) -> None:
    if "\x00" in value:
        raise BadValue(field, _("Text cannot contain the NUL character."))
    if _DIGITS.fullmatch(value.strip()) and abs(int(value)) > MAX_ID:
        raise BadValue(field, _("The number is too large."))


def _check(field: str, value: Any) -> None:
    if isinstance(value, str):
        _check_text(field, value)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int | float) and abs(value) > MAX_ID:
        raise BadValue(field, _("The number is too large."))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(str(key), str(key))
            _check(str(key), item)
    elif isinstance(value, list):
        for item in value:
            _check(field, item)


class CheckedParser(Parser):
    """Reads JSON bodies, query strings and forms, and refuses values no database column
    can hold (NUL characters, integers beyond 64 bits) before any code sees them."""

    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body)
        _check(NON_FIELD_ERRORS, data)
        return data

    def parse_querydict(
        self, data: MultiValueDict, list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        for key, value in parsed.items():
            _check(key, value)
        return parsed


# --- exception handlers ----------------------------------------------------------------


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, BadValue):
        return error_response(400, cause.message, field=cause.field, type_="bad_value")
    message = str(exc.message)
    if message in _NINJA_MESSAGES:
        message = ""
    response = error_response(exc.status_code, message)
    if isinstance(exc, Throttled) and exc.wait:
        response["Retry-After"] = str(int(exc.wait))
    return response


def install_error_handlers(api: Any) -> None:
    """Every error django-ninja or our code raises answers in the documented shape."""

    @api.exception_handler(NinjaValidationError)
    def _ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return JsonResponse(ninja_validation_body(list(exc.errors)), status=422)

    @api.exception_handler(BadValue)
    def _bad_value(request: HttpRequest, exc: BadValue) -> HttpResponse:
        return error_response(400, exc.message, field=exc.field, type_="bad_value")

    @api.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return JsonResponse(validation_errors(exc).dict(), status=422)

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404)

    @api.exception_handler(PermissionDenied)
    def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(404)

    api.exception_handler(HttpError)(_http_error)


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
