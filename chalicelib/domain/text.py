"""Texts a member types, as their JSON Schema says them.

Pydantic strips a text (`str_strip_whitespace`, `strip_whitespace`) of the Unicode White_Space
characters before checking its length, so a text made of spaces is an empty one. A published
`minLength` is checked before any stripping: the schema says "not blank" with `NOT_BLANK`, the
pattern of a text holding one character that stripping keeps (a JSON Schema pattern matches
anywhere in the text). Checked by pydantic too, after stripping: the same rule in both places.
"""

from __future__ import annotations

# Unicode White_Space, what pydantic-core strips (ECMA-262's `\s` differs: it takes U+FEFF and
# leaves U+0085), spelled out so that the published pattern means the same to every reader.
WHITE_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"[^{WHITE_SPACE}]"
