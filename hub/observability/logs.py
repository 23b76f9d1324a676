"""The hub's log lines: structured, carrying the request's context, scrubbed of personal data.

``configure`` routes everything (the hub's own loggers, uvicorn, SQLAlchemy, saq, Python
warnings) through one chain of structlog processors and one handler: JSON lines in
production, readable lines in development (``HUB_LOG_FORMAT`` forces either). Each line
of a request carries its ``request_id``, the client's name and kind, the purpose and the
operation; the door adds one access line per request with its outcome and duration
(``hub.observability.requests``).

Scrubbing happens twice, so that no handler can write a personal value raw: every log
record is scrubbed as it is created (``install_scrubbing``: its message and traceback),
whoever then formats it (pytest's capture, a handler someone added), and the processor
chain scrubs structured values and the rendered traceback again before a line is written.
What is removed: anything shaped like a citizen ID number (18 characters, or the old 15
digits), a mobile or landline phone number, and the values of name fields (``name``,
``full_name``, ``姓名`` ...). The hub's own ids (request and trace ids) are kept.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from hub.observability import context

LogFormat = Literal["json", "console"]

ID_NUMBER = "[id-number]"
PHONE = "[phone]"
NAME = "[name]"

# ASCII digits only, as ID numbers are checked (adapters/idnumber.py). A digit may not
# stand either side, so a longer number is not cut into a false match; a letter may (an
# ID number pasted into an operation name is still found).
_PERSONAL = re.compile(
    r"(?P<id>(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])|(?<![0-9])[0-9]{15}(?![0-9]))"
    r"|(?P<phone>"
    # mobile: 1[3-9] and nine digits, with +86 and 3-4-4 separators allowed
    r"(?<![0-9])(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}(?![0-9])"
    # landline: area code from 0 (in brackets or not) and 7-8 digits; not after a point,
    # where 0 and digits are a decimal fraction
    r"|(?<![0-9.])(?:\(0[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2})[- ]?[0-9]{7,8}(?![0-9])"
    r")"
)
_NAME_KEYS = (
    r"name|names|full[_-]?name|first[_-]?name|last[_-]?name|given[_-]?name|family[_-]?name"
    r"|sur[_-]?name|person[_-]?name|member[_-]?name|applicant[_-]?name|guardian[_-]?name"
    r"|contact[_-]?name|holder[_-]?name|beneficiary[_-]?name|xm|姓名|名字|联系人"
)
# ``name: 张三``, ``"full_name": "张三"``, ``姓名：张三``, ``name='张三'`` in free text.
_NAME_IN_TEXT = re.compile(
    rf"(?P<key>(?<![A-Za-z0-9_])(?P<q>[\"']?)(?:{_NAME_KEYS})(?P=q)\s*[:=：]\s*)"
    r"(?:\"[^\"]*\"|'[^']*'|[^\s,;)\]}，。；、）】」]+)",
    re.IGNORECASE,
)
_NAME_HINT = re.compile(r"name|xm|姓名|名字|联系人", re.IGNORECASE)
_NAME_FIELD = re.compile(rf"(?:{_NAME_KEYS})", re.IGNORECASE)

# Fields that hold the hub's own identifiers and words: never personal, never altered.
_KEPT_FIELDS = frozenset(
    {"timestamp", "level", "logger", "request_id", "trace_id", "span_id", "client_kind"}
)


def _replace(match: re.Match[str]) -> str:
    return ID_NUMBER if match.group("id") else PHONE


def scrub_text(text: str, keep: Iterable[str] = ()) -> str:
    """``text`` without ID numbers, phone numbers and the values of name fields; the
    strings in ``keep`` (the hub's own hex ids) pass untouched wherever they stand."""
    kept = [k for k in keep if k and k in text]
    for i, k in enumerate(kept):
        text = text.replace(k, f"\x00{chr(0xE000 + i)}\x00")
    text = _PERSONAL.sub(_replace, text)
    if _NAME_HINT.search(text):  # most lines name no name field: skip the long pattern
        text = _NAME_IN_TEXT.sub(lambda m: m.group("key") + NAME, text)
    for i, k in enumerate(kept):
        text = text.replace(f"\x00{chr(0xE000 + i)}\x00", k)
    return text


def is_name_field(key: object) -> bool:
    return isinstance(key, str) and _NAME_FIELD.fullmatch(key) is not None


def scrub_value(value: Any, keep: Iterable[str] = ()) -> Any:
    """A value of a log line with everything personal removed (containers walked)."""
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, str):
        return scrub_text(value, keep)
    if isinstance(value, int):
        text = str(value)
        return value if len(text) < 7 else _int_or_text(value, scrub_text(text))
    if isinstance(value, Mapping):
        return {k: (NAME if is_name_field(k) else scrub_value(v, keep)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub_value(v, keep) for v in value]
    return scrub_text(str(value), keep)


def _int_or_text(value: int, scrubbed: str) -> int | str:
    return value if scrubbed == str(value) else scrubbed


def _own_ids(values: Mapping[str, Any]) -> list[str]:
    ids = [values.get("request_id"), values.get("trace_id"), values.get("span_id")]
    info = context.current()
    if info is not None:
        ids.append(info.request_id)
    return [i for i in ids if isinstance(i, str)]


def scrub(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """The processor: every value but the hub's own ids, the message and the rendered
    traceback (``exception``) included; the values of name fields are replaced whole."""
    # uvicorn's copy of its message with terminal colours: the message itself is there.
    event_dict.pop("color_message", None)
    keep = _own_ids(event_dict)
    for key, value in event_dict.items():
        if key in _KEPT_FIELDS:
            continue
        event_dict[key] = NAME if is_name_field(key) else scrub_value(value, keep)
    return event_dict


def add_request(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """The request's context: its id, who asks, why, and the operation once known."""
    info = context.current()
    if info is None:
        return event_dict
    event_dict.setdefault("request_id", info.request_id)
    principal = info.principal
    if principal is not None:
        event_dict.setdefault("client", principal.client_name)
        event_dict.setdefault("client_kind", principal.kind.value)
        event_dict.setdefault("purpose", principal.purpose.value)
    if info.operation is not None:
        event_dict.setdefault("operation", info.operation)
    return event_dict


def add_trace(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """The active span's trace and span ids, so that a line leads to its trace."""
    from hub.observability import tracing

    ids = tracing.current_ids()
    if ids is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


def _render_json(_: WrappedLogger, __: str, event_dict: EventDict) -> str:
    return orjson.dumps(event_dict, default=str).decode()


_HANDLER_NAME = "hub"
_QUIET = {
    # A line per department call would drown the log and carry URLs; keep warnings.
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "alembic.runtime.plugins": logging.WARNING,
    # Statement parameters (ID numbers among them) at debug level.
    "aiosqlite": logging.WARNING,
    # uvicorn's access line would repeat the hub's own, without its context.
    "uvicorn.access": logging.WARNING,
}


def log_format(*, development: bool, forced: LogFormat | None) -> LogFormat:
    """JSON lines in production, readable ones in development, unless forced."""
    if forced is not None:
        return forced
    return "console" if development else "json"


def _shared() -> list[Processor]:
    """What every line gets, the hub's own (structlog) and everyone else's (stdlib)."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        add_request,
        add_trace,
    ]


def install() -> None:
    """Scrub every record, and send structlog's lines into the stdlib's logging (where
    ``configure``'s handler, or any other, writes them). Idempotent; ``create_app`` calls
    it, so that an app in a test logs like one served, to whatever handlers there are."""
    install_scrubbing()
    if structlog.is_configured():
        return
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure(fmt: LogFormat, *, level: int = logging.INFO, stream: Any = None) -> None:
    """Send every log line of the process through the hub's processors to ``stream``
    (stderr by default). Safe to call again: the hub's handler is replaced, not added."""
    install()
    renderer: Processor = (
        _render_json
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_plain)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            scrub,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(level if level <= logging.DEBUG else quiet)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers (when it configured any) would write unscrubbed lines.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.captureWarnings(True)


def _plain(sio: Any, exc_info: Any) -> None:
    # The traceback is already text (format_exc_info) by the time the renderer runs.
    traceback.print_exception(*exc_info, file=sio)


# -- scrubbing at the source: every record, whoever formats it --------------------------

_previous_factory: Any = None


def install_scrubbing() -> None:
    """Scrub every log record of the process as it is created (idempotent)."""
    global _previous_factory
    if _previous_factory is not None:
        return
    _previous_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_scrubbed_record)


def _scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record: logging.LogRecord = _previous_factory(*args, **kwargs)
    try:
        _scrub_record(record)
    except Exception:  # a record that cannot be formatted is left to logging to report
        record.msg, record.args = "(a log line that could not be formatted)", None
    return record


def _scrub_record(record: logging.LogRecord) -> None:
    keep = _own_ids({})
    if isinstance(record.msg, dict):
        # structlog's own lines: the event dict, scrubbed again when rendered. An exception
        # in it becomes its traceback as scrubbed text here: any handler that writes the
        # dict as it is (pytest's capture, say) would write the exception's message raw.
        event = dict(record.msg)
        exception = _traceback_text(event.pop("exc_info", None))
        if exception is not None:
            event["exception"] = exception
        record.msg = {k: v if k in _KEPT_FIELDS else scrub_value(v, keep) for k, v in event.items()}
    else:
        message = record.getMessage()
        clean = scrub_text(message, keep)
        if clean != message:
            record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters use exc_text when it is set: the traceback, already scrubbed.
        text = "".join(traceback.format_exception(*record.exc_info))
        record.exc_text = scrub_text(text.rstrip("\n"), keep)


def _traceback_text(exc_info: Any) -> str | None:
    """The traceback ``exc_info`` names (as logging and structlog take it), as text."""
    if isinstance(exc_info, BaseException):
        found: Any = (type(exc_info), exc_info, exc_info.__traceback__)
    elif isinstance(exc_info, tuple):
        found = exc_info
    elif exc_info:
        found = sys.exc_info()
    else:
        return None
    if found[0] is None:
        return None
    return "".join(traceback.format_exception(*found)).rstrip("\n")


def get_logger(name: str) -> Any:
    """A structlog logger (key-value lines) on the stdlib logger ``name``."""
    return structlog.stdlib.get_logger(name)


__all__ = [
    "add_request",
    "add_trace",
    "configure",
    "get_logger",
    "install",
    "install_scrubbing",
    "log_format",
    "scrub",
    "scrub_text",
    "scrub_value",
]
