"""An ``argparse.ArgumentParser`` that helps: "did you mean" for misspelt subcommands and
flags, and a bad flag reported with its own subcommand's usage (not the top-level one).

Every error still exits with status 2 and no traceback (argparse's ``error``).
"""

from __future__ import annotations

import argparse
import re

from ..errors import did_you_mean

_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)$")


class HelpfulParser(argparse.ArgumentParser):
    """:class:`argparse.ArgumentParser` with hints; subparsers inherit the class."""

    def _subcommands(self) -> dict:
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                return dict(action.choices)
        return {}

    def _flags(self) -> list[str]:
        return [s for a in self._actions for s in a.option_strings if s.startswith("--")]

    def error(self, message: str):
        m = _CHOICE.search(message)
        if m:
            choices = [c.strip().strip("'") for c in m.group(2).split(",")]
            hint = did_you_mean(m.group(1), choices)
            if hint:
                message = f"{message}; {hint}"
        super().error(message)

    def unrecognized(self, extras: list[str]):
        """Report ``extras`` (unknown arguments) with hints from this parser's flags."""
        hints = []
        for token in extras:
            if token.startswith("-"):
                hint = did_you_mean(token.split("=", 1)[0], self._flags())
                if hint:
                    hints.append(f"{token}: {hint}")
        message = "unrecognized arguments: " + " ".join(extras)
        if hints:
            message += " (" + "; ".join(hints) + ")"
        self.error(message)

    def parse_args(self, args=None, namespace=None):
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            sub = self._subcommands().get(getattr(parsed, "command", None))
            (sub if isinstance(sub, HelpfulParser) else self).unrecognized(extras)
        return parsed
