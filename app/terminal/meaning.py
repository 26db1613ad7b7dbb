"""What a command means, so that two spellings of one command compare equal: a lesson's
"run ``kubectl get endpointslices -l kubernetes.io/service-name=web``" is met by
``kubectl get endpointslice --selector=kubernetes.io/service-name=web -n default``.

Both lines are read with the terminal's own parser (:mod:`app.terminal.shell`: quoting does not
count) and kubectl's words with its own flags (:mod:`app.terminal.kubectl_args`): flags in any
order, ``-l x`` = ``--selector=x`` = ``-lx``, ``svc`` = ``service`` = ``services``,
``svc web`` = ``svc/web``, a selector's terms in any order, ``-n default`` the same as no
namespace, ``k`` the same as ``kubectl``. ``kubectl exec POD -- CMD`` means CMD run in the pod.
Other commands (``curl``, ``nslookup``, ``iptables-save``) mean their words, with the options
(words starting with ``-`` or ``+``) in any order.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from app.terminal.kubectl_args import parse_args, resolve_kind, selector_from_text
from app.terminal.shell import ShellSyntaxError, parse, tokenize

#: kubectl's short flags and the long ones they stand for.
LONG = {
    "-n": "--namespace",
    "-l": "--selector",
    "-o": "--output",
    "-A": "--all-namespaces",
    "-f": "--filename",
    "-c": "--container",
    "-i": "--stdin",
    "-t": "--tty",
    "-w": "--watch",
    "-p": "--patch",
}
#: Flags that change only how kubectl prints what it got: a learner may add them to a command a
#: lesson asks for (``-o wide`` shows the same objects) unless the lesson names them.
PRINTING = frozenset({"--output", "--show-labels", "--no-headers"})
SHELLS = ("sh", "bash", "ash", "/bin/sh", "/bin/bash", "/bin/ash")


@dataclass(frozen=True)
class Meaning:
    """One command as it compares: the program, where it ran (``cluster``,
    ``pod/<ns>/<name>``, ``node/<name>``), its operands in order (kubectl's resources as
    ``(kind, name)`` pairs, sorted) and its flags or options."""

    program: str
    where: str
    operands: tuple = ()
    flags: dict[str, str] = field(default_factory=dict)
    #: the flags' values as written (a selector's own spelling), for messages
    written: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def key(self) -> tuple:
        return (self.program, self.where, self.operands, tuple(sorted(self.flags.items())))


def words_of(line: str) -> list[str]:
    """A one-command line's words as the shell reads them.

    >>> words_of("kubectl get pods -l 'app=web'")
    ['kubectl', 'get', 'pods', '-l', 'app=web']
    >>> words_of("kubectl get pods | grep web")
    Traceback (most recent call last):
    ...
    ValueError: not one command: kubectl get pods | grep web
    """
    try:
        pipelines = parse(line)
    except ShellSyntaxError as error:
        raise ValueError(f"{line}: {error}") from None
    if len(pipelines) != 1 or len(pipelines[0].commands) != 1:
        raise ValueError(f"not one command: {line}")
    return pipelines[0].commands[0].argv


def meaning(argv: list[str], where: str = "cluster") -> Meaning:
    """What ``argv`` run at ``where`` means.

    >>> meaning(["k", "get", "svc", "web", "-n", "default"])
    Meaning(program='kubectl', where='cluster', operands=('get', ('Service', 'web')), flags={})
    >>> meaning(["kubectl", "exec", "-it", "client", "--", "sh", "-c", "nslookup web"]).key()
    ('nslookup', 'pod/default/client', ('web',), ())
    >>> meaning(["curl", "-v", "http://web/"], "pod/default/client").flags
    {'-v': ''}
    """
    if not argv:
        return Meaning("", where)
    program, args = argv[0], argv[1:]
    if program not in ("kubectl", "k"):
        return _other(program, args, where)
    parsed = parse_args(args)
    flags = {LONG.get(name, name): value for name, value in parsed.flags.items()}
    if flags.get("--namespace") == "default":
        del flags["--namespace"]
    written = dict(flags)
    if "--selector" in flags:
        flags["--selector"] = _selector(flags["--selector"])
    verb, rest = (parsed.words[0], parsed.words[1:]) if parsed.words else ("", [])
    if verb == "exec" and rest and parsed.after_dash:
        inside = _exec_target(rest[0], flags.get("--namespace", "default"))
        if inside is not None:
            command = parsed.after_dash
            if command[0] in SHELLS and command[1:2] == ["-c"] and len(command) > 2:
                command = [w for w in tokenize(command[2]) if isinstance(w, str)]
            if command and not (command[0] in SHELLS and len(command) == 1):
                return meaning(command, inside)
    if verb == "exec" and rest and "/" in rest[0]:  # ds/cilium = daemonset/cilium
        type_, _, name = rest[0].partition("/")
        rest = [f"{_kind(type_)}/{name}", *rest[1:]]
    operands: tuple = (verb, *_resources(rest)) if verb in _RESOURCE_VERBS else (verb, *rest)
    if parsed.after_dash:
        operands = (*operands, "--", *parsed.after_dash)
    return Meaning("kubectl", where, operands, flags, written)


#: kubectl verbs whose words are ``TYPE[,TYPE] [NAME…]`` or ``TYPE/NAME…``.
_RESOURCE_VERBS = frozenset({"get", "describe", "delete", "label", "annotate", "scale"})


def _resources(words: list[str]) -> tuple:
    """``svc web`` and ``service/web`` as ``(("Service", "web"),)``; ``pods,svc`` as both
    kinds with no name. Labels (``app=web``) given to ``kubectl label`` stay words."""
    names = [w for w in words if "=" not in w and not w.endswith("-")]
    extra = tuple(w for w in words if w not in names)
    if not names:
        return extra
    if "/" in names[0]:
        pairs = {(_kind(w.partition("/")[0]), w.partition("/")[2]) for w in names}
    else:
        kinds = {_kind(t) for t in names[0].split(",") if t}
        pairs = {(k, n) for k in kinds for n in names[1:]} or {(k, "") for k in kinds}
    return (*sorted(pairs), *extra)


def _kind(text: str) -> str:
    return resolve_kind(text) or text.lower()


def _selector(text: str) -> str:
    """A label selector written one way for all its spellings.

    >>> _selector("tier!=db, app==web") == _selector("app=web,tier!=db")
    True
    """
    parsed = selector_from_text(text)
    if parsed is None:
        return text
    terms = [f"{k}={v}" for k, v in parsed["matchLabels"].items()]
    for e in parsed.get("matchExpressions", []):
        terms.append(f"{e['key']} {e['operator']} {','.join(sorted(e.get('values', [])))}")
    return ";".join(sorted(terms))


def _exec_target(target: str, namespace: str) -> str | None:
    """Where ``kubectl exec TARGET`` runs, when it names a pod (``client``, ``pod/client``)."""
    type_, slash, name = target.partition("/")
    if not slash:
        return f"pod/{namespace}/{target}"
    if resolve_kind(type_) == "Pod":
        return f"pod/{namespace}/{name}"
    return None


def _other(program: str, args: list[str], where: str) -> Meaning:
    options = {a: "" for a in args if a.startswith(("-", "+")) and len(a) > 1}
    operands = tuple(a for a in args if a not in options)
    return Meaning(program, where, operands, options)


def same(asked: Meaning, done: Meaning) -> bool:
    """Whether ``done`` (what the learner ran) is the command ``asked`` for: the same meaning,
    where it ran aside (the check says where it must run), with printing flags (``-o wide``,
    ``--show-labels``) allowed where the lesson names none.

    >>> asked = meaning(words_of("kubectl get endpointslices -l kubernetes.io/service-name=web"))
    >>> same(asked, meaning(words_of('kubectl get endpointslice -n default "-lkubernetes.io/service-name=web"')))
    True
    >>> same(asked, meaning(words_of("kubectl get --selector=kubernetes.io/service-name=web -o wide endpointslices.discovery.k8s.io")))
    True
    >>> same(asked, meaning(words_of("kubectl get endpointslices -l kubernetes.io/service-name=web -A")))
    False
    >>> ds = words_of("kubectl -n kube-system exec ds/cilium -- cilium-dbg service list")
    >>> daemonset = words_of("kubectl exec daemonset/cilium -n kube-system -- cilium-dbg service list")
    >>> same(meaning(ds), meaning(daemonset))
    True
    >>> same(meaning(["kubectl", "get", "svc"]), meaning(["kubectl", "get", "services"]))
    True
    """
    if (asked.program, asked.operands) != (done.program, done.operands):
        return False
    extra = {k for k in done.flags if k not in asked.flags and k in PRINTING}
    return asked.flags == {k: v for k, v in done.flags.items() if k not in extra}


def difference(asked: Meaning, done: Meaning) -> str:
    """What differs between a command asked for and one the learner ran, in a few words.

    >>> asked = meaning(words_of("kubectl get endpointslices -l kubernetes.io/service-name=web"))
    >>> difference(asked, meaning(words_of("kubectl get endpointslices")))
    'it has no -l kubernetes.io/service-name=web'
    >>> difference(asked, meaning(words_of("kubectl get endpoints -l kubernetes.io/service-name=web")))
    'it gets endpoints, not endpointslices'
    """
    if asked.program != done.program:
        return f"it runs {done.program or 'nothing'}, not {asked.program}"
    if asked.operands[:1] != done.operands[:1]:
        return f"it is {done.program} {done.operands[0] if done.operands else ''}".rstrip()
    if asked.operands != done.operands:
        return f"it {_verb_words(done)}, not {_verb_words(asked, True)}"
    missing = [k for k in asked.flags if done.flags.get(k) != asked.flags[k]]
    if missing:
        return f"it has no {_flag_words(asked.written, missing[0])}"
    extra = [k for k in done.flags if k not in asked.flags and k not in PRINTING]
    return f"it adds {extra[0]}" if extra else "it is another command"


def _verb_words(m: Meaning, bare: bool = False) -> str:
    words = [str(w) if not isinstance(w, tuple) else _original(w) for w in m.operands]
    text = " ".join(w for w in words if w)
    return text.split(" ", 1)[-1] if bare and m.operands[0] in _RESOURCE_VERBS else _verb(text)


def _verb(text: str) -> str:
    verb, _, rest = text.partition(" ")
    return {"get": "gets", "describe": "describes", "delete": "deletes"}.get(verb, verb) + (
        f" {rest}" if rest else ""
    )


def _original(pair: tuple) -> str:
    kind, name = pair
    word = {"EndpointSlice": "endpointslices", "Endpoints": "endpoints"}.get(
        kind, kind.lower() + "s" if kind[:1].isupper() else kind
    )
    return f"{word}/{name}" if name else word


def _flag_words(flags: dict[str, str], name: str) -> str:
    short = {v: k for k, v in LONG.items()}.get(name, name)
    value = flags.get(name, "")
    return f"{short} {value}" if value not in ("", "true") else short


def command_text(argv: list[str]) -> str:
    """``argv`` as a line to type (quoted where the shell needs it).

    >>> command_text(["kubectl", "get", "pods", "-l", "app=web"])
    'kubectl get pods -l app=web'
    """
    return shlex.join(argv)
