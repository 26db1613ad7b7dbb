"""Name, label and port-name format checks, worded the way apimachinery words them.

Each check returns a list of problems (empty when the value is valid), with the exact
sentences of ``k8s.io/apimachinery/pkg/util/validation``. The second half of the module holds
the small builders that turn a problem into a :class:`~app.errors.FieldError` with the API
server's ``field.Error`` wording (``Invalid value: 80: ...``, ``Required value``, ...).
"""

from __future__ import annotations

import re

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
DNS1035_LABEL_MAX = 63
LABEL_VALUE_MAX = 63
QUALIFIED_NAME_MAX = 63
PORT_NAME_MAX = 15

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _QNAME_FMT + ")?"
_WILDCARD_FMT = "\\*\\." + _DNS1123_SUBDOMAIN_FMT
_PERCENT_FMT = "[0-9]+%"

_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL_RE = re.compile(_DNS1035_LABEL_FMT)
_QNAME_RE = re.compile(_QNAME_FMT)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_WILDCARD_RE = re.compile(_WILDCARD_FMT)
_PERCENT_RE = re.compile(_PERCENT_FMT)
_PORT_NAME_CHARSET_RE = re.compile("[-a-z0-9]+")
_PORT_NAME_LETTER_RE = re.compile(".*[a-z].*")

_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character"
)
_QNAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
_WILDCARD_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
    "alphanumeric character"
)
_PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Build apimachinery's ``RegexError`` sentence.

    Parameters
    ----------
    msg : str
        What the value must look like.
    fmt : str
        The regular expression used for validation.
    *examples : str
        Valid examples.

    Returns
    -------
    str
        ``msg (e.g. 'a',  or 'b', regex used for validation is 'fmt')``.

    Examples
    --------
    >>> regex_error("must be a number", "[0-9]+")
    "must be a number (regex used for validation is '[0-9]+')"
    >>> regex_error("must be a number", "[0-9]+", "1", "2")
    "must be a number (e.g. '1',  or '2', regex used for validation is '[0-9]+')"
    """
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    text = msg + " (e.g. "
    for i, example in enumerate(examples):
        if i:
            text += " or "
        text += f"'{example}', "
    return text + f"regex used for validation is '{fmt}')"


def max_len_error(length: int) -> str:
    """apimachinery's ``MaxLenError``.

    Parameters
    ----------
    length : int
        The maximum length.

    Returns
    -------
    str
        The sentence.

    Examples
    --------
    >>> max_len_error(63)
    'must be no more than 63 characters'
    """
    return f"must be no more than {length} characters"


def dns1123_label(value: str) -> list[str]:
    """Check a lowercase RFC 1123 label (namespace names, container names, port names).

    Parameters
    ----------
    value : str
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> dns1123_label("my-name")
    []
    >>> dns1123_label("My_Name")[0][:35]
    'a lowercase RFC 1123 label must con'
    """
    errs = []
    if len(value) > DNS1123_LABEL_MAX:
        errs.append(max_len_error(DNS1123_LABEL_MAX))
    if not _DNS1123_LABEL_RE.fullmatch(value):
        errs.append(regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    """Check a lowercase RFC 1123 subdomain (most object names, hosts).

    Parameters
    ----------
    value : str
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> dns1123_subdomain("web.example.com")
    []
    >>> len(dns1123_subdomain("-bad"))
    1
    """
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _DNS1123_SUBDOMAIN_RE.fullmatch(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def dns1035_label(value: str) -> list[str]:
    """Check a DNS-1035 label (Service names: they must start with a letter).

    Parameters
    ----------
    value : str
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> dns1035_label("web")
    []
    >>> dns1035_label("1web")[0][:26]
    'a DNS-1035 label must cons'
    """
    errs = []
    if len(value) > DNS1035_LABEL_MAX:
        errs.append(max_len_error(DNS1035_LABEL_MAX))
    if not _DNS1035_LABEL_RE.fullmatch(value):
        errs.append(regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def iana_svc_name(value: str) -> list[str]:
    """Check an IANA_SVC_NAME (container port names, named targetPorts).

    Parameters
    ----------
    value : str
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> iana_svc_name("http")
    []
    >>> iana_svc_name("8080")
    ['must contain at least one letter (a-z)']
    >>> iana_svc_name("my--port")
    ['must not contain consecutive hyphens']
    """
    errs = []
    if len(value) > PORT_NAME_MAX:
        errs.append(max_len_error(PORT_NAME_MAX))
    if not _PORT_NAME_CHARSET_RE.fullmatch(value):
        errs.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_LETTER_RE.fullmatch(value):
        errs.append("must contain at least one letter (a-z)")
    if "--" in value:
        errs.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        errs.append("must not begin or end with a hyphen")
    return errs


def qualified_name(value: str) -> list[str]:
    """Check a qualified name (label and annotation keys): ``[prefix/]name``.

    Parameters
    ----------
    value : str
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> qualified_name("app.kubernetes.io/name")
    []
    >>> qualified_name("/name")
    ['prefix part must be non-empty']
    >>> qualified_name("a/b/c")[0][:40]
    'a qualified name must consist of alphanu'
    """
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > QUALIFIED_NAME_MAX:
        errs.append("name part " + max_len_error(QUALIFIED_NAME_MAX))
    if not _QNAME_RE.fullmatch(name):
        errs.append(
            "name part " + regex_error(_QNAME_MSG, _QNAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def label_value(value: str) -> list[str]:
    """Check a label value (may be empty).

    Parameters
    ----------
    value : str
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> label_value("")
    []
    >>> label_value("-x")[0][:40]
    'a valid label must be an empty string or'
    """
    errs = []
    if len(value) > LABEL_VALUE_MAX:
        errs.append(max_len_error(LABEL_VALUE_MAX))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def wildcard_dns1123_subdomain(value: str) -> list[str]:
    """Check a wildcard DNS-1123 subdomain: ``*.`` then a subdomain (Ingress hosts).

    Parameters
    ----------
    value : str
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> wildcard_dns1123_subdomain("*.example.com")
    []
    >>> len(wildcard_dns1123_subdomain("foo.*.example.com"))
    1
    """
    errs = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _WILDCARD_RE.fullmatch(value):
        errs.append(regex_error(_WILDCARD_MSG, _WILDCARD_FMT, "*.example.com"))
    return errs


def percent(value: str) -> list[str]:
    """Check a percentage string such as ``25%`` (maxSurge, maxUnavailable).

    Parameters
    ----------
    value : str
        The candidate.

    Returns
    -------
    list of str
        The problems; empty when valid.

    Examples
    --------
    >>> percent("25%")
    []
    >>> percent("25")[0][:30]
    'a valid percent string must be'
    """
    if _PERCENT_RE.fullmatch(value):
        return []
    return [regex_error(_PERCENT_MSG, _PERCENT_FMT, "1%", "93%")]


# IP addresses, CIDRs and port numbers live in app/cluster/addresses.py; they are
# re-exported here because the validation modules reach every format check through `names`.
from app.cluster.addresses import (  # noqa: E402
    CIDR_MSG,
    IP_MSG,
    PORT_RANGE_MSG,
    cidr,
    ip_address,
    parse_cidr,
    parse_ip,
    port_number,
)

__all__ = [
    "CIDR_MSG",
    "IP_MSG",
    "PORT_RANGE_MSG",
    "cidr",
    "dns1035_label",
    "dns1123_label",
    "dns1123_subdomain",
    "iana_svc_name",
    "ip_address",
    "label_value",
    "max_len_error",
    "parse_cidr",
    "parse_ip",
    "percent",
    "port_number",
    "qualified_name",
    "regex_error",
    "wildcard_dns1123_subdomain",
]
