"""How strong a secret key is: an estimate for refusing weak production keys.

``ASPIRASI_SECRET_KEY`` derives the keys that encrypt NIKs, so a guessable one
(``aaaa…``, a word repeated) gives every NIK away to whoever guesses it. Length
alone does not tell: :func:`estimate_key_bits` estimates the guessing work from
the characters that carry information and the alphabet they come from.
"""

from __future__ import annotations

import math
import string

#: The least estimated strength of a production secret key. Below NIST's 112-bit
#: minimum security strength on purpose: the estimate drops characters that
#: happen to form a run or a repeat, so a random key of 32 hex digits (128 bits)
#: scores 104-128 and must still pass.
MIN_SECRET_KEY_BITS = 100
KEY_RECIPE = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
#: Character classes and their sizes, for :func:`estimate_key_bits`.
_HEX = frozenset(string.hexdigits)
_CLASSES = (
    (frozenset(string.ascii_lowercase), 26),
    (frozenset(string.ascii_uppercase), 26),
    (frozenset(string.digits), 10),
    (frozenset(string.punctuation + " "), 33),
)
#: A repeat of an earlier part of the key this long or longer adds nothing.
_REPEAT = 4


def estimate_key_bits(key: str) -> float:
    """Estimated strength of a secret key in bits: how much guessing it would take.

    ``(characters that carry information) × log2(alphabet)``, where

    * the alphabet is the smallest one the key's characters fit in: 16 when they
      are all hex digits, else the sum of the classes used (lower case 26, upper
      case 26, digits 10, ASCII punctuation and space 33, anything else 128);
    * a character carries no information when it is the third or later of a run of
      one character (``aaa``) or of neighbouring characters (``abc``, ``321``), or
      lies in a repeat of four or more characters of an earlier part of the key
      (``passwordpassword``).

    A random ``secrets.token_urlsafe(48)`` scores 420, a random key of 32 hex
    digits 104-128, ``"password" * 8`` about 38, ``"ab" * 32`` 8 and ``"a" * 64`` 0.
    """
    if not key:
        return 0.0
    chars = set(key)
    if chars <= _HEX:
        pool = 16
    else:
        pool = sum(size for members, size in _CLASSES if chars & members)
        if any(not ("\x20" <= c <= "\x7e") for c in chars):
            pool += 128
    if len(chars) < 2:
        return 0.0
    counted = 0
    i = 0
    codes = [ord(c) for c in key]
    while i < len(key):
        repeat = _longest_earlier_match(key, i)
        if repeat >= _REPEAT:
            i += repeat
            continue
        if i >= 2 and codes[i] - codes[i - 1] == codes[i - 1] - codes[i - 2] in (-1, 0, 1):
            i += 1
            continue
        counted += 1
        i += 1
    return counted * math.log2(pool)


def _longest_earlier_match(key: str, i: int) -> int:
    """Length of the longest run starting at ``i`` that also starts earlier (it may overlap)."""
    best = 0
    for start in range(i):
        length = 0
        while i + length < len(key) and key[start + length] == key[i + length]:
            length += 1
        best = max(best, length)
    return best
