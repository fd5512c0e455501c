"""Procedo's built-in node types: one self-describing module each.

Each module declares ``NODE``, a :class:`procedo.nodetypes.NodeType`, and is
registered in the ``procedo.nodes`` entry-point group in pyproject.toml. See
docs/node-types.md for how to add one.
"""
