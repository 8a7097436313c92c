"""kvdiff library: source access, parsing, branch rules, diffs and the reference model.

Data flows one way: source -> parse -> analyze -> model -> render. Each stage takes the
previous stage's dataclasses and never reaches back into it.
"""
