"""The Trace tab's request fields as the browser sends them: the HTTP method from a select,
the request headers from a textarea (one ``Name: value`` per line, as curl's ``-H`` takes
them). The domain (:func:`app.network.targets.check_request`) checks names and values; this
only reads the lines."""

from __future__ import annotations

from app.errors import FieldError, InvalidObjects

#: The methods the Trace tab offers (RFC 9110's, less CONNECT and TRACE).
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


def header_lines(text: str) -> dict[str, str]:
    """Request headers from a textarea: one ``Name: value`` per line, blank lines skipped.

    A header given twice keeps its last value (a trace carries one value per name).

    Parameters
    ----------
    text : str
        What the learner typed.

    Returns
    -------
    dict
        Header name → value, in the order typed.

    Raises
    ------
    InvalidObjects
        (422) naming ``headers`` and every line that is not ``Name: value``.

    Examples
    --------
    >>> header_lines("X-Env: canary\\n\\nAccept: text/html")
    {'X-Env': 'canary', 'Accept': 'text/html'}
    >>> try:
    ...     header_lines("X-Env canary")
    ... except InvalidObjects as error:
    ...     print(error.errors[0].describe())
    headers: Invalid value: "X-Env canary": line 1 is not a header: write one per line as Name: value (X-Env: canary)
    """
    headers: dict[str, str] = {}
    errors = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            errors.append(
                FieldError(
                    "headers",
                    f'Invalid value: "{line.strip()[:80]}": line {number} is not a header: '
                    "write one per line as Name: value (X-Env: canary)",
                )
            )
            continue
        headers[name.strip()] = value.strip()
    if errors:
        raise InvalidObjects("the request headers are invalid", errors)
    return headers


__all__ = ["METHODS", "header_lines"]
