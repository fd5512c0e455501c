"""Which new passwords to refuse: too short, common, or made of what is known about the user.

Length alone let `aaaaaaaaaaaa`, twelve spaces and the user's own email through.
A guesser tries common passwords (with digits and symbols around them), simple
patterns and what is known about the account (email, name, tenant) first; those
are refused here with a message that says why. The list of common stems is a
small data file (common_passwords.txt) instead of a dependency: what matters most
at 12+ characters is the stem with digits around it, which the rules catch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

MIN_LENGTH = 12
MAX_LENGTH = 200
# Distinct characters below this: `aaaaaaaaaaaa`, `121212121212`, `abababababab`.
MIN_DISTINCT = 5
# Runs a guesser walks: the alphabet, the digits and the keyboard's rows.
_RUNS = (
    "abcdefghijklmnopqrstuvwxyz",
    "012345678901234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "azertyuiop",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)
_UNLEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_NOT_LETTERS = re.compile(r"[\W\d_]+")


class WeakPassword(ValueError):
    """The reason a new password is refused, in words for the person choosing it."""


@cache
def common_stems() -> frozenset[str]:
    text = resources.files("procedo.api").joinpath("common_passwords.txt").read_text("utf-8")
    lines = (line.strip().lower() for line in text.splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def check(password: str, context: Iterable[str] = ()) -> None:
    """Raise WeakPassword unless ``password`` may be set.

    ``context`` is what is known about the account: its email, name, the tenant's
    name and slug. A password is refused when little is left once those are taken out.
    """
    if not password.strip():
        raise WeakPassword("the new password is only spaces; choose one of words or characters")
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the new password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"the new password may have at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if len(set(lowered)) < MIN_DISTINCT:
        raise WeakPassword(
            f"the new password uses fewer than {MIN_DISTINCT} different characters; "
            "a repeated character or pair is guessed first"
        )
    if _repeats_a_piece(lowered) or _is_a_run(lowered):
        raise WeakPassword(
            "the new password is a repeated piece or a run of the alphabet, digits or keyboard"
        )
    if _is_common(lowered):
        raise WeakPassword(
            "the new password is a common password (perhaps with digits or symbols around "
            "it); choose a few unrelated words instead"
        )
    if _is_mostly_context(lowered, context):
        raise WeakPassword(
            "the new password is made of your email, name or the tenant's name; "
            "choose one that has nothing to do with them"
        )


def _repeats_a_piece(text: str) -> bool:
    # `abcabcabcabc`: the text is found again in itself shifted by less than its length.
    return (text + text).find(text, 1) < len(text)


def _is_a_run(text: str) -> bool:
    # `abcdefghijkl`, `123456789012`, `qwertyuiop[]`-like walks: every three in a row are
    # neighbours in a run (either way).
    letters = text.replace(" ", "")
    return all(_in_a_run(letters[i : i + 3]) for i in range(max(1, len(letters) - 2)))


def _in_a_run(piece: str) -> bool:
    return any(piece in run or piece in run[::-1] for run in _RUNS)


def _is_common(lowered: str) -> bool:
    stems = common_stems()
    # Digits and symbols around the stem are cut first, then swaps such as `@` for `a`
    # are undone in what is left (`P@ssw0rd2026!` is `password`).
    cut = _EDGES.sub("", lowered).replace(" ", "")
    for stem in {cut, _EDGES.sub("", cut.translate(_UNLEET))}:
        if not stem or stem in stems or _NOT_LETTERS.sub("", stem) in stems:
            return True
        if any(len(stem) % len(s) == 0 and stem == s * (len(stem) // len(s)) for s in stems):
            return True
    return False


def _is_mostly_context(lowered: str, context: Iterable[str]) -> bool:
    words: set[str] = set()
    for item in context:
        item = item.strip().lower()
        if not item:
            continue
        words.add(item)
        # The email's local part and domain's name, a name's words, a slug's pieces.
        words.update(re.split(r"[@.\s_+-]+", item))
    words = {word for word in words if len(word) >= 3}
    rest = lowered
    for word in sorted(words, key=len, reverse=True):
        rest = rest.replace(word, "")
        rest = rest.replace(word.translate(_UNLEET), "")
    # What is left besides digits and symbols must be a password of its own.
    return len(_NOT_LETTERS.sub("", rest)) < MIN_LENGTH // 2 and len(rest) < len(lowered)
