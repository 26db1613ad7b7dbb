"""Reading a command line the way ``sh`` does: words, quotes, escapes, pipes and heredocs.

Only the part of the shell grammar a learner types at a Kubernetes prompt: words split on
blanks, single quotes (everything literal), double quotes (``\\"`` and ``\\\\`` escaped),
backslash escapes outside quotes, ``|`` between commands, ``;`` and ``&&`` between pipelines,
``#`` comments, and ``<<EOF`` heredocs whose lines follow the command. Nothing is expanded
(no ``$VAR``, no globs, no command substitution) and nothing is ever executed: the words
go to the interpreter's own commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OPERATORS = ("&&", "||", "|", ";", "<<-", "<<", ">>", ">", "<")
#: Redirections of stderr, read only at the start of a word (``2>&1``, ``2>/dev/null``).
FD_OPERATORS = ("2>&1", "2>")


class ShellSyntaxError(ValueError):
    """What ``sh`` reports for a line it cannot read, e.g. an unterminated quote."""


@dataclass
class Command:
    """One simple command: its words, and the text a heredoc or ``<`` gives its stdin."""

    argv: list[str]
    stdin: str | None = None
    heredoc: str | None = None  # the delimiter word, until its lines are read
    drop_stdout: bool = False  # > /dev/null
    drop_stderr: bool = False  # 2> /dev/null
    stderr_to_stdout: bool = False  # 2>&1


@dataclass
class Pipeline:
    """Commands joined by ``|``; ``then`` says how the next pipeline follows (``;``, ``&&``)."""

    commands: list[Command] = field(default_factory=list)
    then: str = ";"


def tokenize(line: str) -> list[str | tuple[str]]:
    """Split one line into words (str) and operators (1-tuples), as ``sh`` reads it.

    >>> tokenize("kubectl get pods -l 'app=web' | grep Running")
    ['kubectl', 'get', 'pods', '-l', 'app=web', ('|',), 'grep', 'Running']
    >>> tokenize('echo "a \\\\"b\\\\"" c\\\\ d # comment')
    ['echo', 'a "b"', 'c d']
    >>> tokenize("cat <<EOF")
    ['cat', ('<<',), 'EOF']
    >>> tokenize("echo 'open")
    Traceback (most recent call last):
    ...
    app.terminal.shell.ShellSyntaxError: sh: syntax error: unterminated quoted string
    """
    tokens: list[str | tuple[str]] = []
    word: list[str] = []
    in_word = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch in " \t":
            if in_word:
                tokens.append("".join(word))
                word, in_word = [], False
            i += 1
            continue
        if ch == "#" and not in_word:
            break
        operators = OPERATORS if in_word else FD_OPERATORS + OPERATORS
        operator = next((op for op in operators if line.startswith(op, i)), None)
        if operator:
            if in_word:
                tokens.append("".join(word))
                word, in_word = [], False
            tokens.append((operator,))
            i += len(operator)
            continue
        in_word = True
        if ch == "\\":
            if i + 1 < len(line):
                word.append(line[i + 1])
            i += 2
        elif ch == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("sh: syntax error: unterminated quoted string")
            word.append(line[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i += 1
            while i < len(line) and line[i] != '"':
                if line[i] == "\\" and i + 1 < len(line) and line[i + 1] in '"\\$`':
                    i += 1
                word.append(line[i])
                i += 1
            if i >= len(line):
                raise ShellSyntaxError("sh: syntax error: unterminated quoted string")
            i += 1
        else:
            word.append(ch)
            i += 1
    if in_word:
        tokens.append("".join(word))
    return tokens


def command_words(text: str) -> list[list[str]]:
    """The words of every command in ``text``, in order; none when it does not parse (what
    the page reads to choose how to run a line, before running it).

    >>> command_words("kubectl get pods | head -n 2; hostname")
    [['kubectl', 'get', 'pods'], ['head', '-n', '2'], ['hostname']]
    >>> command_words("echo 'open")
    []
    """
    try:
        pipelines = parse(text)
    except ShellSyntaxError:
        return []
    return [command.argv for pipeline in pipelines for command in pipeline.commands]


def parse(text: str) -> list[Pipeline]:
    """Every pipeline in ``text`` (one or more lines), heredoc bodies read from the lines
    after the command that opens them.

    >>> [[c.argv for c in p.commands] for p in parse("kubectl get pods | head -n 2; hostname")]
    [[['kubectl', 'get', 'pods'], ['head', '-n', '2']], [['hostname']]]
    >>> p = parse("kubectl apply -f - <<EOF\\nkind: Pod\\nEOF\\nhostname")
    >>> p[0].commands[0].stdin, p[1].commands[0].argv
    ('kind: Pod\\n', ['hostname'])
    >>> parse("kubectl apply -f -\\nkind: Pod\\nmetadata: {name: a}")[0].commands[0].stdin
    'kind: Pod\\nmetadata: {name: a}\\n'
    >>> parse("ls |")
    Traceback (most recent call last):
    ...
    app.terminal.shell.ShellSyntaxError: sh: syntax error: unexpected end of file
    """
    pipelines: list[Pipeline] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        found = _pipelines(tokenize(lines[i]))
        i += 1
        for pipeline in found:
            for command in pipeline.commands:
                if command.heredoc is None:
                    continue
                body, i = _heredoc(lines, i, command.heredoc)
                command.stdin, command.heredoc = body, None
        pipelines.extend(found)
        last = found[-1].commands[-1] if found else None
        if last is not None and last.stdin is None and _reads_stdin(last.argv) and i < len(lines):
            # Pasted manifests after `kubectl apply -f -`: kubectl reads them up to the end.
            last.stdin = "".join(f"{line}\n" for line in lines[i:])
            break
    return pipelines


def _reads_stdin(argv: list[str]) -> bool:
    """``kubectl apply|create -f -``: a command that reads its manifests from stdin.

    >>> _reads_stdin(["kubectl", "apply", "-f", "-"]), _reads_stdin(["kubectl", "get", "pods"])
    (True, False)
    """
    return (
        argv[:1] in (["kubectl"], ["k"])
        and any(verb in argv[1:3] for verb in ("apply", "create"))
        and any(
            f"{flag}{sep}-" in " ".join(argv) for flag in ("-f", "--filename") for sep in (" ", "=")
        )
    )


def _heredoc(lines: list[str], start: int, delimiter: str) -> tuple[str, int]:
    body: list[str] = []
    i = start
    while i < len(lines):
        if lines[i].strip() == delimiter:
            return "".join(f"{line}\n" for line in body), i + 1
        body.append(lines[i])
        i += 1
    # sh warns and uses what there is: "here-document delimited by end-of-file"
    return "".join(f"{line}\n" for line in body), i


def _pipelines(tokens: list[str | tuple[str]]) -> list[Pipeline]:
    pipelines: list[Pipeline] = []
    pipeline = Pipeline()
    command = Command([])
    expect_word: str | None = None  # the operator waiting for its word (<<, <, >)
    for token in tokens:
        if isinstance(token, str):
            if expect_word in ("<<", "<<-"):
                command.heredoc = token
            elif expect_word in (">", ">>", "2>") and token == "/dev/null":
                if expect_word == "2>":
                    command.drop_stderr = True
                else:
                    command.drop_stdout = True
            elif expect_word == "<":
                raise ShellSyntaxError(f"sh: can't open {token}: no such file")
            elif expect_word in (">", ">>", "2>"):
                raise ShellSyntaxError(f"sh: can't create {token}: Read-only file system")
            else:
                command.argv.append(token)
            expect_word = None
            continue
        operator = token[0]
        if expect_word:
            raise ShellSyntaxError(f'sh: syntax error: unexpected "{operator}"')
        if operator == "2>&1":
            command.stderr_to_stdout = True
            continue
        if operator in ("<<", "<<-", "<", ">", ">>", "2>"):
            expect_word = operator
            continue
        if not command.argv:
            raise ShellSyntaxError(f'sh: syntax error: unexpected "{operator}"')
        pipeline.commands.append(command)
        command = Command([])
        if operator != "|":
            pipeline.then = operator
            pipelines.append(pipeline)
            pipeline = Pipeline()
    if expect_word:
        raise ShellSyntaxError("sh: syntax error: unexpected newline")
    if command.argv:
        pipeline.commands.append(command)
    elif pipeline.commands:
        raise ShellSyntaxError("sh: syntax error: unexpected end of file")
    if pipeline.commands:
        pipelines.append(pipeline)
    return pipelines
