"""Hostile playbook files, shared by test_playbook_bombs.py and bench/playbook_bombs.py.

Most end without closing their brackets: a loader that built the tree before checking
would report the broken end ("invalid YAML") instead of the limit, so a test that expects
the limit's message also proves the refusal came from the first part of the file."""

from lbsup.assist.playbook import MAX_PLAYBOOK_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES

TOO_DEEP = f"nested deeper than {MAX_YAML_DEPTH} levels"
TOO_MANY = f"more than {MAX_YAML_NODES} YAML nodes"

# name -> (text, what the refusal must say). Each is about 40 KB, except the small
# anchor ones and the one over the size limit.
BOMBS = {
    "nested brackets": ("workspace: bright-smile\nx: " + "[" * 40_000, TOO_DEEP),
    "nested closed brackets": ("x: " + "[" * 20_000 + "]" * 20_000, TOO_DEEP),
    "nested flow mappings": ("x: " + "{a: " * 10_000, TOO_DEEP),
    "deep block nesting": ("".join(" " * level + "k:\n" for level in range(280)), TOO_DEEP),
    "long flow sequence": ("workspace: bright-smile\nx: [" + "1," * 20_500, TOO_MANY),
    "billion laughs": ("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
                       + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
                                 for p, n in zip("abcdefgh", "bcdefghi")), "YAML anchors (&a) are not allowed"),
    "alias without anchor": ("a: *undefined\n", "YAML aliases (*name) are not allowed"),
    "merge key": ("a: {x: 1}\nb:\n  <<: {y: 2}\n  z: 3\n", "YAML merge keys (<<) are not allowed"),
    "over the size limit": ("workspace: bright-smile\n" + "#" * MAX_PLAYBOOK_BYTES, f"larger than {MAX_PLAYBOOK_BYTES}"),
}
