"""The lab's one way to fail. Library code raises one of these anywhere below __main__; __main__ says it
(str(): the lines to show, a program's own output included) and exits with its code. A fault of the
lab's own (any other exception) is one line there too, its traceback kept in a file."""


class LabError(Exception):
    """A step of the lab failed (a server that stopped, a build that broke): exit 1."""
    code = 1


class SettingError(LabError, ValueError):
    """A value the lab refuses, before anything changed: one line, exit 2."""
    code = 2
